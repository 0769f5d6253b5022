from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("facility", "0004_audit_no_truncate"),
    ]

    operations = [
        migrations.AddField(
            model_name="facility",
            name="shift_pattern",
            field=models.CharField(
                choices=[
                    ("8h", "Three 8-hour shifts: 07–15, 15–23, 23–07"),
                    ("12h", "Two 12-hour shifts: 07–19, 19–07"),
                ],
                default="8h",
                help_text="The MAR shift view, shift-change counts and security rounds follow it.",
                max_length=8,
            ),
        ),
    ]
