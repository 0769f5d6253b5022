"""The shift handoff (issue 15 item 3; specs/shift-report.md, Handoff), and the shift report as
it is printed.

A Handoff is keyed by the shift whose report is handed over (the outgoing shift), per unit or for
the whole facility (unit None). The outgoing charge staff marks it *given*; someone else, the
oncoming, marks it *received*, and at that moment the report is rendered to PDF and stored with
its SHA-256: what was handed over can be shown later, unchanged (migration 0016's trigger refuses
any change to a received row, and every delete). A report not received 30 minutes after the next
shift starts alerts the supervisor (`scan_handoffs_unreceived`).

This module imports no domain app: the report comes from facility/shift_report.py.
"""

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from facility.models import AlertSeverity, Facility, Handoff, Unit, User
from facility.pdf import render_pdf
from facility.services import alert_raise, alerts_close
from facility.shift_report import ShiftReport, build_shift_report

# The handoff of a shift is owed this long after the next shift starts (specs: *default* 30 min).
RECEIVE_WITHIN = timedelta(minutes=30)
# A shift's handoff may be given or received until a day after it ended; later it is history.
HANDOFF_OPEN_FOR = timedelta(hours=24)
# The outgoing staff may mark a report given only in the last hour of their shift (or after it):
# a report given minutes into the shift would be frozen as what was handed over.
GIVE_FROM = timedelta(minutes=60)
# The scan looks back this far for shifts whose report is owed, so a skipped run still alerts.
SCAN_BACK = timedelta(hours=24)
ALERT_KIND = "handoff_unreceived"


# ---------------------------------------------------------------- the report as shown and printed


@dataclass(frozen=True)
class Line:
    """A report line ready for a template: its time already in the facility's clock."""

    tag: str
    text: str
    time: str
    href: str
    concern: int


def local_time(at, start: datetime, tz) -> str:
    """An event time on the facility's clock: "14:05" on the shift's first day, "Sun 02:10"
    within a day of it (a night shift crosses midnight), else "7 Mar 14:05"."""
    if at is None:
        return ""
    local, first = timezone.localtime(at, tz), timezone.localtime(start, tz).date()
    if local.date() == first:
        return f"{local:%H:%M}"
    if abs((local.date() - first).days) <= 1:
        return f"{local:%a %H:%M}"
    return f"{local.day} {local:%b %H:%M}"


def _line(item, start, tz) -> Line:
    return Line(item.tag, item.text, local_time(item.at, start, tz), item.href, item.concern)


# The quiet line of a client: at most this many of its information lines, each this long.
QUIET_SHOWN = 3
QUIET_BRIEF_MAX = 48


def _brief(item) -> str:
    """An information line said short for the quiet row: "Level q60 Routine", "CIWA-Ar from 4
    at 06:00 → 09:00 6, unchanged", "Lab result, urine: negative" (asides in brackets and a
    level's "since" left out)."""
    text = re.sub(r"\s*\([^()]*\)", "", item.text.split(" since ")[0]).strip()
    first = item.tag.split(" ")[0] if item.tag else ""
    if first and not text.startswith(first):
        text = f"{item.tag} {text}" if item.tag == "Level" else f"{item.tag}: {text}"
    return text if len(text) <= QUIET_BRIEF_MAX else text[: QUIET_BRIEF_MAX - 1] + "…"


class QuietRow:
    """A quiet client as its one line shows it: the ReportClient's fields, and `summary`, its
    information lines said short (QUIET_SHOWN of them, then "+N more"), so nothing the report
    knows about the client is left off the page; `full` has them all (the row's tooltip)."""

    def __init__(self, block):
        self.client = block.client
        briefs = [_brief(item) for _, item in block.lines]
        shown = " · ".join(briefs[:QUIET_SHOWN])
        more = len(briefs) - QUIET_SHOWN
        self.summary = f"{shown} · +{more} more" if more > 0 else shown
        self.full = " · ".join(briefs)

    def __getattr__(self, name):
        return getattr(self.__dict__["client"], name)


def presented(report: ShiftReport) -> dict:
    """The report as the page and the PDF lay it out: facility sections, expanded clients with
    their lines grouped by section title (in the order build_shift_report gives), quiet clients."""
    tz, start = report.scope.facility.tz, report.scope.start
    expanded = []
    for block in report.expanded:
        groups: list[tuple[str, list[Line]]] = []
        for title, item in block.lines:
            if not groups or groups[-1][0] != title:
                groups.append((title, []))
            groups[-1][1].append(_line(item, start, tz))
        expanded.append({"client": block.client, "concern": block.concern, "groups": groups})
    return {
        "report": report,
        "facility_sections": [
            (title, [_line(i, start, tz) for i in items])
            for title, items in report.facility_sections
        ],
        "expanded": expanded,
        "quiet": [QuietRow(b) for b in report.quiet],
        "start_local": timezone.localtime(report.scope.start, tz),
        "end_local": timezone.localtime(report.scope.end, tz),
        "running": report.scope.start <= report.scope.now < report.scope.end,
    }


