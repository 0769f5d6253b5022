"""Groups (specs/charting.md, Groups and attendance; issue 12 item 5): a facility's curriculum and
weekly clinical-hours targets, sessions held from it, attendance documented once for the whole
roster, and each client's clinical hours against the target of their level of care.

The math (clinical types, minutes per status, the week on the facility's clock) is in
observations/groups.py.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clients.models import Admission, BedMove, Leave, LevelOfCare
from facility import policy
from facility.models import Facility, Unit, User
from observations import groups as rules
from observations.models import (
    AttendanceStatus,
    ClinicalHoursTarget,
    GroupAttendance,
    GroupSession,
    GroupTopic,
    GroupType,
)

# A session may be entered up to a week after it was held, and planned up to a week ahead.
MAX_BACK = timedelta(days=7)
MAX_AHEAD = timedelta(days=7)
TEXT_LIMITS = {"excuse_reason": 200, "note": 200}
REASON_LIMIT = 300

# *Default* curriculum of a new facility (Haven's choice; admins edit it in Setup): a few topics
# per group type, the evidence-based staples of residential SUD and mental-health programs.
DEFAULT_CURRICULUM: list[tuple[str, str, str]] = [
    (GroupType.PSYCHOEDUCATION, "Addiction and the brain",
     "How substances change reward, stress and self-control."),
    (GroupType.PSYCHOEDUCATION, "Medications for addiction treatment",
     "Buprenorphine, methadone, naltrexone, acamprosate: what they do and myths."),
    (GroupType.PSYCHOEDUCATION, "Co-occurring disorders",
     "Depression, anxiety, trauma and substance use together."),
    (GroupType.PROCESS, "Process group",
     "Open group: what is coming up in treatment."),
    (GroupType.SKILLS, "DBT: distress tolerance",
     "TIPP, self-soothe, radical acceptance."),
    (GroupType.SKILLS, "DBT: emotion regulation",
     "Naming emotions, opposite action, PLEASE."),
    (GroupType.SKILLS, "CBT: thoughts and cravings",
     "Thought records, urge surfing, coping cards."),
    (GroupType.RELAPSE_PREVENTION, "Triggers and high-risk situations",
     "People, places and feelings that lead to use."),
    (GroupType.RELAPSE_PREVENTION, "My relapse prevention plan",
     "Warning signs, coping steps and supports."),
    (GroupType.MUTUAL_HELP, "12-step meeting (AA/NA)",
     "Peer-led meeting; not counted as clinical hours."),
    (GroupType.MUTUAL_HELP, "SMART Recovery meeting",
     "Peer-led meeting; not counted as clinical hours."),
    (GroupType.LIFE_SKILLS, "Budgeting and work",
     "Money, benefits, job search."),
    (GroupType.LIFE_SKILLS, "Sleep, nutrition and routine",
     "Daily structure that supports recovery."),
    (GroupType.RECREATION, "Recreation and exercise",
     "Walk, gym or games; not counted as clinical hours."),
    (GroupType.FAMILY, "Family education group",
     "For clients and families: addiction, boundaries, support."),
]  # fmt: skip

# *Default* weekly clinical group hours per level of care (Haven's choice, set per facility in
# Setup to the state's rule). 3.1: the ASAM criteria's minimum of 5 hours a week of clinical
# services for clinically managed low-intensity residential care. The others are a starting
# point: withdrawal management is medical stabilization first; 3.5 and 3.7 residential programs
# commonly schedule 15 or more hours of groups; mental-health residential 10.
DEFAULT_TARGETS: dict[str, Decimal] = {
    LevelOfCare.WITHDRAWAL: Decimal("5"),
    LevelOfCare.HIGH_INTENSITY: Decimal("15"),
    LevelOfCare.MEDICALLY_MONITORED: Decimal("15"),
    LevelOfCare.CLINICALLY_MANAGED: Decimal("5"),
    LevelOfCare.MENTAL_HEALTH: Decimal("10"),
}


# ---------------------------------------------------------------- facility defaults


@transaction.atomic
def groups_seed_defaults(facility: Facility) -> None:
    """Give a facility the default curriculum and weekly targets (idempotent): two INSERTs that
    skip what exists, so a test fixture making facilities stays fast. Like every facility
    default they come with the facility's creation; later changes in Setup are audited."""
    GroupTopic.objects.bulk_create(
        [
            GroupTopic(facility=facility, group_type=kind, title=title, description=about)
            for kind, title, about in DEFAULT_CURRICULUM
        ],
        ignore_conflicts=True,
    )
    ClinicalHoursTarget.objects.bulk_create(
        [
            ClinicalHoursTarget(facility=facility, level_of_care=level, hours_per_week=hours)
            for level, hours in DEFAULT_TARGETS.items()
        ],
        ignore_conflicts=True,
    )


