"""Group pages (issue 12 item 5): the day's groups with each client's clinical hours this week,
a new session from the curriculum, and the attendance screen, where a whole roster is documented
in one post: one tap per present client and one Save (or "Rest present" and Save), clients on
leave for the whole group shown excused and locked."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from clients.models import Admission
from facility import policy
from facility.access import current_facility_or_404
from facility.forms import add_service_errors
from observations import groups as rules
from observations.group_forms import AttendanceForm, GroupDayForm, GroupSessionForm
from observations.models import AttendanceStatus, GroupAttendance, GroupParticipation, GroupSession
from observations.services.groups import (
    MAX_AHEAD,
    clinical_progress,
    facilitator_choices,
    group_attendance_document,
    group_session_create,
    session_roster,
)

STATUS_SHORT = {
    AttendanceStatus.PRESENT: "Present",
    AttendanceStatus.PARTIAL: "Partial",
    AttendanceStatus.ABSENT: "Absent",
    AttendanceStatus.REFUSED: "Refused",
    AttendanceStatus.EXCUSED: "Excused",
}


def _local_day_bounds(day, tz) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


@policy.requires("groups.view")
@require_GET
def groups_today(request):
    """The facility's groups of a day (today by default), newest first, with the count who
    attended, and every current client's clinical hours this week against their target."""
    facility = current_facility_or_404(request)
    tz = facility.tz
    timezone.activate(tz)
    form = GroupDayForm(request.GET)
    if not form.is_valid():
        raise Http404("No such day.")
    now = timezone.now()
    today = timezone.localtime(now, tz).date()
    day = form.cleaned_data["day"] or today
    if day > today + MAX_AHEAD:
        raise Http404("No groups are planned that far ahead.")
    start, end = _local_day_bounds(day, tz)
    attended = Q(
        attendance__struck_at__isnull=True,
        attendance__status__in=[AttendanceStatus.PRESENT, AttendanceStatus.PARTIAL],
    )
    sessions = list(
        GroupSession.objects.filter(facility=facility, starts_at__gte=start, starts_at__lt=end)
        .select_related("topic", "unit", "facilitator", "co_facilitator")
        .annotate(
            attended=Count("attendance", filter=attended),
            documented=Count("attendance", filter=Q(attendance__struck_at__isnull=True)),
        )
        .order_by("starts_at", "id")
    )
    stays = list(
        Admission.objects.current()
        .filter(facility=facility)
        .select_related("client", "bed", "unit", "facility")
        .order_by("unit__name", "bed__label")
    )
    progress = clinical_progress(stays, at=now)
    week_start, _ = rules.week_bounds(now, tz)
    return render(
        request,
        "observations/group_list.html",
        {
            "facility": facility,
            "day": day,
            "is_today": day == today,
            "previous_day": day - timedelta(days=1),
            # Groups are planned up to a week ahead (services.groups.MAX_AHEAD).
            "next_day": day + timedelta(days=1) if day < today + MAX_AHEAD else None,
            "sessions": [(s, rules.counts_as_clinical(s.group_type)) for s in sessions],
            "hours": [(a, progress[a.pk]) for a in stays],
            "week_start": timezone.localtime(week_start, tz),
            "can_document": policy.allows(request.user, "groups.document", facility),
        },
    )


