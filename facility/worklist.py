"""The facility core's sections of "My work" (issue 17 item 1): open alerts for each role, the
handoffs not received for the supervisor, and the accounts locked out for the admin.

Each section is one or two queries. The sections of the domain apps live in their own
`worklist.py` (facility/registry.py WorklistSection); this module imports none of them.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Case, IntegerField, Value, When
from django.urls import reverse
from django.utils import timezone

from facility import policy
from facility.handoff import ALERT_KIND as HANDOFF_ALERT
from facility.handoff import HANDOFF_OPEN_FOR, alert_key, report_url
from facility.models import Alert, AlertSeverity, Handoff, SignInFailure, SignInFailureKind, User
from facility.registry import WorkItem, WorklistSection, register_worklist_section, registry
from facility.throttle import key_user_id
from facility.views import alert_href

# A section lists at most this many rows; the page shows the first few and links to the rest.
CAP = 50
FIRST_SHOWN = 8
ALERT_TONE = {AlertSeverity.CRITICAL: "alert", AlertSeverity.WARNING: "late"}
_SEVERITY_RANK = Case(
    When(severity=AlertSeverity.CRITICAL, then=Value(0)),
    When(severity=AlertSeverity.WARNING, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def _alert_items(*, user, facility, now) -> list[WorkItem]:
    """The open alerts this user's role sees at the facility, most severe first, then newest:
    one query. A supervisor (who resolves alerts) sees every audience, as on the alerts page."""
    everything = policy.allows(user, "alerts.resolve")
    alerts = (
        Alert.objects.for_facility(facility)
        .open()
        .for_audience(user.role, everything=everything)
        .annotate(rank=_SEVERITY_RANK)
        .order_by("rank", "-raised_at")[:CAP]
    )
    items = []
    for alert in alerts:
        who = f"{alert.client_label} · " if alert.client_label else ""
        items.append(
            WorkItem(
                label=f"{who}{alert.message}",
                href=alert_href(alert, user) or reverse("alerts"),
                detail=alert.get_severity_display(),
                when=alert.raised_at,
                tone=ALERT_TONE.get(alert.severity, ""),
            )
        )
    return items


def _handoffs_not_received(*, user, facility, now) -> list[WorkItem]:
    """Shift reports given and waiting to be received, and the units whose report was owed and
    never received (the scan's open alerts): two queries."""
    waiting = (
        Handoff.objects.filter(
            facility=facility,
            given_at__isnull=False,
            received_at__isnull=True,
            shift_start__gte=now - HANDOFF_OPEN_FOR - timedelta(hours=12),
        )
        .select_related("unit", "given_by")
        .order_by("shift_start")[:CAP]
    )
    items, listed = [], set()
    for handoff in waiting:
        if handoff.unit_id:
            listed.add(alert_key(handoff.unit, handoff.day, handoff.shift_key))
        where = handoff.unit.name if handoff.unit_id else "Whole facility"
        start = timezone.localtime(handoff.shift_start, facility.tz)
        items.append(
            WorkItem(
                label=f"{where} · {handoff.shift_key} shift of {start:%a %d %b}",
                href=report_url(facility, handoff.unit, handoff.day, handoff.shift_key),
                detail=f"given by {handoff.given_by.full_name}, not received",
                when=handoff.given_at,
                tone="due",
            )
        )
    owed = (
        Alert.objects.for_facility(facility)
        .open()
        .filter(kind=HANDOFF_ALERT)
        .order_by("raised_at")[:CAP]
    )
    for alert in owed:
        if alert.dedupe_key in listed:  # its report is given, waiting above: one row per shift
            continue
        items.append(
            WorkItem(
                label=alert.message,
                href=alert_href(alert, user) or reverse("shift_report"),
                detail="not given or received",
                when=alert.raised_at,
                tone="late",
            )
        )
    return items[:CAP]


def _locked_accounts(*, user, facility, now) -> list[WorkItem]:
    """Staff of the facility whose account is locked out now (facility/throttle.py): as many
    failed sign-ins in the window as the limit from one address or one browser, or the
    untrusted-browser limit in all. One query for the failures, one for the accounts."""
    window = now - timedelta(minutes=settings.HAVEN_SIGNIN_WINDOW_MINUTES)
    rows = SignInFailure.objects.filter(
        kind=SignInFailureKind.SIGN_IN, at__gt=window, username_key__startswith="user:"
    ).values_list("username_key", "ip", "device")
    per_source, untrusted = Counter(), Counter()
    for key, ip, device in rows:
        per_source[(key, ip if not device else None, device)] += 1
        if not device:
            untrusted[key] += 1
    limit = settings.HAVEN_SIGNIN_ACCOUNT_LIMIT
    locked = {key for (key, _, _), n in per_source.items() if n >= limit}
    locked |= {
        key for key, n in untrusted.items() if n >= settings.HAVEN_SIGNIN_UNTRUSTED_ACCOUNT_LIMIT
    }
    ids = [key_user_id(key) for key in locked]
    people = User.objects.filter(pk__in=ids, facilities=facility).distinct().order_by("full_name")
    return [
        WorkItem(
            label=f"{person.full_name} ({person.username})",
            href=reverse("staff_edit", args=[person.public_id]),
            detail=f"locked: {limit} failed sign-ins; lifts "
            f"{settings.HAVEN_SIGNIN_WINDOW_MINUTES} min after the last",
            tone="alert",
        )
        for person in people[:CAP]
    ]


register_worklist_section(
    WorklistSection(
        "floor_alerts",
        "Alerts",
        _alert_items,
        roles=("technician", "nurse", "clinician"),
        capability="alerts.view",
        order=900,
        more="alerts",
        empty="No open alerts for you.",
    )
)
register_worklist_section(
    WorklistSection(
        "alerts_by_severity",
        "Open alerts, most severe first",
        _alert_items,
        roles=("supervisor",),
        capability="alerts.resolve",
        order=10,
        more="alerts",
        empty="No open alerts.",
    )
)
register_worklist_section(
    WorklistSection(
        "handoffs_not_received",
        "Handoffs not received",
        _handoffs_not_received,
        roles=("supervisor",),
        capability="dashboard.view",
        order=60,
        empty="Every handoff owed has been received.",
    )
)
register_worklist_section(
    WorklistSection(
        "locked_accounts",
        "Accounts locked out",
        _locked_accounts,
        roles=("admin",),
        capability="staff.manage",
        order=20,
        more="staff_list",
        empty="No account is locked out.",
    )
)


# ---------------------------------------------------------------- the page


@dataclass
class Shown:
    """A section as the page shows it: the first rows, the rest folded, and where the whole
    list lives."""

    key: str
    title: str
    items: list
    more_href: str
    empty: str
    first: int = FIRST_SHOWN

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def truncated(self) -> bool:
        """A section reads at most CAP rows: at CAP, more may wait (issue 17 review)."""
        return len(self.items) >= CAP

    @property
    def count_label(self) -> str:
        return f"{CAP}+" if self.truncated else str(len(self.items))

    @property
    def shown(self) -> list:
        return self.items[: self.first]

    @property
    def folded(self) -> list:
        return self.items[self.first :]


def _clock(when, now, tz) -> str:
    """A row's time on the facility's clock: "14:05" today, "Sun 02:10" within a week,
    else "7 Mar"."""
    if when is None:
        return ""
    local, today = timezone.localtime(when, tz), timezone.localtime(now, tz).date()
    if local.date() == today:
        return f"{local:%H:%M}"
    if abs((local.date() - today).days) < 7:
        return f"{local:%a %H:%M}"
    return f"{local.day} {local:%b}"


def my_work(user, facility, now) -> list[Shown]:
    """Every section of "My work" for `user` at `facility`, in order, each with its rows."""
    shown = []
    for section in registry.worklist_sections:
        if user.role not in section.roles or not policy.allows(user, section.capability):
            continue
        if section.visible is not None and not section.visible(user, facility):
            continue
        items = [
            WorkItem(i.label, i.href, i.detail, _clock(i.when, now, facility.tz), i.tone)
            for i in section.items(user=user, facility=facility, now=now)
        ]
        more = reverse(section.more) if section.more else ""
        shown.append(Shown(section.key, section.title, items, more, section.empty))
    return shown