# ---------------------------------------------------------------- who runs groups


def facilitator_choices(facility: Facility):
    """Active staff of the facility whose role runs groups."""
    return User.objects.filter(
        facilities=facility, is_active=True, role__in=policy.roles_with("groups.document")
    ).order_by("full_name", "username")


# ---------------------------------------------------------------- sessions


@transaction.atomic
def group_session_create(
    *,
    actor: User,
    facility: Facility,
    topic: GroupTopic,
    facilitator: User,
    starts_at: datetime,
    ends_at: datetime,
    co_facilitator: User | None = None,
    location: str = "",
    unit: Unit | None = None,
    now: datetime | None = None,
) -> GroupSession:
    """Record a group held (or planned) from the facility's active curriculum: its type is the
    topic's, its facilitators staff of the facility who run groups, for one unit or (no unit)
    the whole facility. At most 4 hours long, a week back or ahead."""
    policy.require(actor, "groups.document", facility)
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if topic.facility_id != facility.pk or not topic.active:
        errors["topic"] = "Topic: choose one of this facility's curriculum."
    runs = set(facilitator_choices(facility).values_list("pk", flat=True))
    if facilitator.pk not in runs:
        errors["facilitator"] = "Facilitator: choose a staff member here who runs groups."
    if co_facilitator is not None:
        if co_facilitator.pk == facilitator.pk:
            errors["co_facilitator"] = "Co-facilitator: choose someone other than the facilitator."
        elif co_facilitator.pk not in runs:
            errors["co_facilitator"] = "Co-facilitator: choose a staff member here who runs groups."
    if unit is not None and unit.facility_id != facility.pk:
        errors["unit"] = "Unit: choose one of this facility's units."
    length = rules.session_minutes(starts_at, ends_at)
    if ends_at <= starts_at:
        errors["ends_at"] = "Ends: must be after the start."
    elif length > rules.MAX_SESSION_MINUTES:
        errors["ends_at"] = "Ends: a group lasts at most 4 hours."
    if starts_at < now - MAX_BACK:
        errors["starts_at"] = "Starts: a group is entered at most 7 days after it was held."
    elif starts_at > now + MAX_AHEAD:
        errors["starts_at"] = "Starts: a group is planned at most 7 days ahead."
    location = location.strip()
    if len(location) > 120:
        errors["location"] = "Location: at most 120 characters."
    if errors:
        raise ValidationError(errors)
    return GroupSession.objects.create(
        facility=facility,
        unit=unit,
        topic=topic,
        group_type=topic.group_type,
        facilitator=facilitator,
        co_facilitator=co_facilitator,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location,
        recorded_at=now,
        recorded_by=actor,
    )


# ---------------------------------------------------------------- the roster


@dataclass
class RosterLine:
    """One eligible client of a session: their stay, the attendance documented now (if any),
    a leave overlapping the session, and whether that leave covers all of it (then they are
    excused automatically and the line is locked)."""

    admission: Admission
    current: GroupAttendance | None = None
    leave: Leave | None = None
    locked: bool = False

    @property
    def leave_reason(self) -> str:
        return f"On leave ({self.leave.get_kind_display()})" if self.leave else ""


def _unit_at(moves: list[tuple[datetime, int]], at: datetime, fallback: int) -> int:
    """The unit a stay's bed was on at `at`: the last move at or before it, else the first bed
    (a client admitted during the session), else the stay's unit."""
    unit = None
    for moved_at, unit_id in moves:
        if moved_at <= at:
            unit = unit_id
        elif unit is None:
            return unit_id
    return unit if unit is not None else fallback


