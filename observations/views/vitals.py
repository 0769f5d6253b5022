"""Vital-sign pages (issue 11 items 1–3): a set for one client (from the chart, the board, or a
breath-alcohol reading), the result with NEWS2, the schedule, and the unit's vitals round, one
client's form after another without going back to a list."""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from clients.access import admission_for, admissions_visible_to
from clients.models import Admission
from facility import policy
from facility.forms import add_service_errors
from facility.models import Unit
from observations import scales, services
from observations.forms import (
    VitalsContextForm,
    VitalsForm,
    VitalsRoundStartForm,
    VitalsScheduleForm,
    VitalsSkipForm,
)
from observations.models import VitalSigns, VitalsSchedule, VitalsSource
from observations.views.rounds import unit_for
from observations.vitals import every_text

# The vitals rounds a tablet keeps in its session: the newest few.
ROUNDS_KEPT = 5
SESSION_KEY = "vitals_rounds"
REASONS = {"breath_alcohol": "A breath alcohol reading was recorded: take a set of vitals."}


def _open_or_403(admission: Admission) -> None:
    if admission.discharged_at is not None:
        raise PermissionDenied("This client has been discharged.")


def _save(request, form: VitalsForm, admission: Admission, source: str):
    """Record the form's set; returns the set, or None with the refusal on the form."""
    data = form.cleaned_data
    try:
        return services.vitals_record(
            actor=request.user,
            admission=admission,
            taken_at=data["taken_at"],
            values=form.values(),
            temp_unit=data["temp_unit"],
            source=source,
            late_reason=data["late_reason"],
            remark=data["remark"],
        )
    except (ValidationError, PermissionDenied) as exc:
        add_service_errors(form, exc)
        return None


@policy.requires("vitals.record")
@require_http_methods(["GET", "POST"])
def vitals_record(request, public_id):
    """One set for one client. `?reason=breath_alcohol` (the breath-alcohol screen's link) says
    why on the form; `?came_from=board` records the source."""
    admission = admission_for(request, public_id)
    _open_or_403(admission)
    context_form = VitalsContextForm(request.GET)
    came_from, reason = "", ""
    if context_form.is_valid():
        came_from = context_form.cleaned_data["came_from"]
        reason = context_form.cleaned_data["reason"]
    tz = admission.facility.tz
    form = VitalsForm(request.POST or None, tz=tz)
    if request.method == "POST" and form.is_valid():
        source = VitalsSource.BOARD if came_from == "board" else VitalsSource.CHART
        vitals = _save(request, form, admission, source)
        if vitals is not None:
            return redirect("observations:vitals_result", public_id=vitals.public_id)
    status = services.vitals_status([admission], timezone.now())[admission.pk]
    back = (
        reverse("observations:board", args=[admission.unit.public_id])
        if came_from == "board"
        else reverse("clients:chart", args=[admission.client.public_id])
    )
    return render(
        request,
        "observations/vitals_form.html",
        {
            "admission": admission,
            "client": admission.client,
            "form": form,
            "status": status,
            "status_words": status.words(tz, timezone.now()),
            "reason_text": REASONS.get(reason, ""),
            "back": back,
        },
        status=400 if form.errors else 200,
    )


def _reading_context(vitals: VitalSigns) -> dict:
    reading = services.vitals_reading(vitals)
    missing = [scales.NEWS2_PARAMETERS[k] for k in reading.news2.missing]
    return {
        "reading": reading,
        "vitals": vitals,
        "news2": reading.news2,
        "missing": missing,
        "flag_texts": [services.vitals.flag_text(vitals, f) for f in reading.flags],
    }


@policy.requires("vitals.view")
@require_GET
def vitals_result(request, public_id):
    """A saved set: flags, NEWS2 with its band and response, what is missing, and whether NEWS2
    is validated for this client."""
    vitals = get_object_or_404(
        VitalSigns.objects.select_related(
            "admission__client", "admission__facility", "admission__unit", "recorded_by"
        ),
        public_id=public_id,
        admission__in=admissions_visible_to(request.user),
    )
    timezone.activate(vitals.admission.facility.tz)
    return render(
        request,
        "observations/vitals_result.html",
        {
            "admission": vitals.admission,
            "client": vitals.admission.client,
            **_reading_context(vitals),
            "can_record": policy.allows(request.user, "vitals.record", vitals.admission),
        },
    )


