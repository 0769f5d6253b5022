"""The survey bundle's sections from observations (issue 15 item 5): rounds compliance for the
period, and the incident reports of the period. facility/bundle_views.py prints them after the
shift reports without importing this app (facility/registry.py, BundleSection).

Compliance is the rounds compliance report itself (observations/compliance.py, the same tables
as its page and PDF). Incidents are listed one line each, with only what the incident report's
own print shows (type, severity, status, when, where, clients, reporter, review), never the
narrative, and only the reports the printer may read (supervisors: every one).
"""

from django.db.models import Prefetch

from facility import policy
from facility.registry import BundleSection, register_bundle_section
from observations.compliance import compliance_summary
from observations.models import IncidentClient
from observations.services.incidents import incidents_visible_to


def _compliance(*, facility, unit, start, end, now, user) -> dict:
    """Windows due, done, late and missed per client, per observer and per staff member."""
    return {**compliance_summary(facility, start=start, end=end, unit=unit, now=now), "pdf": True}


def _incidents(*, facility, unit, start, end, now, user) -> dict:
    """The reports of incidents that occurred in [start, end) that `user` may read; with a unit,
    those naming a client of that unit. Three queries."""
    found = incidents_visible_to(user, facility).filter(occurred_at__gte=start, occurred_at__lt=end)
    if unit is not None:
        found = found.filter(client_links__admission__unit=unit).distinct()
    incidents = list(
        found.select_related("reported_by", "reviewed_by")
        .prefetch_related(
            Prefetch(
                "client_links",
                queryset=IncidentClient.objects.select_related("admission__client").order_by("pk"),
            )
        )
        .order_by("occurred_at", "pk")
    )
    return {"incidents": incidents, "all_readable": policy.allows(user, "incident.review")}


register_bundle_section(
    BundleSection(
        key="compliance",
        title="Rounds compliance",
        template="observations/compliance_tables.html",
        render=_compliance,
        order=10,
    )
)
register_bundle_section(
    BundleSection(
        key="incidents",
        title="Incidents",
        template="observations/pdf/bundle_incidents.html",
        render=_incidents,
        order=20,
    )
)
