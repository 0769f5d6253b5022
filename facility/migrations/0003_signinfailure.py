from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("facility", "0002_append_only_audit"),
    ]

    operations = [
        migrations.CreateModel(
            name="SignInFailure",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("sign_in", "Sign-in (password or authenticator code)"),
                            ("cosign", "Second-person password"),
                        ],
                        max_length=10,
                    ),
                ),
                ("username_key", models.CharField(max_length=80)),
                ("ip", models.GenericIPAddressField(blank=True, null=True)),
                ("at", models.DateTimeField()),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["kind", "username_key", "at"], name="facility_signin_fail_acct_idx"
                    ),
                    models.Index(fields=["kind", "ip", "at"], name="facility_signin_fail_ip_idx"),
                    models.Index(fields=["at"], name="facility_signin_fail_at_idx"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("kind__in", ["sign_in", "cosign"])),
                        name="facility_signinfailure_kind_valid",
                    )
                ],
            },
        ),
    ]
