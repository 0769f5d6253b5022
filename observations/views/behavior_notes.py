"""Behavior and mood note pages (issue 12 item 1): the note form for one client, opened from the
chart or from the client's row on the rounds board (the status just charted pre-fills the
behavior), one note read in full, and striking a note entered in error."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients.access import admission_for, admissions_visible_to
from facility import policy
from facility.forms import add_service_errors
from observations.behavior_forms import BehaviorContextForm, BehaviorNoteForm, StrikeNoteForm
from observations.models import BehaviorNote, RoundCheck
from observations.services import behavior_notes as service


def _quick_entry(admission, came_from: str, now) -> tuple[RoundCheck | None, bool]:
    """The stay's last round check, and whether the note starts from it: opened from the board
    with the check charted within service.PREFILL_WITHIN."""
    check = service.last_round_check(admission)
    fresh = (
        came_from == "board"
        and check is not None
        and now - check.observed_at <= service.PREFILL_WITHIN
    )
    return check, fresh


@policy.requires("behavior_note.write")
@require_http_methods(["GET", "POST"])
def behavior_note_new(request, public_id):
    """A behavior and mood note for one client: chips and pills, the narrative sections of the
    facility's format, one Save. `?came_from=board` pre-fills the behavior from the status just
    charted on the round and returns to the board."""
    admission = admission_for(request, public_id)
    policy.require(request.user, "behavior_note.write", admission)
    context_form = BehaviorContextForm(request.GET)
    came_from = context_form.cleaned_data["came_from"] if context_form.is_valid() else ""
    facility = admission.facility
    now = timezone.now()
    check, fresh = _quick_entry(admission, came_from, now)
    prefill_behaviors, prefill_mood = (
        service.status_prefill(check.status.label) if fresh else ([], "")
    )
    initial = {"behaviors": prefill_behaviors, "mood": prefill_mood}
    form = BehaviorNoteForm(
        request.POST or None, initial=initial, note_format=facility.note_format, tz=facility.tz
    )
    back = (
        reverse("observations:board", args=[admission.unit.public_id])
        if came_from == "board"
        else reverse("clients:chart", args=[admission.client.public_id]) + "#section-behavior_notes"
    )
    if request.method == "POST" and form.is_valid():
        try:
            note = service.behavior_note_record(
                actor=request.user,
                admission=admission,
                round_check=check if fresh else None,
                **form.note_values(),
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            text = "Behavior note saved."
            if note.risk_flags:
                text += " A C-SSRS screen is requested and the nurse is alerted."
            messages.success(request, text)
            return redirect(back)
    return render(
        request,
        "observations/behavior_note_form.html",
        {
            "admission": admission,
            "client": admission.client,
            "form": form,
            "last_check": check,
            "prefilled": bool(prefill_behaviors or prefill_mood),
            "came_from": came_from,
            "back": back,
        },
        status=400 if form.errors else 200,
    )


def _note_for(request, public_id) -> BehaviorNote:
    note = get_object_or_404(
        BehaviorNote.objects.select_related(
            "admission__client", "admission__facility", "admission__unit", "recorded_by",
            "struck_by",
        ),
        public_id=public_id,
        admission__in=admissions_visible_to(request.user),
    )  # fmt: skip
    timezone.activate(note.admission.facility.tz)
    return note


@policy.requires("notes.view")
@require_GET
def behavior_note(request, public_id):
    """One note in full (the timeline and the chart link here), with the strike form for its
    author, a nurse or a supervisor."""
    note = _note_for(request, public_id)
    return render(
        request,
        "observations/behavior_note.html",
        {
            "note": note,
            "admission": note.admission,
            "client": note.admission.client,
            "summary": service.note_summary(note),
            "sections": service.note_sections(note),
            "struck": service.struck_text(note, note.admission.facility.tz),
            "can_strike": note.struck_at is None
            and policy.allows(request.user, "behavior_note.strike", note),
            "strike_form": StrikeNoteForm(),
        },
    )


@policy.requires("behavior_note.strike")
@require_POST
def behavior_note_strike(request, public_id):
    """Entered in error: struck with a reason, kept visible."""
    note = _note_for(request, public_id)
    form = StrikeNoteForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    else:
        try:
            service.behavior_note_strike(
                actor=request.user, note=note, reason=form.cleaned_data["reason"]
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(request, exc)
        else:
            messages.success(request, "Struck as entered in error.")
    return redirect("observations:behavior_note", public_id=note.public_id)