def report_period(report: ShiftReport) -> str:
    """The shift as a heading reads it: "Night 23–07, Sat 7 Mar 2026"."""
    return f"{report.shift_label}, {report.day:%a} {report.day.day} {report.day:%b %Y}"


def report_print(report: ShiftReport, *, handoff: Handoff | None = None) -> dict:
    """What `facility.pdf.render_pdf` / `pdf_response` need to print the report."""
    unit = report.scope.unit
    return {
        "template": "pdf/shift_report.html",
        "context": {**presented(report), "handoff": handoff},
        "facility": report.scope.facility,
        "title": "Shift report",
        "unit": unit.name if unit else "All units",
        "period": report_period(report),
    }


def report_url(
    facility: Facility, unit: Unit | None, day, shift_key: str, *, name: str = "shift_report"
) -> str:
    """The report page (or its PDF) of one shift and unit."""
    query = {"day": day.isoformat(), "shift": shift_key}
    if unit is not None:
        query["unit"] = str(unit.public_id)
    return f"{reverse(name)}?{urlencode(query)}"


# ---------------------------------------------------------------- handoff services


def _where(unit: Unit | None) -> str:
    return unit.name if unit is not None else "the whole facility"


def handoff_opens_at(facility: Facility, day, shift_key: str) -> datetime:
    """When the report of a shift may first be marked given: GIVE_FROM before its end."""
    return facility.shift_bounds(day, shift_key)[1] - GIVE_FROM


