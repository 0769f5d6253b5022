"""The clients app's part of the shift report (issue 15): the roster of stays a report covers and
the census section (beds, admissions, discharges, bed moves, leaves, outing restrictions).

Where a stay is on the report: a stay moved between units during the shift is on the report of
the unit it was in at the shift's end (or at its discharge, for a stay that ended in the shift),
read from its bed moves, so each stay is on one unit's report only.

Haven's choices: a leave is an *overdue return* once its expected return is LEAVE_OVERDUE_AFTER
past (the floor's alert, 15 minutes), and *absent without leave* (urgent, as the critical alert
is) from LEAVE_AWOL_AFTER (60 minutes).
"""

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from clients.models import Admission, BedMove, DischargeType, Leave, OutingRestriction
from clients.services import LEAVE_AWOL_AFTER, LEAVE_OVERDUE_AFTER
from facility.models import Bed
from facility.registry import (
    ReportClient,
    ReportItem,
    ReportSection,
    register_report_roster,
    register_report_section,
)

# Discharges the oncoming shift should hear about (the rest are information only).
NOTABLE_DISCHARGES = {DischargeType.AMA, DischargeType.HOSPITAL}


def _local(moment: datetime, tz) -> datetime:
    return timezone.localtime(moment, tz)


def _when(moment: datetime, tz, ref: datetime) -> str:
    """HH:MM on the facility clock, with the date when it is not the day of `ref`."""
    at, day = _local(moment, tz), _local(ref, tz).date()
    return f"{at:%H:%M}" if at.date() == day else f"{at:%Y-%m-%d %H:%M}"


def _until(end: datetime, now: datetime | None) -> datetime:
    """The moment "now" questions are asked at: the shift's end, or now while it runs."""
    return min(end, now) if now is not None else end


def _stays(facility, unit, start: datetime, end: datetime):
    """Every stay open at some instant of [start, end) in the facility, each with the bed (and
    so unit) it was in at the shift's end or its discharge, kept to `unit` when one is given.
    Two queries: the stays, their bed moves before the end."""
    stays = Admission.objects.filter(facility=facility, admitted_at__lt=end).exclude(
        discharged_at__lte=start
    )
    if unit is not None:
        # Was in the unit at some time (now, or by a bed move); narrowed below to the end.
        moved_in = BedMove.objects.filter(to_bed__unit=unit).values("admission_id")
        stays = stays.filter(Q(unit=unit) | Q(pk__in=moved_in))
    stays = list(stays.select_related("client", "unit", "bed"))
    beds: dict[int, Bed] = {}
    for move in (
        BedMove.objects.filter(admission__in=[s.pk for s in stays], moved_at__lt=end)
        .select_related("to_bed__unit")
        .order_by("moved_at", "id")
    ):
        beds[move.admission_id] = move.to_bed  # the last one before the end wins
    placed = []
    for stay in stays:
        bed = beds.get(stay.pk, stay.bed)
        bed_unit = bed.unit if bed is not None else stay.unit
        if unit is not None and bed_unit.pk != unit.pk:
            continue
        placed.append((stay, bed, bed_unit))
    return placed


def report_roster(
    facility, unit, start: datetime, end: datetime, *, now: datetime | None = None
) -> list[ReportClient]:
    """The stays of a shift report (facility/registry.py), in three queries whatever the census:
    stays, their bed moves, the leaves open at the end.

    A leave's "(overdue)" is judged at the report's moment, `now` (the shift's end once it is
    over), never at the clock: a report read later says what was true then. Without `now` the
    roster does not judge it; the census section's "Overdue return" line (at scope.now) says it."""
    tz = facility.tz
    placed = _stays(facility, unit, start, end)
    ids = [stay.pk for stay, _, _ in placed]
    away = {
        leave.admission_id: leave
        for leave in Leave.objects.filter(admission_id__in=ids, left_at__lt=end).filter(
            Q(returned_at__isnull=True) | Q(returned_at__gte=end)
        )
    }
    until = _until(end, now) if now is not None else end
    roster = []
    for stay, bed, bed_unit in placed:
        present = ""
        if stay.discharged_at is not None and stay.discharged_at < end:
            present = f"Discharged {_when(stay.discharged_at, tz, end)}"
        elif stay.pk in away:
            leave = away[stay.pk]
            present = (
                f"Off site: {leave.get_kind_display().lower()}, expected back "
                f"{_when(leave.expected_back_at, tz, until)}"
            )
            if now is not None and until - leave.expected_back_at >= LEAVE_OVERDUE_AFTER:
                present += " (overdue)"
        roster.append(
            ReportClient(
                admission_id=stay.pk,
                public_id=stay.client.public_id,
                name=stay.client.display_name,
                mrn=stay.client.mrn,
                unit=bed_unit.name,
                bed=bed.label if bed is not None else "",
                present=present,
            )
        )
    return roster


