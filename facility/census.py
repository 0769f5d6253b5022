"""The facility core's census slot: open alerts per client, linking to that client's alerts.

The count is of the alerts the reader sees on the alerts page (`Alert.objects.for_user`, the
rule facility/views.py alert_dashboard lists by), so "2 alerts" on the census opens a list of
two (issue 17: a technician counted alerts addressed to nurses and clinicians)."""

from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse

from facility.models import Alert
from facility.registry import CensusSlot, register_census_slot


def _alerts(admissions, now, user=None):
    by_client = {a.client.public_id: a.pk for a in admissions}
    alerts = Alert.objects.open()
    if user is not None:
        alerts = alerts.for_user(user)
    counts = (
        alerts.filter(client_public_id__in=list(by_client))
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


register_census_slot(
    CensusSlot(key="alerts", title="Alerts", fill=_alerts, order=90, per_user=True)
)
