"""Issue 14 review: passengers dropped off (pass or discharge) or picked up (pass), discharged
while out, and a public id for the passenger URLs (added nullable, filled, then unique and not
null). A leave may now be shared by a drop-off and a later pick-up (foreign key)."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def fill_public_ids(apps, schema_editor):
    TripPassenger = apps.get_model("transport", "TripPassenger")
    for passenger in TripPassenger.objects.filter(public_id__isnull=True).only("pk"):
        passenger.public_id = uuid.uuid4()
        passenger.save(update_fields=["public_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0008_issue14_transport"),
        ("transport", "0001_issue14_transport"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="trippassenger",
            name="expected_back_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="trippassenger",
            name="pick_up",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="trippassenger",
            name="public_id",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="trippassenger",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AddField(
            model_name="trippassenger",
            name="returns_with_van",
            field=models.BooleanField(default=True),
        ),
        migrations.AlterField(
            model_name="trippassenger",
            name="leave",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="trip_passengers",
                to="clients.leave",
            ),
        ),
        migrations.AlterField(
            model_name="trippassenger",
            name="status",
            field=models.CharField(
                choices=[
                    ("planned", "Planned"),
                    ("out", "Signed out"),
                    ("back", "Signed back in"),
                    ("stayed", "Did not go"),
                    ("dropped", "Dropped off"),
                    ("discharged", "Discharged while out"),
                ],
                default="planned",
                max_length=12,
            ),
        ),
        migrations.AddConstraint(
            model_name="trippassenger",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "dropped"), _negated=True),
                    ("leave__isnull", False),
                    _connector="OR",
                ),
                name="transport_passenger_dropped_has_leave",
            ),
        ),
        migrations.AddConstraint(
            model_name="trippassenger",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("pick_up", True), _negated=True),
                    ("returns_with_van", True),
                    _connector="OR",
                ),
                name="transport_passenger_pick_up_returns",
            ),
        ),
    ]
