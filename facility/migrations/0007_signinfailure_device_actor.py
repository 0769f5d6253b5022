"""Sign-in failures remember the trusted browser they came from, and co-sign failures the
signed-in person who asked (facility/throttle.py: device cookies, per-pair co-sign counts); the
access log names proven e-mail addresses and failed second-person passwords."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("facility", "0006_capability_permissions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accessevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("view", "Viewed chart"),
                    ("print", "Printed"),
                    ("export", "Exported"),
                    ("login", "Logged in"),
                    ("logout", "Logged out"),
                    ("login_failed", "Failed login"),
                    ("role_change", "Changed role or facilities"),
                    ("deactivate", "Deactivated account"),
                    ("mfa_reset", "Reset MFA"),
                    ("break_glass", "Break the glass"),
                    ("email_proven", "Proved e-mail address"),
                    ("cosign_failed", "Failed second-person password"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="signinfailure",
            name="device",
            field=models.CharField(blank=True, default="", max_length=40),
        ),
        migrations.AddField(
            model_name="signinfailure",
            name="actor_key",
            field=models.CharField(blank=True, default="", max_length=80),
        ),
    ]
