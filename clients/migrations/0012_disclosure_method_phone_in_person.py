# A disclosure may be made by telephone (a medication list read to a pharmacist) or in person
# (shown or handed over at the desk): logged as such, not as "Printed". Choices only; no SQL.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0011_issue16_review"),
    ]

    operations = [
        migrations.AlterField(
            model_name="disclosure",
            name="method",
            field=models.CharField(
                choices=[
                    ("print", "Printed"),
                    ("fax", "Fax"),
                    ("email", "E-mail"),
                    ("portal", "Portal"),
                    ("api", "API"),
                    ("phone", "Telephone"),
                    ("in_person", "In person"),
                ],
                max_length=10,
            ),
        ),
    ]
