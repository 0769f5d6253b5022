"""The MAR's part of the shift report (issue 15; specs/shift-report.md): per client, the doses
of the shift not given as ordered and the PRNs given with their effect; for the facility, the
controlled counts of the shift, their variances and the counts still owed at its changes.

A dose's status is the MAR's own (services.dose_views against the report's `now`), never
re-derived here: what the MAR board shows as late, missed or refused is what the report says.

At a shift change nothing undocumented is dropped (specs/mar.md: an undocumented dose never
leaves the MAR): a shift's report also lists doses scheduled before its start, within the MAR
scan's look-back (SCAN_LOOKBACK), that were still undocumented at its start ("From the previous
shift": 2 once late or missed, 1 while due, their outcome once charted), and the doses of the
shift still due at the report's `now` ("Due now", 1): the day report handed over at 15:05 shows
the 14:45 dose nobody has charted yet.
Five queries per report whatever the census: the doses, the PRN doses, the counts, the stocks
owing counts and the counts made around the shift's two changes.
"""

from datetime import timedelta
from types import SimpleNamespace

from django.db.models import FilteredRelation, Min, Q
from django.urls import reverse
from django.utils import timezone

from facility.registry import ReportItem, ReportSection, register_report_section
from medications.models import (
    Administration,
    ControlledCount,
    ControlledStock,
    Outcome,
    ScheduledDose,
)
from medications.services import COUNT_GRACE, SCAN_LOOKBACK, dose_views, owing_counts
from medications.timing import prn_reassessment_status

# MAR statuses the report hands off, with their tag and concern (facility/registry.py,
# ReportItem): a dose refused, missed or not to be had is a warning; one late, held, sent with
# the client or missed while off the unit is worth saying.
EXCEPTIONS: dict[str, tuple[str, int]] = {
    "late": ("Late", 1),
    "given_late": ("Given late", 1),
    "given_early": ("Given early", 1),
    "missed": ("Missed", 2),
    "not_given": ("Not given", 2),
    "refused": ("Refused", 2),
    "held": ("Held", 1),
    "unavailable": ("Unavailable", 2),
    "sent": ("Sent with client", 1),
    "off_unit": ("Off unit", 1),
}
# A dose of the shift the MAR still shows as due at the report's moment (the shift running, or
# a dose of its last hour at the handoff).
DUE_NOW = ("Due now", 1)
# A dose of an earlier shift still undocumented at this shift's start.
CARRIED = "From the previous shift"
# A next dose ends the late period of one before it only within 2·window + next window ≤ 6 h
# (the MAR board reads the same span past the shift's end).
NEXT_DOSE_REACH = timedelta(hours=6)


def _clock(moment, tz) -> str:
    return f"{timezone.localtime(moment, tz):%H:%M}"


def _fmt(q) -> str:
    """30.00 → "30", 0.50 → "0.5" (as the controlled page writes counts)."""
    return format(q.normalize(), "f")


def _shift_doses(scope):
    """The doses of the report's stays from the look-back before the shift's start to 6 hours
    past its end, as dose_views() reads them, in one query: each with its live documentation
    (and when it was recorded) and its order."""
    live = FilteredRelation("administrations", condition=Q(administrations__struck_at__isnull=True))
    rows = (
        ScheduledDose.objects.filter(
            order__admission__in=scope.admission_ids,
            scheduled_at__gte=scope.start - SCAN_LOOKBACK,
            scheduled_at__lt=scope.end + NEXT_DOSE_REACH,
        )
        .annotate(doc=live)
        .order_by("order_id", "scheduled_at")
        .values_list(
            "pk",
            "order_id",
            "scheduled_at",
            "window_minutes",
            "cancelled_at",
            "deadline_at",
            "kind",
            "doc__outcome",
            "doc__timing",
            "doc__reason",
            "doc__given_at",
            "doc__recorded_at",
            "order__admission_id",
            "order__admission__public_id",
            "order__dose",
            "order__medication__name",
        )  # fmt: skip
    )
    doses = []
    for (pk, order_id, at, window, cancelled, deadline, kind, outcome, timing, reason, given_at,
         recorded_at, admission_id, admission_public_id, dose_text, name) in rows:  # fmt: skip
        live_doc = []
        if outcome is not None:
            live_doc = [SimpleNamespace(outcome=outcome, timing=timing, reason=reason,
                                        given_at=given_at, recorded_at=recorded_at)]  # fmt: skip
        order = SimpleNamespace(admission_id=admission_id, admission_public_id=admission_public_id,
                                dose=dose_text, medication=name)  # fmt: skip
        doses.append(SimpleNamespace(
            pk=pk, order_id=order_id, order=order, scheduled_at=at, window_minutes=window,
            cancelled_at=cancelled, deadline_at=deadline, kind=kind, live=live_doc,
        ))  # fmt: skip
    return doses


