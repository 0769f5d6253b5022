"""The facility core's census slot: open alerts per client."""

from django.db.models import Count

from facility.models import Alert
from facility.registry import CensusSlot, register_census_slot


def _alerts(admissions, now):
    by_client = {a.client.public_id: a.pk for a in admissions}
    counts = (
        Alert.objects.open()
        .filter(client_public_id__in=list(by_client))
        .values("client_public_id")
        .annotate(n=Count("id"))
    )
    cells = {}
    for row in counts:
        n = row["n"]
        cells[by_client[row["client_public_id"]]] = {
            "text": f"{n} alert{'s' if n != 1 else ''}",
            "tone": "alert",
        }
    return cells


register_census_slot(CensusSlot(key="alerts", title="Alerts", fill=_alerts, order=90))