def session_roster(session: GroupSession) -> list[RosterLine]:
    """Everyone eligible for a session, in four queries whatever the roster's size: the stays
    open at some moment of the session in its facility (on its unit then, for a unit's group,
    from the bed history), the leaves overlapping it, and the attendance documented. A client
    documented once stays on the roster (nothing vanishes)."""
    starts, ends = session.starts_at, session.ends_at
    current = {
        row.admission_id: row
        for row in GroupAttendance.objects.filter(session=session, struck_at__isnull=True)
        .select_related("recorded_by")
        .order_by("id")
    }
    stays = list(
        Admission.objects.filter(facility_id=session.facility_id, admitted_at__lt=ends)
        .filter(
            Q(discharged_at__isnull=True) | Q(discharged_at__gt=starts) | Q(pk__in=list(current))
        )
        .select_related("client", "bed", "unit", "facility")
    )
    if session.unit_id is not None:
        moves: dict[int, list] = defaultdict(list)
        for admission_id, moved_at, unit_id in (
            BedMove.objects.filter(admission__in=[a.pk for a in stays])
            .order_by("moved_at", "id")
            .values_list("admission_id", "moved_at", "to_bed__unit_id")
        ):
            moves[admission_id].append((moved_at, unit_id))
        stays = [
            a
            for a in stays
            if a.pk in current or _unit_at(moves[a.pk], starts, a.unit_id) == session.unit_id
        ]
    leaves: dict[int, Leave] = {}
    for leave in (
        Leave.objects.filter(admission__in=[a.pk for a in stays], left_at__lt=ends)
        .filter(Q(returned_at__isnull=True) | Q(returned_at__gt=starts))
        .order_by("left_at")
    ):
        leaves.setdefault(leave.admission_id, leave)
    lines = []
    for a in stays:
        leave = leaves.get(a.pk)
        whole = (
            leave is not None
            and leave.left_at <= starts
            and (leave.returned_at is None or leave.returned_at >= ends)
        )
        lines.append(RosterLine(admission=a, current=current.get(a.pk), leave=leave, locked=whole))
    lines.sort(
        key=lambda line: (
            line.admission.unit.name,
            line.admission.bed.label if line.admission.bed_id else "",
            line.admission.client.display_name,
        )
    )
    return lines


# ---------------------------------------------------------------- attendance


@dataclass(frozen=True)
class AttendanceRow:
    """What was documented for one client: status, minutes (partial), participation, a reason
    (excused) and a one-line note."""

    admission: Admission
    status: str
    minutes: int | None = None
    participation: str = ""
    excuse_reason: str = ""
    note: str = ""

    def same_as(self, row: GroupAttendance) -> bool:
        """Says what the documented row says (then documenting again leaves it alone)."""
        minutes = self.minutes if self.status == AttendanceStatus.PARTIAL else None
        excuse, note = self.excuse_reason.strip(), self.note.strip()
        return (self.status, minutes, self.participation, excuse, note) == (
            row.status,
            row.minutes,
            row.participation,
            row.excuse_reason,
            row.note,
        )


@dataclass(frozen=True)
class DocumentResult:
    created: int  # rows written for clients not documented before
    changed: int  # rows struck and written anew
    unchanged: int


def _field(name: str, admission: Admission) -> str:
    """The key of one client's field in errors: the attendance form's field name."""
    return f"{name}-{admission.public_id}"


def _row_errors(row: AttendanceRow, length: int) -> dict[str, str]:
    name = row.admission.client.display_name
    errors = {
        _field(field, row.admission): f"{name}: {message}"
        for field, message in rules.row_errors(
            status=row.status,
            minutes=row.minutes,
            length=length,
            participation=row.participation,
            excuse_reason=row.excuse_reason,
        ).items()
    }
    if row.status != AttendanceStatus.EXCUSED and row.excuse_reason.strip():
        errors[_field("excuse_reason", row.admission)] = (
            f"{name}: a reason is only for an excused client."
        )
    for field, limit in TEXT_LIMITS.items():
        if len(getattr(row, field)) > limit:
            errors[_field(field, row.admission)] = f"{name}: at most {limit} characters."
    return errors


