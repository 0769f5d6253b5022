"""The rounds board (the page technicians live in), level orders and observer hand-offs."""

import uuid
from dataclasses import dataclass
from datetime import UTC, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients.access import admission_for, admissions_visible_to
from clients.models import Admission, Leave
from facility import policy
from facility.access import current_facility, current_facility_or_404
from facility.forms import add_service_errors
from facility.models import Alert, Unit
from facility.pdf import pdf_response
from observations import services
from observations.compliance import compliance, local_day, observation_sheet
from observations.forms import (
    LevelOrderForm,
    ObserverForm,
    PeriodForm,
    RoundForm,
    SecurityRoundForm,
    SheetDayForm,
)
from observations.models import CodeKind, LevelOrder, RoundCode, SecurityArea, SecurityRound
from observations.rounds import block_state
from observations.security import window_at

STATE_TEXT = {
    "done": "Done this block",
    "due": "Due",
    "due_soon": "Due soon",
    "missed": "Missed",
    "off_site": "Off site",
}


@dataclass
class BoardRow:
    admission: Admission
    level: services.CurrentLevel
    last: object
    leave: Leave | None
    missed: int
    state: str
    minutes_since: int | None
    posted: dict

    @property
    def state_text(self) -> str:
        return STATE_TEXT[self.state]

    @property
    def selected_location(self) -> str:
        """What the location chips show chosen: what was just posted, else the last check's."""
        if self.posted.get("loc"):
            return self.posted["loc"]
        return str(self.last.location_id) if self.last else ""

    @property
    def selected_status(self) -> str:
        if self.posted.get("st"):
            return self.posted["st"]
        return str(self.last.status_id) if self.last else ""


def _unit_for(request, public_id) -> Unit:
    facility = current_facility_or_404(request)
    return get_object_or_404(
        Unit.objects.select_related("facility"), public_id=public_id, facility=facility
    )


