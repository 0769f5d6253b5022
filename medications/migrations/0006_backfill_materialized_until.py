"""Orders verified before `materialized_until` existed: record how far their doses go, so the
next top-up does not take its first new dose for the order's first dose (which has no window)."""

from django.db import migrations
from django.db.models import Max


def backfill(apps, schema_editor):
    Order = apps.get_model("medications", "Order")
    for order in Order.objects.filter(
        materialized_until__isnull=True, verified_at__isnull=False
    ).annotate(last=Max("doses__scheduled_at")):
        if order.last is not None:
            order.materialized_until = order.last
            order.save(update_fields=["materialized_until"])


class Migration(migrations.Migration):
    dependencies = [("medications", "0005_dose_order_index")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
