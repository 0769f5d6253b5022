"""The MAR's sections of "My work" (issue 17 item 1; facility/registry.py WorklistSection).

Each reads what is due through the MAR's own rules: `dose_views` and `DoseView.needs_outcome`
(the med pass), `orders_awaiting_check` and `orders_awaiting_cosign` (the "Orders to verify"
and "To co-sign" lists), `prn_pending` (PRN follow-ups), `stocks_owing_shift_count` (the
dashboard's "Not yet counted") and `discrepancy_sign_off`'s rule that nobody signs off a count
they took part in. Every section is a fixed number of queries whatever the census, and each row
links to the page where the item is done.
"""

from datetime import timedelta

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When
from django.urls import reverse
from django.utils import timezone

from clients.models import Admission
from facility import policy
from facility.registry import WorkItem, WorklistSection, register_worklist_section
from facility.roles import holds_prescribing_credentials
from facility.worklist import CAP
from medications import services
from medications.models import (
    Administration,
    ControlledCount,
    Outcome,
    Priority,
    ScheduledDose,
)
from medications.services.doses import STAT_DEADLINE

# The med pass's reach (medications.views._med_pass_page): doses of the last 12 hours and the
# next 6, read 6 hours further so a next dose bounds a late period; older undocumented doses
# of any age, which stay under "Needs an outcome" until charted.
PASS_SINCE = timedelta(hours=12)
PASS_AHEAD = timedelta(hours=6)
_DOSE_RANK = {"missed": 0, "late": 1, "due": 2}
_DOSE_TONE = {"missed": "alert", "late": "late", "due": "due"}
_DOSE_RELATED = (
    "order__medication",
    "order__admission__client",
    "order__admission__bed",
    "order__admission__facility",
)


def _current(facility):
    return Admission.objects.current().filter(facility=facility)


def _client(admission) -> str:
    bed = f" ({admission.bed.label})" if admission.bed_id else ""
    return f"{admission.client.display_name}{bed}"


# ---------------------------------------------------------------- doses


def _pass_views(facility, now):
    """Every current client's doses as the med pass reads them, in three queries: the 12 hours
    before now to 12 after (with their live documentation), and the older undocumented ones."""
    current = _current(facility)
    since = now - PASS_SINCE
    recent = list(
        ScheduledDose.objects.filter(
            order__admission__in=current,
            scheduled_at__gte=since,
            scheduled_at__lt=now + 2 * PASS_AHEAD,
        )
        .select_related(*_DOSE_RELATED)
        .prefetch_related(services.live_prefetch())
    )
    live = Administration.objects.filter(dose=OuterRef("pk"), struck_at__isnull=True)
    older = list(
        ScheduledDose.objects.filter(
            order__admission__in=current, scheduled_at__lt=since, cancelled_at__isnull=True
        )
        .exclude(Exists(live))
        .select_related(*_DOSE_RELATED)
    )
    for dose in older:
        dose.live = []
    doses = sorted(older + recent, key=lambda d: (d.order_id, d.scheduled_at))
    return [v for v in services.dose_views(doses, now) if v.dose.scheduled_at < now + PASS_AHEAD]


def _dose_rows(views, wanted) -> list[WorkItem]:
    """One row per client: how many doses of each status, the drugs, and a link to the med pass
    at the most urgent dose. Clients with a missed dose first, then late, then due; within
    each, the longest waiting first."""
    per_client: dict[int, dict] = {}
    for v in views:
        status = v.status if wanted(v) else None
        if status not in _DOSE_RANK:
            continue
        admission = v.dose.order.admission
        row = per_client.setdefault(
            admission.pk, {"admission": admission, "counts": {}, "drugs": [], "first": v}
        )
        row["counts"][status] = row["counts"].get(status, 0) + 1
        name = v.dose.order.medication.name
        if name not in row["drugs"]:
            row["drugs"].append(name)
        first = row["first"]
        if (_DOSE_RANK[status], v.dose.scheduled_at) < (
            _DOSE_RANK[first.status],
            first.dose.scheduled_at,
        ):
            row["first"] = v
    rows = sorted(
        per_client.values(),
        key=lambda r: (_DOSE_RANK[r["first"].status], r["first"].dose.scheduled_at),
    )
    items = []
    for row in rows[:CAP]:
        admission, first = row["admission"], row["first"]
        drugs = ", ".join(row["drugs"][:3]) + (
            f" +{len(row['drugs']) - 3}" if len(row["drugs"]) > 3 else ""
        )
        counts = [f"{row['counts'][s]} {s}" for s in _DOSE_RANK if s in row["counts"]]
        href = reverse("medications:med_pass", args=[admission.public_id])
        items.append(
            WorkItem(
                label=f"{_client(admission)} · {drugs}",
                href=f"{href}#dose-{first.dose.public_id}",
                detail=", ".join(counts),
                when=first.dose.scheduled_at,
                tone=_DOSE_TONE[first.status],
            )
        )
    return items