def board_rows(unit: Unit, now, posted=None) -> list[BoardRow]:
    """One row per client admitted to the unit; query count does not depend on clients."""
    admissions = list(
        Admission.objects.current()
        .filter(unit=unit)
        .select_related("client", "bed")
        .prefetch_related(Prefetch("leaves", queryset=Leave.objects.open(), to_attr="open_leaves"))
        .order_by("bed__label")
    )
    levels = services.current_levels(admissions, now)
    last = services.last_checks(admissions)
    missed = {}
    for key in (
        Alert.objects.open()
        .filter(kind="missed_check", client_public_id__in=[a.client.public_id for a in admissions])
        .values_list("client_public_id", flat=True)
    ):
        missed[key] = missed.get(key, 0) + 1
    rows = []
    for a in admissions:
        level = levels[a.pk]
        check = last.get(a.pk)
        leave = a.open_leaves[0] if a.open_leaves else None
        interval = services.LEVEL_INTERVAL[level.level]
        if leave is not None:
            state = "off_site"
        else:
            state = block_state(
                timezone.localtime(now, unit.facility.tz),
                last_check=check.observed_at if check else None,
                interval_minutes=interval,
            )
            if state != "done" and missed.get(a.client.public_id):
                state = "missed"
        since = int((now - check.observed_at).total_seconds() // 60) if check else None
        rows.append(
            BoardRow(
                admission=a,
                level=level,
                last=check,
                leave=leave,
                missed=missed.get(a.client.public_id, 0),
                state=state,
                minutes_since=since,
                posted=(posted or {}).get(str(a.public_id), {}),
            )
        )
    return rows


def _codes(facility):
    """The facility's active codes (seeded when the facility was created), by kind."""
    codes = list(RoundCode.objects.filter(facility=facility, active=True))
    return (
        [c for c in codes if c.kind == CodeKind.LOCATION],
        [c for c in codes if c.kind == CodeKind.STATUS],
    )


@policy.requires("census.view")
@require_GET
def rounds_home(request):
    """Open the board of the first unit of the current facility."""
    facility = current_facility(request)
    unit = Unit.objects.filter(facility=facility).order_by("name").first() if facility else None
    if unit is None:
        raise Http404("This facility has no units.")
    return redirect("observations:board", public_id=unit.public_id)


@policy.requires("census.view", post="floor.chart")
@require_http_methods(["GET", "POST"])
def board(request, public_id):
    """The unit's rounds board: state of every client and the form to chart a whole round."""
    unit = _unit_for(request, public_id)
    facility = unit.facility
    now = timezone.now()
    locations, statuses = _codes(facility)
    rows = board_rows(unit, now)
    errors, posted, form = [], None, None
    if request.method == "POST":
        form = RoundForm(request.POST, rows=rows, locations=locations, statuses=statuses)
        posted = form.as_typed()
        if not form.is_valid():
            errors = form.messages()
        else:
            data = form.cleaned_data
            try:
                count, repeat = services.round_submit(
                    actor=request.user,
                    facility=facility,
                    submission_key=data["submission_key"],
                    observed_at=now - timedelta(minutes=data["minutes_back"]),
                    entries=form.entries(),
                    late_reason=data["late_reason"],
                    now=now,
                )
            except ValidationError as exc:
                errors.extend(exc.messages)
            else:
                if repeat:
                    messages.info(request, "This round was already recorded.")
                else:
                    messages.success(
                        request, f"Round recorded for {count} client{pluralize(count)}."
                    )
                return redirect("observations:board", public_id=unit.public_id)
        rows = board_rows(unit, now, posted)
    context = {
        "unit": unit,
        "facility": facility,
        "units": Unit.objects.filter(facility=facility).order_by("name"),
        "rows": rows,
        "locations": locations,
        "statuses": statuses,
        "errors": errors,
        # A refused round keeps its key (nothing was saved under it); a garbled one is replaced.
        "submission_key": (form.cleaned_data.get("submission_key") if errors else None)
        or uuid.uuid4(),
        "minutes_back": form.data.get("minutes_back", "0") if form else "0",
        "late_reason": form.data.get("late_reason", "") if form else "",
        "can_chart": policy.allows(request.user, "floor.chart"),
        "now": now,
    }
    return render(request, "observations/board.html", context, status=400 if errors else 200)


@policy.requires("census.view")
@require_GET
def board_status(request, public_id):
    """The live part of the board: each client's state, swapped in place so entries survive."""
    unit = _unit_for(request, public_id)
    rows = board_rows(unit, timezone.now())
    return render(request, "observations/board_status.html", {"rows": rows})


@policy.requires("level.change")
@require_http_methods(["GET", "POST"])
def level_change(request, public_id):
    admission = admission_for(request, public_id)
    current = services.current_levels([admission], timezone.now())[admission.pk]
    form = LevelOrderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.level_order(actor=request.user, admission=admission, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Observation level changed.")
            return redirect("clients:chart", public_id=admission.client.public_id)
    return render(
        request,
        "observations/level_form.html",
        {"admission": admission, "client": admission.client, "form": form, "current": current},
    )


@policy.requires("level.order")
@require_POST
def level_confirm(request, public_id):
    visible = admissions_visible_to(request.user)
    order = get_object_or_404(LevelOrder, public_id=public_id, admission__in=visible)
    try:
        services.level_confirm(actor=request.user, order=order)
        messages.success(request, "Level confirmed by your order.")
    except ValidationError as exc:
        add_service_errors(request, exc)
    return redirect("clients:chart", public_id=order.admission.client.public_id)


@policy.requires("floor.chart")
@require_POST
def observer_assign(request, public_id):
    admission = admission_for(request, public_id)
    form = ObserverForm(request.POST, facility=admission.facility)
    if form.is_valid():
        try:
            services.observer_assign(
                actor=request.user, admission=admission, observer=form.cleaned_data["observer"]
            )
            messages.success(request, f"{form.cleaned_data['observer']} now observes.")
        except ValidationError as exc:
            add_service_errors(request, exc)
    else:
        messages.error(request, "Observer: choose a staff member of this facility.")
    return redirect("clients:chart", public_id=admission.client.public_id)


def _period(request, facility):
    today = timezone.localtime(timezone.now(), facility.tz).date()
    form = PeriodForm(request.GET or {"start": today, "end": today}, facility=facility)
    if not form.is_valid():
        return form, None
    start, _ = local_day(facility, form.cleaned_data["start"])
    _, end = local_day(facility, form.cleaned_data["end"])
    end = min(end, timezone.now())  # mixed zones: compared as UTC instants
    return form, (start, end)


@policy.requires("report.print")
@require_GET
def compliance_report(request):
    """Blocks due, done, late and missed per client and per staff member for a period."""
    facility = current_facility_or_404(request)
    form, period = _period(request, facility)
    context = {"facility": facility, "form": form, "query": request.GET.urlencode()}
    if period:
        per_client, per_staff, total = compliance(
            facility, start=period[0], end=period[1], unit=form.cleaned_data["unit"]
        )
        context.update(per_client=per_client, per_staff=per_staff, total=total, period=period)
    if request.GET.get("format") == "pdf" and period:
        unit = form.cleaned_data["unit"]
        return pdf_response(
            request,
            template="observations/pdf/compliance.html",
            context=context,
            facility=facility,
            title="Rounds compliance",
            unit=unit.name if unit else "All units",
            period=f"{form.cleaned_data['start']} to {form.cleaned_data['end']}",
            filename=f"rounds-compliance-{form.cleaned_data['start']}.pdf",
        )
    return render(request, "observations/compliance.html", context)


@policy.requires("census.view")
@require_GET
def observation_sheet_pdf(request, public_id):
    """The day's 15-minute observation sheet for one client (specs/rounds.md, printed sheet)."""
    admission = admission_for(request, public_id)
    facility = admission.facility
    form = SheetDayForm(
        request.GET or {"date": timezone.localtime(timezone.now(), facility.tz).date().isoformat()}
    )
    if not form.is_valid():
        raise Http404(form.errors["date"][0])
    day = form.cleaned_data["date"]
    earliest, latest = admission.stay_days()
    if not earliest <= day <= latest:
        raise Http404(f"Date: this stay runs from {earliest} to {latest}.")
    start, end = local_day(facility, day)
    rows, levels, signers = observation_sheet(admission, day_start=start, day_end=end)
    half = (len(rows) + 1) // 2
    return pdf_response(
        request,
        template="observations/pdf/sheet.html",
        context={
            "admission": admission,
            "client": admission.client,
            "columns": [rows[:half], rows[half:]],
            "levels": levels,
            "signers": signers,
            "day": day,
        },
        facility=facility,
        client=admission.client,
        title="15-minute observation sheet",
        unit=admission.unit.name,
        period=day.isoformat(),
        filename=f"observation-sheet-{admission.client.mrn}-{day}.pdf",
    )


@policy.requires("floor.chart")
@require_http_methods(["GET", "POST"])
def security_round(request):
    """Walk the building: every area OK or a finding, for the window in progress."""
    facility = current_facility_or_404(request)
    areas = list(SecurityArea.objects.filter(facility=facility, active=True))
    now = timezone.now()
    window = window_at(now, facility.tz, facility.shift_pattern)
    errors, posted = [], {}
    if request.method == "POST":
        form = SecurityRoundForm(request.POST, areas=areas)
        posted = form.as_typed()
        if not form.is_valid():
            errors = form.messages()
        else:
            try:
                services.security_round_complete(
                    actor=request.user, facility=facility, results=form.results(), now=now
                )
            except ValidationError as exc:
                errors = exc.messages
            else:
                messages.success(request, "Security round recorded.")
                return redirect("observations:security")
    recent = list(
        SecurityRound.objects.filter(facility=facility)
        .select_related("completed_by")
        .prefetch_related("checks__area")[:12]
    )
    opened = window[0].astimezone(UTC)
    done = next((r for r in recent if r.window_start.astimezone(UTC) == opened), None)
    # Nothing is pre-marked: each area is marked OK or a finding by the person who walked it.
    rows = [{"area": a, "posted": posted.get(a.pk, {"ok": None})} for a in areas]
    return render(
        request,
        "observations/security.html",
        {
            "facility": facility,
            "window": window,
            "done": done,
            "rows": rows,
            "recent": recent,
            "errors": errors,
        },
        status=400 if errors else 200,
    )