@transaction.atomic
def group_attendance_document(
    *,
    actor: User,
    session: GroupSession,
    rows: list[AttendanceRow],
    reason: str = "",
    now: datetime | None = None,
) -> DocumentResult:
    """Document a session's attendance for its whole roster in one transaction
    (specs/charting.md: documented once, it lands in each client's chart).

    Every eligible client needs a status, except those on leave for the whole session, who are
    excused automatically ("On leave (Pass)") and cannot be documented otherwise. Partial needs
    1 to the session's length in minutes, excused a reason, participation an attended client.
    Documenting again changes a client's attendance only by striking the old row (with the
    reason, required then) and inserting the new one: never an edit, nothing vanishes; a client
    left out of a re-documentation keeps their row. Posts for one session are serialized by a
    lock on its row.
    """
    policy.require(actor, "groups.document", session)
    now = now or timezone.now()
    session = GroupSession.objects.select_for_update().select_related("facility").get(pk=session.pk)
    if now < session.starts_at:
        local = timezone.localtime(session.starts_at, session.facility.tz)
        raise ValidationError(
            f"Attendance is documented once the group has started ({local:%H:%M})."
        )
    length = rules.session_minutes(session.starts_at, session.ends_at)
    roster = {line.admission.pk: line for line in session_roster(session)}
    errors: dict[str, str | list[str]] = {}
    posted: dict[int, AttendanceRow] = {}
    strays = []
    for row in rows:
        line = roster.get(row.admission.pk)
        name = row.admission.client.display_name
        if line is None:
            strays.append(f"{name}: not on this group's roster.")
        elif row.admission.pk in posted:
            strays.append(f"{name}: documented twice in one post.")
        elif line.locked and row.status != AttendanceStatus.EXCUSED:
            errors[_field("status", row.admission)] = (
                f"{name}: on leave for the whole group, excused automatically."
            )
        else:
            posted[row.admission.pk] = row
            if not line.locked:
                errors.update(_row_errors(row, length))
    wanted: dict[int, AttendanceRow] = {}
    for admission_id, line in roster.items():
        if line.locked:
            wanted[admission_id] = AttendanceRow(
                admission=line.admission,
                status=AttendanceStatus.EXCUSED,
                excuse_reason=line.leave_reason,
            )
        elif admission_id in posted:
            wanted[admission_id] = posted[admission_id]
        elif line.current is None:
            name = line.admission.client.display_name
            errors[_field("status", line.admission)] = (
                f"{name}: choose present, partial, absent, refused or excused."
            )
    if strays:
        errors[NON_FIELD_ERRORS] = strays
    changed = [
        line.current
        for admission_id, line in roster.items()
        if admission_id in wanted
        and line.current is not None
        and not wanted[admission_id].same_as(line.current)
    ]
    reason = reason.strip()
    if changed and not reason:
        errors["reason"] = "Reason for the changes: say why the attendance documented changes."
    elif len(reason) > REASON_LIMIT:
        errors["reason"] = f"Reason for the changes: at most {REASON_LIMIT} characters."
    if errors:
        raise ValidationError(errors)
    if changed:
        GroupAttendance.objects.filter(pk__in=[row.pk for row in changed]).update(
            struck_at=now, struck_by=actor, struck_reason=reason
        )
    new_rows = [
        GroupAttendance(
            session=session,
            admission=row.admission,
            status=row.status,
            minutes=row.minutes if row.status == AttendanceStatus.PARTIAL else None,
            participation=row.participation,
            excuse_reason=row.excuse_reason.strip(),
            note=row.note.strip(),
            recorded_at=now,
            recorded_by=actor,
        )
        for admission_id, row in wanted.items()
        if roster[admission_id].current is None or roster[admission_id].current in changed
    ]
    GroupAttendance.objects.bulk_create(new_rows)
    session.documented_at = now
    session.documented_by = actor
    session.save(update_fields=["documented_at", "documented_by"])
    return DocumentResult(
        created=len(new_rows) - len(changed),
        changed=len(changed),
        unchanged=len(roster) - len(new_rows),
    )


# ---------------------------------------------------------------- hours against the target


def targets_for(facility_ids) -> dict[tuple[int, str], Decimal]:
    """{(facility id, level of care): weekly hours} for the facilities (one query)."""
    return {
        (facility_id, level): hours
        for facility_id, level, hours in ClinicalHoursTarget.objects.filter(
            facility_id__in=list(facility_ids)
        ).values_list("facility_id", "level_of_care", "hours_per_week")
    }


def clinical_progress(admissions, *, at: datetime) -> dict[int, rules.Progress]:
    """Each stay's clinical group hours in the week holding `at` (Monday 00:00 on its
    facility's clock) against its level of care's target: two queries for any number of stays."""
    admissions = list(admissions)
    if not admissions:
        return {}
    by_facility: dict[int, list[Admission]] = defaultdict(list)
    for a in admissions:
        by_facility[a.facility_id].append(a)
    week = Q()
    for stays in by_facility.values():
        start, end = rules.week_bounds(at, stays[0].facility.tz)
        week |= Q(
            admission__in=[a.pk for a in stays],
            session__starts_at__gte=start,
            session__starts_at__lt=end,
        )
    rows: dict[int, list] = defaultdict(list)
    for admission_id, kind, status, minutes, starts, ends in GroupAttendance.objects.filter(
        week, struck_at__isnull=True
    ).values_list(
        "admission_id",
        "session__group_type",
        "status",
        "minutes",
        "session__starts_at",
        "session__ends_at",
    ):
        rows[admission_id].append((kind, status, minutes, rules.session_minutes(starts, ends)))
    targets = targets_for(by_facility)
    return {
        a.pk: rules.progress(rows[a.pk], targets.get((a.facility_id, a.level_of_care)))
        for a in admissions
    }


def week_attendance(admission: Admission, *, at: datetime):
    """A stay's attendance rows of the week holding `at`, struck ones included (shown struck),
    oldest session first."""
    start, end = rules.week_bounds(at, admission.facility.tz)
    return list(
        GroupAttendance.objects.filter(
            admission=admission, session__starts_at__gte=start, session__starts_at__lt=end
        )
        .select_related("session__topic", "recorded_by", "struck_by")
        .order_by("session__starts_at", "id")
    )
