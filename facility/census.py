"""The facility core's census slot: open alerts per client, linking to that client's alerts."""

from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse

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
    page = reverse("alerts")
    cells = {}
    for row in counts:
        n = row["n"]
        cells[by_client[row["client_public_id"]]] = {
            "text": f"{n} alert{'s' if n != 1 else ''}",
            "tone": "alert",
            # The census shows it to every role; the link only to those who may open it.
            "href": f"{page}?{urlencode({'client': row['client_public_id']})}",
            "capability": "alerts.view",
        }
    return cells


register_census_slot(CensusSlot(key="alerts", title="Alerts", fill=_alerts, order=90))