def _late(leave: Leave, until: datetime) -> timedelta | None:
    """How late the client is, when still away at `until` and past the overdue threshold."""
    if leave.left_at >= until or (leave.returned_at is not None and leave.returned_at < until):
        return None
    late = until - leave.expected_back_at
    return late if late >= LEAVE_OVERDUE_AFTER else None


def _overdue_item(leave: Leave, late: timedelta, tz, until: datetime, name: str = "") -> ReportItem:
    minutes = int(late.total_seconds() // 60)
    awol = late >= LEAVE_AWOL_AFTER
    who = f"{name} " if name else ""
    return ReportItem(
        text=f"{who}not back from {leave.get_kind_display().lower()}: expected "
        f"{_when(leave.expected_back_at, tz, until)}, {minutes} min late"
        + (": absent without leave?" if awol else ""),
        tag="Overdue return",
        at=leave.expected_back_at,
        concern=3 if awol else 2,
    )


def _chart(stay: Admission) -> str:
    return reverse("clients:chart", args=[stay.client.public_id])


def _census_clients(scope) -> dict[int, list[ReportItem]]:
    """Each stay's movement in the shift: admitted, discharged, moved, left, back, overdue, and
    outing restrictions set or lifted. Four queries whatever the census."""
    tz, start, end = scope.facility.tz, scope.start, scope.end
    until = _until(end, scope.now)
    ids = list(scope.admission_ids)
    stays = {s.pk: s for s in Admission.objects.filter(pk__in=ids).select_related("client", "bed")}
    items: dict[int, list[ReportItem]] = defaultdict(list)
    for stay in stays.values():
        href = _chart(stay)
        if start <= stay.admitted_at < end:
            items[stay.pk].append(
                ReportItem(
                    text=f"Admitted {_when(stay.admitted_at, tz, end)} "
                    f"({stay.get_level_of_care_display()})",
                    tag="Admission",
                    at=stay.admitted_at,
                    concern=1,
                    href=href,
                )
            )
        if stay.discharged_at is not None and start <= stay.discharged_at < end:
            items[stay.pk].append(
                ReportItem(
                    text=f"Discharged {_when(stay.discharged_at, tz, end)}: "
                    f"{stay.get_discharge_type_display()}",
                    tag="Discharge",
                    at=stay.discharged_at,
                    concern=1 if stay.discharge_type in NOTABLE_DISCHARGES else 0,
                    href=href,
                )
            )
    for move in BedMove.objects.filter(
        admission_id__in=ids, moved_at__gte=start, moved_at__lt=end, from_bed__isnull=False
    ).select_related("from_bed", "to_bed"):
        reason = f" ({move.reason})" if move.reason else ""
        items[move.admission_id].append(
            ReportItem(
                text=f"Moved {move.from_bed.label} → {move.to_bed.label}{reason}",
                tag="Bed move",
                at=move.moved_at,
                concern=0,
            )
        )
    leaves = Leave.objects.filter(admission_id__in=ids, left_at__lt=end).filter(
        Q(returned_at__isnull=True) | Q(returned_at__gte=start)
    )
    for leave in leaves:
        stay = stays.get(leave.admission_id)
        kind = leave.get_kind_display().lower()
        where = f" to {leave.destination}" if leave.destination else ""
        still_away = leave.returned_at is None or leave.returned_at >= until
        if start <= leave.left_at < end:
            items[leave.admission_id].append(
                ReportItem(
                    text=f"Left {_when(leave.left_at, tz, end)}: {kind}{where}, expected back "
                    f"{_when(leave.expected_back_at, tz, end)}",
                    tag="Leave",
                    at=leave.left_at,
                    concern=1 if still_away else 0,
                )
            )
        closed_by_discharge = stay is not None and leave.returned_at == stay.discharged_at
        if (
            leave.returned_at is not None
            and start <= leave.returned_at < end
            and not closed_by_discharge
        ):
            late = leave.returned_at - leave.expected_back_at
            late_text = (
                f", {int(late.total_seconds() // 60)} min after the expected "
                f"{_when(leave.expected_back_at, tz, end)}"
                if late >= LEAVE_OVERDUE_AFTER
                else ""
            )
            items[leave.admission_id].append(
                ReportItem(
                    text=f"Back {_when(leave.returned_at, tz, end)} from {kind}{late_text}",
                    tag="Back",
                    at=leave.returned_at,
                    concern=1 if late_text else 0,
                )
            )
        late = _late(leave, until)
        if late is not None:
            items[leave.admission_id].append(_overdue_item(leave, late, tz, until))
    restrictions = OutingRestriction.objects.filter(admission_id__in=ids).filter(
        Q(set_at__gte=start, set_at__lt=end) | Q(lifted_at__gte=start, lifted_at__lt=end)
    )
    for r in restrictions.select_related("set_by", "lifted_by"):
        if start <= r.set_at < end:
            items[r.admission_id].append(
                ReportItem(
                    text=f"No outings from {_when(r.set_at, tz, end)}: {r.reason} "
                    f"({r.set_by.signature})",
                    tag="Outing restriction",
                    at=r.set_at,
                    concern=1,
                )
            )
        if r.lifted_at is not None and start <= r.lifted_at < end:
            items[r.admission_id].append(
                ReportItem(
                    text=f"Outing restriction lifted {_when(r.lifted_at, tz, end)}: "
                    f"{r.lift_reason} ({r.lifted_by.signature})",
                    tag="Outing restriction",
                    at=r.lifted_at,
                    concern=0,
                )
            )
    return dict(items)


def _census_facility(scope) -> list[ReportItem]:
    """The census of the shift: beds occupied at its end (now, while it runs), admissions,
    discharges with their type, bed moves, clients off site with their expected return, and
    overdue returns. Five queries whatever the census."""
    tz, start, end = scope.facility.tz, scope.start, scope.end
    until = _until(end, scope.now)
    ids = list(scope.admission_ids)
    stays = list(Admission.objects.filter(pk__in=ids).select_related("client"))
    beds = Bed.objects.filter(unit__facility=scope.facility, active=True)
    if scope.unit is not None:
        beds = beds.filter(unit=scope.unit)
    total = beds.count()
    in_house = [
        s
        for s in stays
        if s.admitted_at <= until and (s.discharged_at is None or s.discharged_at > until)
    ]
    lines = [
        ReportItem(
            text=f"{len(in_house)} of {total} beds occupied at {_when(until, tz, end)}",
            tag="Beds",
            concern=0,
        )
    ]
    for stay in stays:
        name = f"{stay.client.display_name} ({stay.client.mrn})"
        if start <= stay.admitted_at < end:
            lines.append(
                ReportItem(
                    text=f"{name} admitted {_when(stay.admitted_at, tz, end)}",
                    tag="Admission",
                    at=stay.admitted_at,
                    concern=1,
                    href=_chart(stay),
                )
            )
        if stay.discharged_at is not None and start <= stay.discharged_at < end:
            lines.append(
                ReportItem(
                    text=f"{name} discharged {_when(stay.discharged_at, tz, end)}: "
                    f"{stay.get_discharge_type_display()}",
                    tag="Discharge",
                    at=stay.discharged_at,
                    concern=1 if stay.discharge_type in NOTABLE_DISCHARGES else 0,
                    href=_chart(stay),
                )
            )
    names = {s.pk: s.client.display_name for s in stays}
    for move in BedMove.objects.filter(
        admission_id__in=ids, moved_at__gte=start, moved_at__lt=end, from_bed__isnull=False
    ).select_related("from_bed__unit", "to_bed__unit"):
        lines.append(
            ReportItem(
                text=f"{names[move.admission_id]}: {move.from_bed.unit.name} "
                f"{move.from_bed.label} → {move.to_bed.unit.name} {move.to_bed.label}",
                tag="Bed move",
                at=move.moved_at,
                concern=0,
            )
        )
    away = Leave.objects.filter(admission_id__in=ids, left_at__lt=until).filter(
        Q(returned_at__isnull=True) | Q(returned_at__gte=until)
    )
    gone = {s.pk for s in stays if s.discharged_at is not None and s.discharged_at <= until}
    for leave in away:
        if leave.admission_id in gone:
            continue
        name = names[leave.admission_id]
        where = f" ({leave.destination})" if leave.destination else ""
        lines.append(
            ReportItem(
                text=f"{name}: {leave.get_kind_display().lower()}{where}, expected back "
                f"{_when(leave.expected_back_at, tz, until)}",
                tag="Off site",
                at=leave.left_at,
                concern=0,
            )
        )
        late = _late(leave, until)
        if late is not None:
            lines.append(_overdue_item(leave, late, tz, until, name=name))
    return lines


register_report_roster(report_roster)
register_report_section(
    ReportSection(
        key="census",
        title="Census",
        clients=_census_clients,
        facility=_census_facility,
        order=10,
    )
)