def _nurse_doses(*, user, facility, now) -> list[WorkItem]:
    """Doses due now (inside their window or before their deadline) and those needing an
    outcome (past it, undocumented: late or missed), as the med pass shows them."""
    return _dose_rows(_pass_views(facility, now), lambda v: v.status == "due" or v.needs_outcome)


def _technician_doses(*, user, facility, now) -> list[WorkItem]:
    """Doses due or late that this technician may chart as observed self-administration: the
    facility's technician scope (routes, controlled medications, no hold parameters), asked of
    the policy once per order. A missed dose is the nurse's."""
    scope: dict[int, bool] = {}

    def mine(v) -> bool:
        if v.status not in ("due", "late") or v.documentation is not None:
            return False
        order = v.dose.order
        if order.pk not in scope:
            charting = Administration(order=order, outcome=Outcome.GIVEN, self_administered=True)
            scope[order.pk] = policy.allows(user, "mar.record", charting)
        return scope[order.pk]

    return _dose_rows(_pass_views(facility, now), mine)


# ---------------------------------------------------------------- orders

_PRIORITY_RANK = Case(
    When(priority=Priority.STAT, then=Value(0)),
    When(priority=Priority.NOW, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def _orders_to_verify(*, user, facility, now) -> list[WorkItem]:
    """Orders no second nurse has checked yet, as the "Orders to verify" list reads them, less
    those this nurse transcribed (order_verify refuses them: another nurse verifies). STAT
    first, then NOW, then oldest. One query."""
    orders = (
        services.orders_awaiting_check(user)
        .filter(admission__facility=facility)
        .exclude(transcribed_by=user)
        .select_related("medication", "admission__client", "admission__bed")
        .annotate(rank=_PRIORITY_RANK)
        .order_by("rank", "transcribed_at")[:CAP]
    )
    items = []
    for o in orders:
        status = o.status
        tone = "due"
        if o.priority == Priority.STAT:
            give_by = timezone.localtime(o.transcribed_at + STAT_DEADLINE, facility.tz)
            status, tone = f"STAT, give by {give_by:%H:%M}: {status}", "alert"
        elif o.priority == Priority.NOW:
            status, tone = f"NOW: {status}", "late"
        elif o.released_at is not None:
            status, tone = "given before the check: verify", "late"
        items.append(
            WorkItem(
                label=f"{_client(o.admission)} · {o.medication.name} {o.dose}",
                href=reverse("medications:order_detail", args=[o.public_id]),
                detail=status,
                when=o.transcribed_at,
                tone=tone,
            )
        )
    return items


def _orders_to_cosign(*, user, facility, now) -> list[WorkItem]:
    """The prescriber's verbal and telephone orders not yet co-signed (the "To co-sign" list),
    oldest first; past the facility's co-sign hours they are overdue. Only a clinician with
    prescribing credentials co-signs (order_cosign), so others get none. One query."""
    if not holds_prescribing_credentials(user):
        return []
    orders = (
        services.orders_awaiting_cosign(user)
        .filter(admission__facility=facility)
        .select_related("medication", "admission__client", "admission__bed")
        .order_by("transcribed_at")[:CAP]
    )
    limit = timedelta(hours=facility.order_cosign_hours)
    items = []
    for o in orders:
        overdue = now - o.transcribed_at > limit
        items.append(
            WorkItem(
                label=f"{_client(o.admission)} · {o.medication.name} {o.dose}",
                href=reverse("medications:order_detail", args=[o.public_id]),
                detail=f"{o.get_source_display().lower()}: co-sign"
                + (" (overdue)" if overdue else ""),
                when=o.transcribed_at,
                tone="late" if overdue else "due",
            )
        )
    return items


# ---------------------------------------------------------------- PRN follow-ups


def _prn_follow_ups(*, user, facility, now) -> list[WorkItem]:
    """PRN doses whose effect is owed now (due, or overdue), as the med pass lists them,
    overdue first, then by when the reassessment fell due. One query."""
    pending = [
        (a, status)
        for a, status in services.prn_pending(_current(facility), now)
        if status in ("due", "overdue")
    ]
    pending.sort(key=lambda p: (p[1] != "overdue", p[0].reassess_at))
    return [
        WorkItem(
            label=f"{a.order.admission.client.display_name} · {a.order.medication.name} "
            f"{a.order.dose}",
            href=reverse("medications:prn_follow_up", args=[a.public_id]),
            detail=f"follow-up {status}",
            when=a.reassess_at,
            tone="late" if status == "overdue" else "due",
        )
        for a, status in pending[:CAP]
    ]


# ---------------------------------------------------------------- controlled counts


def _owner(stock) -> str:
    return stock.admission.client.display_name if stock.admission_id else "house stock"


def _counts_due(*, user, facility, now) -> list[WorkItem]:
    """Stocks that owe this shift's count (the count at its start) and have none completed
    since its window opened; late past the hour the count scan allows. One query."""
    day, key = facility.current_shift(now)
    start, _ = facility.shift_bounds(day, key)
    stocks = (
        services.stocks_owing_shift_count(facility, shift_start=start, now=now)
        .select_related("medication", "admission__client")
        .order_by("medication__name", "admission_id")[:CAP]
    )
    late = now > start + services.COUNT_GRACE
    change = timezone.localtime(start, facility.tz)
    page = reverse("medications:controlled")
    return [
        WorkItem(
            label=f"{stock.medication} · {_owner(stock)}",
            href=f"{page}#stock-{stock.public_id}",
            detail=f"count of the {change:%H:%M} shift change",
            when=start,
            tone="late" if late else "due",
        )
        for stock in stocks
    ]


def _discrepancies(*, user, facility, now) -> list[WorkItem]:
    """Count variances awaiting a supervisor's sign-off, oldest first, less those this
    supervisor counted (either count of a recount): discrepancy_sign_off refuses them. One
    query."""
    counted = (
        Q(first_signer=user)
        | Q(second_signer=user)
        | Q(recount_of__first_signer=user)
        | Q(recount_of__second_signer=user)
    )
    counts = (
        ControlledCount.objects.filter(
            stock__facility=facility, completed_at__isnull=True, superseded_at__isnull=True
        )
        .exclude(counted)
        .select_related("stock__medication", "stock__admission__client")
        .order_by("counted_at")[:CAP]
    )
    page = reverse("medications:controlled")
    return [
        WorkItem(
            label=f"{c.stock.medication} · {_owner(c.stock)}",
            href=f"{page}#count-{c.public_id}",
            detail=f"counted {c.counted_quantity.normalize():f}, expected "
            f"{c.expected_quantity.normalize():f}: sign off",
            when=c.counted_at,
            tone="alert",
        )
        for c in counts
    ]


register_worklist_section(
    WorklistSection(
        "orders_to_verify",
        "Orders to verify",
        _orders_to_verify,
        roles=("nurse",),
        capability="order.verify",
        order=20,
        more="medications:orders_to_verify",
        empty="No order waits for you to verify it.",
    )
)
register_worklist_section(
    WorklistSection(
        "doses",
        "Doses due now or needing an outcome",
        _nurse_doses,
        roles=("nurse",),
        capability="mar.give",
        order=30,
        more="medications:mar",
        empty="No dose is due or waiting for an outcome.",
    )
)
register_worklist_section(
    WorklistSection(
        "doses_observed",
        "Doses due that you may chart",
        _technician_doses,
        roles=("technician",),
        capability="mar.record",
        order=30,
        more="medications:mar",
        empty="No dose you may chart is due.",
    )
)
register_worklist_section(
    WorklistSection(
        "prn_follow_ups",
        "PRN follow-ups due",
        _prn_follow_ups,
        roles=("nurse",),
        capability="mar.give",
        order=40,
        empty="No PRN follow-up is due.",
    )
)
register_worklist_section(
    WorklistSection(
        "counts_due",
        "Controlled counts due this shift",
        _counts_due,
        roles=("nurse",),
        capability="controlled.sign",
        order=50,
        more="medications:controlled",
        empty="Every controlled stock is counted for this shift.",
    )
)
register_worklist_section(
    WorklistSection(
        "orders_to_cosign",
        "Orders to co-sign",
        _orders_to_cosign,
        roles=("clinician",),
        capability="order.cosign",
        order=20,
        more="medications:orders_to_cosign",
        empty="No verbal or telephone order waits for your co-signature.",
        visible=lambda user, facility: holds_prescribing_credentials(user),
    )
)
register_worklist_section(
    WorklistSection(
        "discrepancies",
        "Count discrepancies to sign off",
        _discrepancies,
        roles=("supervisor",),
        capability="controlled.sign_off",
        order=40,
        more="medications:controlled",
        empty="No count discrepancy waits for your sign-off.",
    )
)