@policy.requires("groups.document")
@require_http_methods(["GET", "POST"])
def group_new(request):
    """A new session from the facility's curriculum; then its attendance screen."""
    facility = current_facility_or_404(request)
    timezone.activate(facility.tz)
    now = timezone.localtime(timezone.now(), facility.tz)
    # The quarter hour just begun: a group is usually entered as it starts.
    start = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    initial = {"starts_at": start.strftime("%Y-%m-%dT%H:%M"), "length": 60}
    if facilitator_choices(facility).filter(pk=request.user.pk).exists():
        initial["facilitator"] = request.user.pk
    form = GroupSessionForm(request.POST or None, facility=facility, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = group_session_create(
                actor=request.user,
                facility=facility,
                topic=data["topic"],
                facilitator=data["facilitator"],
                co_facilitator=data["co_facilitator"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                location=data["location"],
                unit=data["unit"],
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            return redirect("observations:group_attendance", public_id=session.public_id)
    return render(
        request,
        "observations/group_form.html",
        {"form": form, "facility": facility, "has_topics": bool(form.fields["topic"].choices)},
        status=400 if form.errors else 200,
    )


@dataclass
class AttendanceLine:
    """One client on the attendance screen: who, what is chosen (posted, else documented),
    their hours this week and their errors."""

    line: object
    progress: rules.Progress
    status: str = ""
    minutes: str = ""
    participation: str = ""
    excuse_reason: str = ""
    note: str = ""
    errors: tuple = ()

    @property
    def admission(self):
        return self.line.admission

    @property
    def client(self):
        return self.line.admission.client

    @property
    def pid(self):
        return self.line.admission.public_id


def _lines(roster, progress, form: AttendanceForm | None) -> list[AttendanceLine]:
    posted = form is not None and form.is_bound
    out = []
    for line in roster:
        item = AttendanceLine(line=line, progress=progress[line.admission.pk])
        pid = line.admission.public_id
        if posted and not line.locked:
            data = form.data
            item.status = data.get(f"status-{pid}", "")[:10]
            item.minutes = data.get(f"minutes-{pid}", "")[:10]
            item.participation = data.get(f"participation-{pid}", "")[:10]
            item.excuse_reason = data.get(f"excuse_reason-{pid}", "")
            item.note = data.get(f"note-{pid}", "")
            item.errors = tuple(
                message
                for name in ("status", "minutes", "participation", "excuse_reason", "note")
                for message in form.errors.get(f"{name}-{pid}", [])
            )
        elif line.current is not None:
            row = line.current
            item.status, item.participation = row.status, row.participation
            item.minutes = "" if row.minutes is None else str(row.minutes)
            item.excuse_reason, item.note = row.excuse_reason, row.note
        out.append(item)
    return out


@policy.requires("groups.view", post="groups.document")
@require_http_methods(["GET", "POST"])
def group_attendance(request, public_id):
    """A session's attendance: every eligible client on one screen, nothing chosen until
    tapped (what was documented, once it was). Saved for the whole roster in one post."""
    session = get_object_or_404(
        GroupSession.objects.select_related(
            "facility", "topic", "unit", "facilitator", "co_facilitator", "documented_by"
        ),
        public_id=public_id,
        facility__in=request.user.facility_ids(),
    )
    tz = session.facility.tz
    timezone.activate(tz)
    now = timezone.now()
    roster = session_roster(session)
    form = AttendanceForm(request.POST or None, roster=roster)
    errors: list[str] = []
    if request.method == "POST":
        if form.is_valid():
            try:
                result = group_attendance_document(
                    actor=request.user,
                    session=session,
                    rows=form.rows(),
                    reason=form.cleaned_data["reason"],
                    now=now,
                )
            except (ValidationError, PermissionDenied) as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _saved_text(result))
                return redirect("observations:group_attendance", public_id=session.public_id)
        errors = form.messages()
    progress = clinical_progress([line.admission for line in roster], at=session.starts_at)
    lines = _lines(roster, progress, form if request.method == "POST" else None)
    struck = list(
        GroupAttendance.objects.filter(session=session, struck_at__isnull=False)
        .select_related("admission__client", "struck_by", "recorded_by")
        .order_by("-struck_at", "id")
    )
    counts = {
        key: sum(1 for line in roster if line.current and line.current.status == key)
        for key in STATUS_SHORT
    }
    return render(
        request,
        "observations/group_attendance.html",
        {
            "session": session,
            "length": rules.session_minutes(session.starts_at, session.ends_at),
            "clinical": rules.counts_as_clinical(session.group_type),
            "lines": lines,
            "open_lines": sum(1 for line in roster if not line.locked),
            "counts": [(STATUS_SHORT[k], n) for k, n in counts.items() if n],
            "statuses": list(STATUS_SHORT.items()),
            "participations": GroupParticipation.choices,
            "started": now >= session.starts_at,
            "can_document": policy.allows(request.user, "groups.document", session),
            "form": form,
            "errors": errors,
            "struck": struck,
        },
        status=400 if errors else 200,
    )


def _saved_text(result) -> str:
    if not result.created and not result.changed:
        return "Attendance already documented: nothing changed."
    parts = []
    if result.created:
        parts.append(f"{result.created} client{'s' if result.created != 1 else ''} documented")
    if result.changed:
        parts.append(f"{result.changed} changed (the earlier entry struck)")
    return "Attendance saved: " + ", ".join(parts) + "."