@policy.requires("vitals.schedule")
@require_http_methods(["GET", "POST"])
def vitals_schedule(request, public_id):
    """How often this client's vitals are owed (nurse, clinician), from the chart."""
    admission = admission_for(request, public_id)
    _open_or_403(admission)
    now = timezone.now()
    current = services.schedules_in_force([admission], now).get(admission.pk)
    default = admission.facility.vitals_default_every_minutes
    # The frequency in force is preselected (the facility default when none is ordered): the
    # form never opens on "every 4 hours" while the page says "Now: daily".
    in_force = current.every_minutes if current is not None else default
    initial = {"every_minutes": in_force}
    if current is not None:
        initial |= {"spo2_scale2": current.spo2_scale2, "pregnant": current.pregnant}
    form = VitalsScheduleForm(request.POST or None, initial=initial)
    field = form.fields["every_minutes"]
    if in_force not in {value for value, _ in field.choices}:
        field.choices = sorted([*field.choices, (in_force, every_text(in_force).capitalize())])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.vitals_schedule_set(
                actor=request.user,
                admission=admission,
                every_minutes=data["every_minutes"],
                spo2_scale2=data["spo2_scale2"],
                pregnant=data["pregnant"],
                reason=data["reason"],
                effective_from=data["effective_from"],
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Vitals now {every_text(data['every_minutes'])}.")
            return redirect("clients:chart", public_id=admission.client.public_id)
    return render(
        request,
        "observations/vitals_schedule.html",
        {
            "admission": admission,
            "client": admission.client,
            "form": form,
            "current": current,
            "current_text": every_text(current.every_minutes if current else default),
            "history": VitalsSchedule.objects.filter(admission=admission)
            .select_related("ordered_by")
            .order_by("-effective_from", "-id")[:10],
        },
        status=400 if form.errors else 200,
    )


# ---------------------------------------------------------------- the vitals round


def _unit_admissions(unit: Unit) -> list[Admission]:
    return list(
        Admission.objects.current()
        .filter(unit=unit)
        .select_related("client", "bed")
        .order_by("bed__label")
    )


def _rounds(request) -> dict:
    return request.session.get(SESSION_KEY, {})


def _round_of(request, unit: Unit):
    """The round named by `?round=` if this tablet started it on this unit, else None."""
    try:
        key = str(uuid.UUID(request.GET.get("round", "")))
    except ValueError:
        return None, None
    state = _rounds(request).get(key)
    if state is None or state["unit"] != str(unit.public_id):
        return None, None
    return key, state


def _store(request, key: str, state: dict) -> None:
    rounds = _rounds(request)
    rounds[key] = state
    # Keep the newest few (insertion order is start order).
    for old in list(rounds)[:-ROUNDS_KEPT]:
        del rounds[old]
    request.session[SESSION_KEY] = rounds
    request.session.modified = True


def _round_url(unit: Unit, key: str) -> str:
    return reverse("observations:vitals_round", args=[unit.public_id]) + f"?round={key}"


def _start(request, unit: Unit, admissions, statuses):
    form = VitalsRoundStartForm(request.POST)
    everyone = form.is_valid() and form.cleaned_data["everyone"]
    members = [
        str(a.public_id)
        for a in admissions
        if statuses[a.pk].state != "off_site" and (everyone or statuses[a.pk].owed)
    ]
    if not members:
        messages.info(request, "Nobody on this unit is due for vitals.")
        return redirect("observations:vitals_round", public_id=unit.public_id)
    key = str(uuid.uuid4())
    _store(
        request,
        key,
        {"unit": str(unit.public_id), "members": members, "done": {}, "skipped": {}, "last": ""},
    )
    return redirect(_round_url(unit, key))


@policy.requires("vitals.record")
@require_http_methods(["GET", "POST"])
def vitals_round(request, public_id):
    """The unit's vitals round: who is due; then, once started, one client's form after another
    (save → next client), a skip with a reason that is charted, and at the end who was done and
    who was skipped."""
    unit = unit_for(request, public_id)
    now = timezone.now()
    tz = unit.facility.tz
    admissions = _unit_admissions(unit)
    key, state = _round_of(request, unit)
    if key is None:
        if request.method == "POST":
            statuses = services.vitals_status(admissions, now, facility=unit.facility)
            return _start(request, unit, admissions, statuses)
        if request.GET.get("round"):
            messages.info(request, "That vitals round has ended or was started on another tablet.")
        statuses = services.vitals_status(admissions, now, facility=unit.facility)
        rows = [(a, statuses[a.pk], statuses[a.pk].words(tz, now)) for a in admissions]
        return render(
            request,
            "observations/vitals_round_start.html",
            {
                "unit": unit,
                "rows": rows,
                "due_count": sum(1 for _, s, _ in rows if s.owed),
                "form": VitalsRoundStartForm(),
            },
        )
    by_pid = {str(a.public_id): a for a in admissions}
    pending = [p for p in state["members"] if p not in state["done"] and p not in state["skipped"]]
    form, skip_form, current = None, VitalsSkipForm(), None
    if request.method == "POST":
        pid = request.POST.get("admission", "")
        current = by_pid.get(pid) if pid in pending else None
        if current is None:
            messages.error(request, "That client is not waiting on this round; here is the next.")
            return redirect(_round_url(unit, key))
        if request.POST.get("action") == "skip":
            skip_form = VitalsSkipForm(request.POST)
            if skip_form.is_valid():
                reason = skip_form.cleaned_data["skip_reason"]
                try:
                    services.vitals_skip(
                        actor=request.user, admission=current, reason=reason, round_key=key
                    )
                except (ValidationError, PermissionDenied) as exc:
                    add_service_errors(skip_form, exc)
                else:
                    state["skipped"][pid] = reason
                    state["last"] = ""
                    _store(request, key, state)
                    return redirect(_round_url(unit, key))
            form = VitalsForm(tz=tz)
        else:
            form = VitalsForm(request.POST, tz=tz)
            if form.is_valid():
                vitals = _save(request, form, current, VitalsSource.ROUND)
                if vitals is not None:
                    state["done"][pid] = str(vitals.public_id)
                    state["last"] = str(vitals.public_id)
                    _store(request, key, state)
                    return redirect(_round_url(unit, key))
    else:
        # A client discharged or moved off the unit since the round started is passed over.
        current = next((by_pid[p] for p in pending if p in by_pid), None)
        form = VitalsForm(tz=tz) if current is not None else None
    last = None
    if state.get("last"):
        last = (
            VitalSigns.objects.select_related("admission__client", "admission__facility")
            .filter(public_id=state["last"], admission__unit=unit)
            .first()
        )
    context = {
        "unit": unit,
        "round_key": key,
        "last": _reading_context(last) if last else None,
        "current": current,
        "client": current.client if current else None,
        "form": form,
        "skip_form": skip_form,
        "position": len(state["done"]) + len(state["skipped"]) + 1,
        "total": len(state["members"]),
    }
    if current is None:
        done_ids = list(state["done"].values())
        done = {
            str(v.admission.public_id): v
            for v in VitalSigns.objects.filter(public_id__in=done_ids).select_related(
                "admission__client"
            )
        }
        names = {
            str(a.public_id): a.client
            for a in Admission.objects.filter(
                public_id__in=state["members"], unit__facility=unit.facility
            ).select_related("client")
        }
        context.update(
            done=[(names.get(p), done.get(p)) for p in state["members"] if p in state["done"]],
            skipped=[(names.get(p), r) for p, r in state["skipped"].items() if p in names],
            left=[
                names.get(p)
                for p in state["members"]
                if p not in state["done"] and p not in state["skipped"] and p in names
            ],
        )
        return render(request, "observations/vitals_round_end.html", context)
    bad = form is not None and form.errors or skip_form.errors
    return render(request, "observations/vitals_round.html", context, status=400 if bad else 200)