def _open_for_handoff(facility: Facility, day, shift_key: str, now: datetime):
    """The shift's bounds, if its handoff may be given or received now: from GIVE_FROM before
    the shift ends until HANDOFF_OPEN_FOR after."""
    start, end = facility.shift_bounds(day, shift_key)
    if start > now:
        raise ValidationError({"shift": "Shift: that shift has not started yet."})
    if now < end - GIVE_FROM:
        opens, minutes = _when(end - GIVE_FROM, facility), int(GIVE_FROM.total_seconds() // 60)
        raise ValidationError({"shift": (
            f"Shift: the report of this shift can be handed over from {opens}, {minutes} minutes "
            "before it ends."
        )})  # fmt: skip
    if end + HANDOFF_OPEN_FOR < now:
        raise ValidationError({"shift": "Shift: that shift ended more than a day ago."})
    return start, end


def _scoped(facility: Facility, unit: Unit | None):
    if unit is not None and unit.facility_id != facility.pk:
        raise ValidationError({"unit": "Unit: choose one of this facility's units."})
    return Handoff.objects.filter(facility=facility, unit=unit)


def handoff_for(facility: Facility, unit: Unit | None, day, shift_key: str) -> Handoff | None:
    """The handoff row of one shift (and unit), if anyone has touched it."""
    return (
        Handoff.objects.filter(facility=facility, unit=unit, day=day, shift_key=shift_key)
        .select_related("given_by", "received_by")
        .first()
    )


def _when(at, facility: Facility) -> str:
    return f"{timezone.localtime(at, facility.tz):%H:%M}"


@transaction.atomic
def handoff_give(
    *, actor: User, facility: Facility, unit: Unit | None, day, shift_key: str, now=None
) -> Handoff:
    """The outgoing charge staff mark the report of their shift given (specs/shift-report.md).

    Idempotent against a double tap: the row is locked, and a second "given" is refused with who
    gave it and when."""
    now = now or timezone.now()
    start, _ = _open_for_handoff(facility, day, shift_key, now)
    rows = _scoped(facility, unit)
    # INSERT … ON CONFLICT DO NOTHING, then lock: two first taps racing make one row.
    Handoff.objects.bulk_create(
        [Handoff(facility=facility, unit=unit, day=day, shift_key=shift_key, shift_start=start)],
        ignore_conflicts=True,
    )
    handoff = (
        rows.select_for_update(of=("self",))
        .select_related("given_by", "received_by")
        .get(day=day, shift_key=shift_key)
    )
    if handoff.received_at is not None:
        raise ValidationError(
            f"Report already received by {handoff.received_by} at "
            f"{_when(handoff.received_at, facility)}."
        )
    if handoff.given_at is not None:
        raise ValidationError(
            f"Report already marked given by {handoff.given_by} at "
            f"{_when(handoff.given_at, facility)}."
        )
    handoff.given_by, handoff.given_at = actor, now
    handoff.save(update_fields=["given_by", "given_at"])
    return handoff


def alert_key(unit: Unit, day, shift_key: str) -> str:
    return f"handoff:{unit.public_id}:{day.isoformat()}:{shift_key}"


@transaction.atomic
def handoff_receive(
    *, actor: User, facility: Facility, unit: Unit | None, day, shift_key: str, now=None
) -> Handoff:
    """The oncoming staff acknowledge the report: it is rendered to PDF at this moment and
    frozen with its SHA-256 (issue 15 item 3). The receiver is not the giver (a handoff is
    between two people). Closes the "not received" alerts it answers.

    Idempotent against a double tap: the second waits for the first's lock, then is refused."""
    now = now or timezone.now()
    _open_for_handoff(facility, day, shift_key, now)
    handoff = (
        _scoped(facility, unit)
        .select_for_update(of=("self",))
        .filter(day=day, shift_key=shift_key)
        .select_related("given_by", "received_by")
        .first()
    )
    if handoff is None or handoff.given_at is None:
        raise ValidationError(
            "Report received: the outgoing staff must mark the report given first."
        )
    if handoff.received_at is not None:
        raise ValidationError(
            f"Report already received by {handoff.received_by} at "
            f"{_when(handoff.received_at, facility)}."
        )
    if handoff.given_by_id == actor.pk:
        raise ValidationError(
            "Report received: you gave this report; the oncoming staff member receives it."
        )
    handoff.received_by, handoff.received_at = actor, now
    report = build_shift_report(facility, day=day, shift_key=shift_key, now=now, unit=unit)
    handoff.pdf = render_pdf(printed_by=actor, **report_print(report, handoff=handoff))
    handoff.sha256 = hashlib.sha256(handoff.pdf).hexdigest()
    handoff.save(update_fields=["received_by", "received_at", "pdf", "sha256"])
    # A whole-facility handoff answers every unit's alert for the shift.
    units = [unit] if unit is not None else list(facility.units.all())
    alerts_close(
        [alert_key(u, day, shift_key) for u in units],
        user=actor,
        note=f"Report received by {actor} at {_when(now, facility)}.",
        now=now,
    )
    return handoff


def verify_frozen(handoff: Handoff) -> bool:
    """The stored PDF is the one acknowledged: its SHA-256 matches the one stored with it."""
    if handoff.pdf is None or not handoff.sha256:
        return False
    return hashlib.sha256(bytes(handoff.pdf)).hexdigest() == handoff.sha256


# ---------------------------------------------------------------- the scan


def _owed_shifts(facility: Facility, now: datetime) -> list[tuple]:
    """(day, key) of every shift that ended within SCAN_BACK before `now` and whose next shift
    started RECEIVE_WITHIN ago or more: their reports are owed by now."""
    day, key = facility.current_shift(now)
    start, _ = facility.shift_bounds(day, key)
    owed = []
    while start > now - SCAN_BACK:  # `start` is the end of the shift before it
        day, key = facility.current_shift(start - timedelta(seconds=1))
        if now >= start + RECEIVE_WITHIN:
            owed.append((day, key))
        start, _ = facility.shift_bounds(day, key)
    return owed


def scan_handoffs_unreceived(now: datetime | None = None) -> int:
    """Alert the supervisor for each unit whose shift report is not received 30 minutes after
    the next shift started (specs/shift-report.md); returns alerts raised.

    Every shift that ended within the last SCAN_BACK (24 hours) is checked, not only the one
    just before: a run the beat skipped (a restart, a worker down) still alerts on the next one,
    and the dedupe key per unit and shift keeps it to one alert each.

    Units with at least one active bed are handed over. A whole-facility handoff (unit None)
    received for the shift counts for every unit. Two queries per facility (the received
    handoffs, the units), and one per unit and shift still owing its report."""
    now = now or timezone.now()
    raised = 0
    for facility in Facility.objects.all():
        owed = _owed_shifts(facility, now)
        if not owed:
            continue
        wanted = Q()
        for day, key in owed:
            wanted |= Q(day=day, shift_key=key)
        received = defaultdict(set)
        for day, key, unit_id in Handoff.objects.filter(
            wanted, facility=facility, received_at__isnull=False
        ).values_list("day", "shift_key", "unit_id"):
            received[(day, key)].add(unit_id)
        labels = dict(facility.shift_choices())
        units = list(
            Unit.objects.filter(facility=facility, beds__active=True).distinct().order_by("name")
        )
        for day, key in reversed(owed):  # oldest first
            done = received[(day, key)]
            if None in done:
                continue
            label = labels.get(key, key)
            for unit in units:
                if unit.pk in done:
                    continue
                _, created = alert_raise(
                    facility=facility,
                    kind=ALERT_KIND,
                    severity=AlertSeverity.WARNING,
                    message=(
                        f"{unit.name}: the {label} shift report of {day:%a} {day.day} {day:%b} "
                        f"was not received {int(RECEIVE_WITHIN.total_seconds() // 60)} minutes "
                        "into the next shift."
                    ),
                    dedupe_key=alert_key(unit, day, key),
                    link=report_url(facility, unit, day, key),
                    now=now,
                    audience="supervisor",
                )
                raised += created
    return raised
