# Server time of charting on observer hand-offs and security rounds (DESIGN.md §2, issue 8).
# Rows charted before this migration get the time they give: nothing better is known about them.

import django.utils.timezone
from django.db import migrations, models

BACKFILL = """
UPDATE observations_observerassignment SET recorded_at = started_at;
UPDATE observations_securityround SET recorded_at = completed_at;
"""


def server_time(**kwargs):
    return models.DateTimeField(default=django.utils.timezone.now, editable=False, **kwargs)


class Migration(migrations.Migration):
    dependencies = [
        ("observations", "0002_securityarea_securityround_securitycheck_and_more"),
    ]

    operations = [
        migrations.AddField("observerassignment", "recorded_at", server_time(null=True)),
        migrations.AddField("securityround", "recorded_at", server_time(null=True)),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.AlterField("observerassignment", "recorded_at", server_time()),
        migrations.AlterField("securityround", "recorded_at", server_time()),
    ]