def _carried_over(view, start) -> bool:
    """A dose of before the shift still undocumented at its start (documented since, or not)."""
    dose, doc = view.dose, view.documentation
    if dose.scheduled_at >= start or view.status == "cancelled":
        return False
    return doc is None or doc.recorded_at >= start


def _dose_item(view, tz, href) -> ReportItem | None:
    """The line of one dose, or None when there is nothing to hand off about it."""
    dose, doc, status = view.dose, view.documentation, view.status
    order = dose.order
    text = f"{order.medication} {order.dose}, due {_clock(dose.scheduled_at, tz)}"
    if doc is not None and doc.given_at is not None:
        text += f", given {_clock(doc.given_at, tz)}"
    elif doc is None:
        text += ", not documented"
    if doc is not None and doc.reason:
        text += f": {doc.reason}"
    if status == "due":
        tag, concern = DUE_NOW
    elif status in EXCEPTIONS:
        tag, concern = EXCEPTIONS[status]
    else:
        tag, concern = "", 0
    if view.carried:
        # Handed on from an earlier shift: say so, and what it is now.
        if doc is None:
            concern = 2 if status in ("late", "missed") else 1
        label = tag or view.label
        return ReportItem(text=f"{text} ({label.lower()})", tag=CARRIED, at=dose.scheduled_at,
                          concern=concern, href=href)  # fmt: skip
    if not tag:
        return None
    return ReportItem(text=text, tag=tag, at=dose.scheduled_at, concern=concern, href=href)


def _dose_lines(scope, tz) -> dict[int, list[ReportItem]]:
    lines: dict[int, list[ReportItem]] = {}
    hrefs: dict[int, str] = {}
    for view in dose_views(_shift_doses(scope), scope.now):
        dose = view.dose
        view.carried = _carried_over(view, scope.start)
        if not (view.carried or scope.start <= dose.scheduled_at < scope.end):
            continue
        order = dose.order
        href = hrefs.get(order.admission_id)
        if href is None:
            href = hrefs[order.admission_id] = reverse(
                "medications:med_pass", args=[order.admission_public_id]
            )
        item = _dose_item(view, tz, href)
        if item is not None:
            lines.setdefault(order.admission_id, []).append(item)
    return lines


def _prn_lines(scope, tz) -> dict[int, list[ReportItem]]:
    """PRN doses given in the shift, each with its effect: charted, or when it is owed (an
    overdue reassessment is a warning, as the minute scan's alert is)."""
    given = (
        Administration.objects.filter(
            order__admission__in=scope.admission_ids,
            dose__isnull=True,
            outcome=Outcome.GIVEN,
            struck_at__isnull=True,
            given_at__gte=scope.start,
            given_at__lt=scope.end,
        )
        .select_related("order__medication", "order__admission", "follow_up")
        .order_by("given_at")
    )
    lines: dict[int, list[ReportItem]] = {}
    for a in given:
        order = a.order
        text = f"{order.medication.name} {order.dose} given {_clock(a.given_at, tz)}"
        if a.prn_indication:
            text += f" for {a.prn_indication}"
        concern = 1
        follow_up = getattr(a, "follow_up", None)
        if follow_up is not None:
            effect = follow_up.get_result_display().lower()
            score = f", score {follow_up.score}" if follow_up.score is not None else ""
            text += f"; effect {effect}{score} ({_clock(follow_up.recorded_at, tz)})"
        else:
            status = prn_reassessment_status(a.given_at, scope.now, route=order.route)
            if status == "overdue":
                text += "; effect not yet charted"
                concern = 2
            else:
                text += "; effect to chart"
        lines.setdefault(order.admission_id, []).append(
            ReportItem(
                text=text,
                tag="PRN",
                at=a.given_at,
                concern=concern,
                href=reverse("medications:med_pass", args=[order.admission.public_id]),
            )  # fmt: skip
        )
    return lines


def clients(scope) -> dict[int, list[ReportItem]]:
    """MAR exceptions of the doses due in the shift, and PRNs given in it: two queries."""
    tz = scope.facility.tz
    lines = _dose_lines(scope, tz)
    for admission_id, items in _prn_lines(scope, tz).items():
        lines.setdefault(admission_id, []).extend(items)
    return lines


# ---------------------------------------------------------------- controlled counts


def _stocks(scope, queryset):
    """The facility's stocks on this report: the house's, and on a unit's report only the own
    supply of clients on it."""
    queryset = queryset.filter(facility=scope.facility)
    if scope.unit is not None:
        queryset = queryset.filter(Q(admission__isnull=True) | Q(admission__in=scope.admission_ids))
    return queryset


def _stock_name(stock) -> str:
    owner = stock.admission.client.mrn if stock.admission_id else "house"
    return f"{stock.medication.name} {stock.medication.strength} ({owner})"


