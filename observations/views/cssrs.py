"""C-SSRS screen version pages (issue 12 item 3): the six questions (3-5 only after a yes to 2,
asked again by the server when JavaScript did not show them), the result with its triage and
what it calls for (the one-tap level raise posts to the existing level page), the safety-plan
prompt, striking a screen, a clinician's order, and the list of screens owed."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients.access import admission_for, admissions_visible_to
from clients.models import Admission, Client
from facility import policy
from facility.access import current_facility_or_404
from facility.forms import add_service_errors
from observations.forms import (
    CSSRS_WORDING,
    CssrsOrderForm,
    CssrsSafetyPlanForm,
    CssrsScreenForm,
    ReasonForm,
)
from observations.models import LEVEL_RANK, CssrsReason, CssrsResult, CssrsScreen, Level
from observations.services import cssrs as service
from observations.services import current_levels

# What each result calls for, as the result page says it (specs/charting.md, Triage).
NEXT_STEPS = {
    CssrsResult.HIGH: "Offer 1:1 observation now, start or review a safety plan; the nurse, "
    "the clinician and the supervisor are alerted.",
    CssrsResult.MODERATE: "The clinician is alerted to review; q15 observation is suggested.",
    CssrsResult.LOW: "No alert. Keep observing and chart what the client said.",
    CssrsResult.NONE: "No risk identified on this screen.",
}
# The level each result suggests (a raise only: never offered when the client is already there).
SUGGESTED_LEVEL = {CssrsResult.HIGH: Level.ONE_TO_ONE, CssrsResult.MODERATE: Level.Q15}
NUMBER_SHOWN = {"q6_recent": "6b"}
SHORT_LABEL = {Level.ONE_TO_ONE: "1:1", Level.Q15: "q15"}


def _open_or_403(admission: Admission) -> None:
    if admission.discharged_at is not None:
        raise PermissionDenied("This client has been discharged.")


def _follow_up_state(form: CssrsScreenForm) -> tuple[dict, dict]:
    """Which follow-up blocks the page shows open (after a yes to their question, or while one
    of them holds a yes, so a refusal never hides an answer the client gave), and which hold a
    yes without a yes to their question (shown with a note to correct one or the other)."""
    shown, orphan = {}, {}
    for gate, follow_ups in service.FOLLOW_UPS.items():
        gate_yes = form.raw(gate) == "yes"
        any_yes = any(form.raw(k) == "yes" for k in follow_ups)
        shown[gate] = gate_yes or any_yes
        orphan[gate] = any_yes and not gate_yes
    return shown, orphan


@policy.requires("cssrs.screen")
@require_http_methods(["GET", "POST"])
def cssrs_screen(request, public_id):
    """The screen for one stay. Questions 3-5 (and the 3-month follow-up of 6) are in the page
    but hidden until their question is answered yes (static/js/cssrs.js); without JavaScript
    a yes to 2 comes back with 3-5 to ask, and nothing is saved until they are answered."""
    admission = admission_for(request, public_id)
    _open_or_403(admission)
    owed = service.screens_owed([admission]).get(admission.pk)
    tz = admission.facility.tz
    initial = {"reason": owed.reason if owed else CssrsReason.OTHER}
    form = CssrsScreenForm(request.POST or None, initial=initial, tz=tz)
    reask = []
    if request.method == "POST" and form.is_valid():
        answers = form.answers()
        reask = service.follow_ups_missing(answers)
        if not reask:
            data = form.cleaned_data
            try:
                screen = service.cssrs_screen_record(
                    actor=request.user,
                    admission=admission,
                    answers=answers,
                    reason=data["reason"],
                    screened_at=data["screened_at"],
                    remark=data["remark"],
                )
            except (ValidationError, PermissionDenied) as exc:
                add_service_errors(form, exc)
            else:
                return redirect("observations:cssrs_result", public_id=screen.public_id)
    shown, orphan = _follow_up_state(form)
    questions = [
        (form[key], CSSRS_WORDING[key], key in reask) for key in ("q1", "q2", "q3", "q4", "q5")
    ]
    return render(
        request,
        "observations/cssrs_form.html",
        {
            "admission": admission,
            "client": admission.client,
            "form": form,
            "owed": owed,
            "first": questions[:2],
            "thoughts": questions[2:],
            "q6": (form["q6"], CSSRS_WORDING["q6"], False),
            "q6_recent": (form["q6_recent"], CSSRS_WORDING["q6_recent"], "q6_recent" in reask),
            "shown": shown,
            "orphan": orphan,
            "reask": reask,
            "level": current_levels([admission], timezone.now())[admission.pk],
        },
        status=400 if form.errors else 200,
    )


def _screen_for(request, public_id) -> CssrsScreen:
    screen = get_object_or_404(
        CssrsScreen.objects.select_related(
            "admission__client", "admission__facility", "admission__unit", "recorded_by",
            "struck_by",
        ),
        public_id=public_id,
        admission__in=admissions_visible_to(request.user),
    )  # fmt: skip
    timezone.activate(screen.admission.facility.tz)
    return screen


def _raise_offer(user, screen: CssrsScreen, level) -> dict | None:
    """The one-tap raise the result suggests, for someone who may change levels, only while the
    client is on a less restrictive level. It posts to the level page (levels.level_order, the
    one raise path) with the level and a reason naming the screen."""
    target = SUGGESTED_LEVEL.get(screen.result)
    admission = screen.admission
    if target is None or screen.struck_at is not None or not admission.is_open:
        return None
    if LEVEL_RANK[level.level] >= LEVEL_RANK[target]:
        return {"already": True, "label": SHORT_LABEL[target]}
    if not policy.allows(user, "level.change", admission):
        return {"already": False, "allowed": False, "label": SHORT_LABEL[target]}
    at = timezone.localtime(screen.screened_at)
    return {
        "already": False,
        "allowed": True,
        "level": target,
        "label": SHORT_LABEL[target],
        "reason": f"C-SSRS {screen.result} risk {at:%H:%M}",
    }


@policy.requires("notes.view")
@require_GET
def cssrs_result(request, public_id):
    """One screen: the triage, each answer, and what the result calls for: the raise in one
    tap, the safety-plan prompt, the alerts raised."""
    screen = _screen_for(request, public_id)
    admission = screen.admission
    level = current_levels([admission], timezone.now())[admission.pk]
    answers = [
        (NUMBER_SHOWN.get(key, key.removeprefix("q")), CSSRS_WORDING[key], screen.answers.get(key))
        for key in ("q1", "q2", "q3", "q4", "q5", "q6", "q6_recent")
        if key in screen.answers
    ]
    user = request.user
    may_screen = policy.allows(user, "cssrs.screen", admission)
    live = screen.struck_at is None
    return render(
        request,
        "observations/cssrs_result.html",
        {
            "screen": screen,
            "admission": admission,
            "client": admission.client,
            "answers": answers,
            "not_asked": [
                NUMBER_SHOWN.get(k, k.removeprefix("q"))
                for k in ("q3", "q4", "q5", "q6_recent")
                if k not in screen.answers
            ],
            "next_steps": NEXT_STEPS[screen.result],
            "level": level,
            "offer": _raise_offer(user, screen, level),
            "ask_safety_plan": live
            and may_screen
            and screen.result == CssrsResult.HIGH
            and screen.safety_plan is not True,
            "safety_form": CssrsSafetyPlanForm(),
            "can_strike": live and may_screen and service.may_strike(user, screen),
            "strike_form": ReasonForm(),
        },
    )


@policy.requires("cssrs.screen")
@require_POST
def cssrs_safety_plan(request, public_id):
    """Record the safety-plan answer of a high screen; a no keeps its alert open."""
    screen = _screen_for(request, public_id)
    form = CssrsSafetyPlanForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    else:
        started = form.cleaned_data["safety_plan"]
        try:
            service.cssrs_safety_plan_record(actor=request.user, screen=screen, started=started)
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(request, exc)
        else:
            messages.success(
                request,
                "Safety plan recorded as started or reviewed."
                if started
                else "No safety plan yet: the alert stays open until one is started.",
            )
    return redirect("observations:cssrs_result", public_id=screen.public_id)


@policy.requires("cssrs.screen")
@require_POST
def cssrs_strike(request, public_id):
    """Entered in error: struck with a reason, kept visible; what it answered is owed again."""
    screen = _screen_for(request, public_id)
    if not service.may_strike(request.user, screen):
        raise PermissionDenied(service.STRIKE_REFUSAL)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    else:
        try:
            service.cssrs_screen_strike(
                actor=request.user, screen=screen, reason=form.cleaned_data["reason"]
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(request, exc)
        else:
            messages.success(request, "Screen struck as entered in error.")
    return redirect("observations:cssrs_result", public_id=screen.public_id)


@policy.requires("cssrs.order")
@require_POST
def cssrs_order(request, public_id):
    """A clinician orders a screen from the chart: owed within ORDERED_DUE (an open request of
    the stay is reused)."""
    admission = admission_for(request, public_id)
    form = CssrsOrderForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    else:
        try:
            owed = service.screen_request_open(
                actor=request.user,
                admission=admission,
                reason=CssrsReason.ORDERED,
                detail=form.cleaned_data["detail"],
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(request, exc)
        else:
            due = timezone.localtime(owed.due_at)
            messages.success(request, f"C-SSRS screen ordered: due by {due:%H:%M}.")
    return redirect(reverse("clients:chart", args=[admission.client.public_id]) + "#section-cssrs")


@policy.requires("notes.view")
@require_GET
def cssrs_due(request):
    """The current facility's stays that owe a screen: overdue first, then by due time, then
    the admission screens by admission time. Three queries whatever the census."""
    facility = current_facility_or_404(request)
    timezone.activate(facility.tz)
    now = timezone.now()
    admissions = list(
        Admission.objects.current()
        .filter(facility=facility, client__in=Client.objects.visible_to(request.user))
        .select_related("client", "unit", "bed")
    )
    owed = service.screens_owed(admissions, now)
    rows = sorted(
        ((a, owed[a.pk]) for a in admissions if a.pk in owed),
        key=lambda row: (
            not row[1].overdue,
            row[1].due_at is None,
            row[1].due_at or row[1].since,
        ),
    )
    return render(
        request,
        "observations/cssrs_due.html",
        {
            "facility": facility,
            "rows": rows,
            "can_screen": policy.allows(request.user, "cssrs.screen"),
        },
    )
