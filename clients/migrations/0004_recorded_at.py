# Server time of charting on every entry that can be back-dated (DESIGN.md §2, issue 8). Rows
# charted before this migration get the time they give: nothing better is known about them.

import django.utils.timezone
from django.db import migrations, models

BACKFILL = """
UPDATE clients_admission SET recorded_at = admitted_at;
UPDATE clients_admission SET discharge_recorded_at = discharged_at
    WHERE discharged_at IS NOT NULL;
UPDATE clients_bedmove SET recorded_at = moved_at;
UPDATE clients_leave SET recorded_at = left_at;
UPDATE clients_leave SET returned_recorded_at = returned_at WHERE returned_at IS NOT NULL;
"""


def server_time(**kwargs):
    return models.DateTimeField(default=django.utils.timezone.now, editable=False, **kwargs)


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0003_client_photo_random_names"),
    ]

    operations = [
        migrations.AddField("admission", "recorded_at", server_time(null=True)),
        migrations.AddField(
            "admission",
            "discharge_recorded_at",
            models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField("bedmove", "recorded_at", server_time(null=True)),
        migrations.AddField("leave", "recorded_at", server_time(null=True)),
        migrations.AddField(
            "leave",
            "returned_recorded_at",
            models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.AlterField("admission", "recorded_at", server_time()),
        migrations.AlterField("bedmove", "recorded_at", server_time()),
        migrations.AlterField("leave", "recorded_at", server_time()),
    ]