def _count_lines(scope, tz, href) -> list[ReportItem]:
    """Counts made in the shift, variances signed off in it, and variances still open from
    before it. A variance awaiting a supervisor's sign-off is urgent; one recounted shows on its
    recount."""
    stocks = _stocks(scope, ControlledStock.objects.all())
    counts = (
        ControlledCount.objects.filter(stock__in=stocks)
        .filter(
            Q(counted_at__gte=scope.start, counted_at__lt=scope.end)
            | Q(signed_off_at__gte=scope.start, signed_off_at__lt=scope.end)
            | Q(completed_at__isnull=True, superseded_at__isnull=True, counted_at__lt=scope.end)
        )
        .select_related(
            "stock__medication",
            "stock__admission__client",
            "first_signer",
            "second_signer",
            "signed_off_by",
            "recount_of",
        )  # fmt: skip
        .order_by("counted_at")
    )
    counts = list(counts)
    recounted = {c.recount_of_id for c in counts if c.recount_of_id}
    items = []
    for c in counts:
        if c.pk in recounted:
            continue  # its recount's line tells both
        name = _stock_name(c.stock)
        who = f"{c.first_signer.initials}/{c.second_signer.initials}"
        when = _clock(c.counted_at, tz)
        if c.recount_of is None and c.variance == 0 and c.completed_at is not None:
            items.append(ReportItem(text=f"{name}: count correct at {when} ({who})", tag="Count",
                                    at=c.counted_at, concern=0, href=href))  # fmt: skip
            continue
        text = (
            f"{name}: counted {_fmt(c.counted_quantity)}, expected {_fmt(c.expected_quantity)}"
            f" at {when} ({who})"
        )
        if c.recount_of is not None:
            first = c.recount_of
            text = (
                f"{name}: counted {_fmt(first.counted_quantity)}, expected "
                f"{_fmt(first.expected_quantity)} at {_clock(first.counted_at, tz)}; recounted "
                f"{_fmt(c.counted_quantity)} at {when} ({who})"
            )
        if c.completed_at is None and c.superseded_at is None:
            items.append(ReportItem(text=text + "; awaiting a supervisor's sign-off",
                                    tag="Count variance", at=c.counted_at, concern=3,
                                    href=href))  # fmt: skip
            continue
        if c.signed_off_at is not None:
            text += (
                f"; signed off by {c.signed_off_by.initials} at {_clock(c.signed_off_at, tz)}: "
                f"{c.discrepancy_explanation}"
            )
            if c.significant_loss:
                text += " (significant loss)"
        items.append(ReportItem(text=text, tag="Count variance", at=c.counted_at, concern=1,
                                href=href))  # fmt: skip
    return items


def _pending_lines(scope, tz, href) -> list[ReportItem]:
    """Stocks owing a count at the shift's start or end change without a completed count within
    an hour of it (the shift-count scan's rule): pending until that hour is over, then not
    counted. Two queries for both changes."""
    changes = [c for c in (scope.start, scope.end) if c - COUNT_GRACE <= scope.now]
    if not changes:
        return []
    stocks = list(
        owing_counts(_stocks(scope, ControlledStock.objects.all()))
        .annotate(first=Min("movements__at"))
        .select_related("medication", "admission__client")
        .order_by("medication__name", "pk")
    )
    if not stocks:
        return []
    counted = list(
        ControlledCount.objects.filter(
            stock__in=[s.pk for s in stocks],
            completed_at__isnull=False,
            counted_at__gte=changes[0] - COUNT_GRACE,
            counted_at__lte=changes[-1] + COUNT_GRACE,
        ).values_list("stock_id", "counted_at")
    )
    items = []
    for change in changes:
        owing = [s for s in stocks if s.first is not None and s.first <= change]
        done = {pk for pk, at in counted if change - COUNT_GRACE <= at <= change + COUNT_GRACE}
        missing = [s for s in owing if s.pk not in done]
        if not missing:
            continue
        names = ", ".join(_stock_name(s) for s in missing)
        still_open = scope.now <= change + COUNT_GRACE
        tag = "Count pending" if still_open else "Not counted"
        text = (
            f"{len(missing)} of {len(owing)} controlled stocks "
            f"{'not yet counted' if still_open else 'not counted'} at the "
            f"{_clock(change, tz)} shift change: {names}"
        )
        items.append(ReportItem(text=text, tag=tag, at=change, concern=1 if still_open else 2,
                                href=href))  # fmt: skip
    return items


def facility(scope) -> list[ReportItem]:
    """Controlled counts and their variances, and counts owed: three queries."""
    tz = scope.facility.tz
    href = reverse("medications:controlled")
    return _count_lines(scope, tz, href) + _pending_lines(scope, tz, href)


register_report_section(
    ReportSection(
        key="medications",
        title="Medications",
        clients=clients,
        facility=facility,
        order=70,
    )
)
