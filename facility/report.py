"""The core's sections of the shift report (issue 15; specs/shift-report.md): open alerts, per
client and by severity, and the staff on shift. Only the facility app's own models are read
(Alert, AccessEvent, User); the clients on the report come from the registry's roster.

Concern follows facility/registry.py ReportItem: an open critical alert 3, a warning 2, an info
alert 1. An alert is *open* on the report when it was raised before the shift's end (now, while
it runs) and not resolved by then, so a report read later shows what was open at the change.
"""

from collections import defaultdict
from datetime import datetime

from django.db.models import Min, Q
from django.urls import reverse
from django.utils import timezone

from facility.models import AccessAction, AccessEvent, Alert, AlertSeverity, Role
from facility.registry import ReportItem, ReportSection, register_report_section, registry

SEVERITY_CONCERN = {AlertSeverity.CRITICAL: 3, AlertSeverity.WARNING: 2, AlertSeverity.INFO: 1}
SEVERITY_ORDER = [AlertSeverity.CRITICAL, AlertSeverity.WARNING, AlertSeverity.INFO]
TEXT_MAX = 300
# Access log rows that show a person was not here (a failed sign-in, a refused second password).
NOT_PRESENCE = {AccessAction.LOGIN_FAILED, AccessAction.COSIGN_FAILED}


def _until(scope) -> datetime:
    """The moment "now" questions are asked at: the shift's end, or now while it runs."""
    return min(scope.end, scope.now) if scope.now is not None else scope.end


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"


def _open_alerts(scope):
    """The facility's alerts open at the report's moment, most severe and oldest first."""
    until = _until(scope)
    return (
        Alert.objects.filter(facility=scope.facility, raised_at__lt=until)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=until))
        .only(
            "public_id",
            "client_public_id",
            "client_label",
            "severity",
            "message",
            "link",
            "raised_at",
        )  # fmt: skip
        .order_by("raised_at", "id")
    )


def _stays_by_client(scope) -> dict:
    """Client public id → the report's stay of that client (the latest, if two in the shift),
    from the roster: three queries (clients/report.py)."""
    if registry.report_roster is None or not scope.admission_ids:
        return {}
    found = {}
    for c in registry.report_roster(scope.facility, scope.unit, scope.start, scope.end):
        if c.admission_id in scope.admission_ids:
            found[c.public_id] = max(c.admission_id, found.get(c.public_id, c.admission_id))
    return found


def _alert_item(alert: Alert) -> ReportItem:
    return ReportItem(
        text=_short(alert.message),
        tag="Alert",
        at=alert.raised_at,
        concern=SEVERITY_CONCERN.get(alert.severity, 1),
        href=alert.link or reverse("alerts"),
    )


def alerts_by_client(scope) -> dict[int, list[ReportItem]]:
    """Each client's open alerts (specs/shift-report.md, per client: open alerts), mapped to the
    report's stays by the client's public id. Four queries: the roster, the alerts."""
    stays = _stays_by_client(scope)
    if not stays:
        return {}
    out = defaultdict(list)
    for alert in _open_alerts(scope).filter(client_public_id__in=list(stays)):
        out[stays[alert.client_public_id]].append(_alert_item(alert))
    return dict(out)


def alerts_by_severity(scope) -> list[ReportItem]:
    """Open alerts by severity (specs/shift-report.md, Facility): a count per severity, then the
    alerts about no client (a door, a count, a handoff) one by one. On a unit's report, only the
    alerts of its clients and those about no client. One query (four on a unit's report)."""
    alerts = _open_alerts(scope)
    if scope.unit is not None:
        alerts = alerts.filter(
            Q(client_public_id__isnull=True) | Q(client_public_id__in=list(_stays_by_client(scope)))
        )
    alerts = list(alerts)
    counts = defaultdict(int)
    for alert in alerts:
        counts[alert.severity] += 1
    parts = [f"{counts[s]} {AlertSeverity(s).label.lower()}" for s in SEVERITY_ORDER]
    top = max((SEVERITY_CONCERN[s] for s in SEVERITY_ORDER if counts[s]), default=0)
    when = timezone.localtime(_until(scope), scope.facility.tz)
    lines = [
        ReportItem(
            text=f"{len(alerts)} open at {when:%H:%M}: {', '.join(parts)}",
            tag="Open alerts",
            concern=top,
            href=reverse("alerts"),
        )
    ]
    lines += [_alert_item(a) for a in alerts if a.client_public_id is None]
    return lines


def staff_on_shift(scope) -> list[ReportItem]:
    """Who was here by the record: Haven keeps no staffing schedule, so "staff on shift" is the
    staff who signed in, or did anything the access log records in this facility (a chart read,
    a print, a med pass), within [start, end) of the shift. A sign-in names no facility, so it
    counts for the facilities the person is assigned to. Name, role and first time seen. One
    query."""
    rows = (
        AccessEvent.objects.filter(
            at__gte=scope.start, at__lt=scope.end, user__isnull=False, outcome="ok"
        )
        .exclude(action__in=NOT_PRESENCE)
        .filter(
            Q(facility=scope.facility) | Q(facility__isnull=True, user__facilities=scope.facility)
        )
        .values(
            "user_id", "user__full_name", "user__username", "user__credentials", "user__role"
        )  # fmt: skip
        .annotate(first=Min("at"))
        .order_by("user__role", "user__full_name", "user_id")
    )
    roles = dict(Role.choices)
    lines = []
    for row in rows:
        name = row["user__full_name"] or row["user__username"]
        if row["user__credentials"]:
            name += f", {row['user__credentials']}"
        lines.append(
            ReportItem(
                text=f"{name} ({roles.get(row['user__role'], row['user__role'])}), first seen "
                f"{timezone.localtime(row['first'], scope.facility.tz):%H:%M}",
                tag="Staff",
                at=row["first"],
                concern=0,
            )
        )
    return lines


register_report_section(
    ReportSection(
        key="alerts",
        title="Open alerts",
        clients=alerts_by_client,
        facility=alerts_by_severity,
        order=5,
    )
)
register_report_section(
    ReportSection(key="staff", title="Staff on shift", facility=staff_on_shift, order=200)
)
