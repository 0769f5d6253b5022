"""Groups in the client chart (issue 12 item 5: each client's attendance lands in their chart):
the chart section (this week's groups and clinical hours against the target of the level of
care) and the timeline source (every group documented, struck rows shown struck)."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from facility.registry import TimelineEntry
from observations import groups as rules
from observations.models import AttendanceStatus, GroupAttendance
from observations.services.groups import clinical_progress, week_attendance

# A roster documented this long after the group ended is a late entry (DESIGN.md §2: 60 minutes
# for entries other than rounds).
LATE_AFTER = timedelta(minutes=60)
SENTINEL = "00000000-0000-0000-0000-000000000000"


def _status_text(row: GroupAttendance) -> str:
    """ "Present · active", "Partial 35 min", "Excused: On leave (Pass)"."""
    text = row.get_status_display()
    if row.status == AttendanceStatus.PARTIAL and row.minutes:
        text += f" {row.minutes} min"
    if row.participation:
        text += f" · {row.get_participation_display().lower()} participation"
    if row.excuse_reason:
        text += f": {row.excuse_reason}"
    return text


def _struck_text(row: GroupAttendance, tz) -> str:
    if row.struck_at is None:
        return ""
    when = timezone.localtime(row.struck_at, tz)
    return f"Changed: {row.struck_reason} ({row.struck_by.signature}, {when:%Y-%m-%d %H:%M})"


def groups_section(request, client, admission) -> dict:
    """This week's groups of the stay (struck rows shown struck) and the clinical hours against
    the target: three queries."""
    if admission is None:
        return {"admission": None}
    now = timezone.now()
    at = now if admission.is_open else admission.discharged_at
    tz = admission.facility.tz
    rows = week_attendance(admission, at=at)
    start, _ = rules.week_bounds(at, tz)
    return {
        "admission": admission,
        "rows": [
            (row, _status_text(row), rules.counts_as_clinical(row.session.group_type))
            for row in rows
        ],
        "progress": clinical_progress([admission], at=at)[admission.pk],
        "week_start": timezone.localtime(start, tz),
    }


def group_timeline(admission, *, since=None, until=None, user=None) -> list[TimelineEntry]:
    """The stay's group attendance between two instants (by the session's start) for the
    chart's timeline, struck rows shown struck with the reason for the change: one query."""
    found = GroupAttendance.objects.filter(admission=admission).select_related(
        "session__topic", "session__facilitator", "recorded_by", "struck_by"
    )
    if since is not None:
        found = found.filter(session__starts_at__gte=since)
    if until is not None:
        found = found.filter(session__starts_at__lt=until)
    tz = admission.facility.tz
    pattern = reverse("observations:group_attendance", args=[SENTINEL])
    entries = []
    for row in found.order_by("-session__starts_at", "-id"):
        session = row.session
        clinical = "" if rules.counts_as_clinical(session.group_type) else " (not clinical hours)"
        text = _status_text(row)
        if row.note:
            text += f" · {row.note}"
        entries.append(
            TimelineEntry(
                kind="group",
                at=session.starts_at,
                title=f"Group: {session.topic.title} · {session.get_group_type_display()}"
                f"{clinical}",
                text=f"{text} · {session.starts_at.astimezone(tz):%H:%M}–"
                f"{session.ends_at.astimezone(tz):%H:%M}, facilitator "
                f"{session.facilitator.signature}",
                author=row.recorded_by.signature,
                href=pattern.replace(SENTINEL, str(session.public_id)),
                recorded_at=row.recorded_at,
                struck=row.struck_at is not None,
                struck_note=_struck_text(row, tz),
                late=row.recorded_at > session.ends_at + LATE_AFTER,
            )
        )
    return entries
