"""Progress-note pages (issue 12 item 2): a new note from the chart, the editor with autosave,
sign, addendum, entered in error, co-sign, discard a draft; the "To co-sign" queue; the chart
timeline of a stay.

A draft exists only for its author: anyone else gets 404 for it, as for a record of another
facility. The editor autosaves through HTMX (a change, or 2 s after typing stops) and shows
"Saved 10:42"; a save from a page that another tab has overtaken is refused on screen (409),
and the text typed here stays on the page.
"""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clients.access import admission_for, admissions_visible_to
from facility import policy
from facility.access import client_ip, current_facility_or_404
from facility.forms import add_service_errors
from facility.models import AccessAction
from facility.registry import registry
from facility.services import access_log
from observations.models import ProgressNote
from observations.note_forms import (
    AddendumForm,
    CosignForm,
    DiscardForm,
    NoteEditorForm,
    StrikeForm,
    TimelineForm,
)
from observations.services import progress_notes as services
from observations.timeline import FORMAT_SHORT, note_status, ordered_sections

PERIOD_HOURS = {"24h": 24, "7d": 24 * 7, "30d": 24 * 30}
# A note waiting longer than this for its co-signature is marked on the queue.
OLD_IN_QUEUE = timedelta(hours=24)


def _note_for(request, public_id) -> ProgressNote:
    """A note of a client the user may see; a draft only for its author (else 404)."""
    note = get_object_or_404(
        ProgressNote.objects.select_related(
            "admission__client", "admission__facility", "admission__unit", "author",
            "cosigned_by", "struck_by",
        ),
        public_id=public_id,
        admission__in=admissions_visible_to(request.user),
    )  # fmt: skip
    if note.signed_at is None and note.author_id != request.user.pk:
        raise Http404("No such note.")
    timezone.activate(note.admission.facility.tz)
    return note


def _log_read(request, admission, what: str) -> None:
    """Every read of a chart page is audited (DESIGN.md §2), as the chart itself is."""
    access_log(
        action=AccessAction.VIEW,
        actor=request.user,
        facility=admission.facility,
        client=admission.client,
        what=what,
        ip=client_ip(request),
    )


def _editor_form(note: ProgressNote, data=None) -> NoteEditorForm:
    if data is not None:
        return NoteEditorForm(data, note_format=note.note_format)
    initial = {
        **note.sections,
        "event_at": timezone.localtime(note.event_at).strftime("%Y-%m-%dT%H:%M"),
        "version": note.version,
    }
    return NoteEditorForm(initial=initial, note_format=note.note_format)


def _editor(request, note: ProgressNote, form: NoteEditorForm, status: int = 200):
    return render(
        request,
        "observations/note_editor.html",
        {
            "note": note,
            "client": note.admission.client,
            "admission": note.admission,
            "form": form,
            "format_name": note.get_note_format_display(),
            "discard_form": DiscardForm(),
        },
        status=status,
    )


def _read_page(request, note: ProgressNote, *, addendum_form=None, strike_form=None, status=200):
    user = request.user
    return render(
        request,
        "observations/note_detail.html",
        {
            "note": note,
            "client": note.admission.client,
            "admission": note.admission,
            "sections": ordered_sections(note),
            "addenda": list(note.addenda.select_related("author")),
            "status_words": note_status(note, note.admission.facility.tz),
            "format_short": FORMAT_SHORT.get(note.note_format, note.note_format),
            "addendum_form": addendum_form or AddendumForm(),
            "strike_form": strike_form or StrikeForm(),
            "can_addendum": note.struck_at is None
            and policy.allows(user, "progress_note.write", note),
            "can_strike": note.struck_at is None
            and policy.allows(user, "progress_note.write", note)
            and (note.author_id == user.pk or policy.allows(user, "note.cosign", note)),
            "can_cosign": note.cosign_required
            and note.cosigned_at is None
            and note.struck_at is None
            and policy.allows(user, "note.cosign", note),
        },
        status=status,
    )


@policy.requires("progress_note.write")
@require_POST
def note_new(request, public_id):
    """Start a draft for this stay (a POST: nothing is written on a GET) and open the editor."""
    admission = admission_for(request, public_id)
    try:
        note = services.progress_note_start(actor=request.user, admission=admission)
    except (ValidationError, PermissionDenied) as exc:
        add_service_errors(request, exc)
        return redirect("clients:chart", public_id=admission.client.public_id)
    return redirect("observations:note", public_id=note.public_id)


@policy.requires("notes.view")
@require_GET
def note(request, public_id):
    """A draft opens in its author's editor; a signed note reads with its addenda, and offers
    an addendum, entered in error and a co-signature to those who may."""
    note = _note_for(request, public_id)
    _log_read(request, note.admission, "progress note")
    if note.signed_at is None:
        return _editor(request, note, _editor_form(note))
    return _read_page(request, note)


def _is_stale(exc) -> bool:
    """The service refused a save from an older version of the draft (another tab saved)."""
    return isinstance(exc, ValidationError) and "version" in getattr(exc, "error_dict", {})


def _status_fragment(request, note, form, *, saved: bool, status: int):
    return render(
        request,
        "observations/note_save_status.html",
        {"note": note, "form": form, "saved": saved},
        status=status,
    )


@policy.requires("progress_note.write")
@require_POST
def note_autosave(request, public_id):
    """Save a draft (HTMX: the status line "Saved 10:42" or why not; otherwise back to the
    editor). A stale page is refused with 409 and its text left where it is."""
    note = _note_for(request, public_id)
    form = _editor_form(note, request.POST)
    saved = stale = False
    if form.is_valid():
        data = form.cleaned_data
        try:
            note = services.progress_note_autosave(
                actor=request.user, note=note, sections=form.sections(),
                event_at=data["event_at"], version=data["version"],
            )  # fmt: skip
            saved = True
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
            stale = _is_stale(exc)
    status = 200 if saved else (409 if stale else 400)
    if request.htmx:
        return _status_fragment(request, note, form, saved=saved, status=status)
    if saved:
        messages.success(request, f"Draft saved at {timezone.localtime(note.saved_at):%H:%M}.")
        return redirect("observations:note", public_id=note.public_id)
    return _editor(request, note, form, status=status)


@policy.requires("progress_note.write")
@require_POST
def note_sign(request, public_id):
    """Save what the editor holds and sign it; refused, the editor comes back with the text."""
    note = _note_for(request, public_id)
    form = _editor_form(note, request.POST)
    stale = False
    if form.is_valid():
        data = form.cleaned_data
        try:
            note = services.progress_note_sign(
                actor=request.user, note=note, sections=form.sections(),
                event_at=data["event_at"], version=data["version"],
            )  # fmt: skip
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
            stale = _is_stale(exc)
        else:
            words = "Note signed."
            if note.late_entry:
                words += " It is marked as a late entry: its shift had ended."
            if note.cosign_required:
                words += " It waits for a nurse's or clinician's co-signature."
            messages.success(request, words)
            return redirect("observations:note", public_id=note.public_id)
    note.refresh_from_db()
    if note.signed_at is not None:  # signed meanwhile (another tab): nothing left to edit
        add_service_errors(request, ValidationError("This note was already signed."))
        return redirect("observations:note", public_id=note.public_id)
    return _editor(request, note, form, status=409 if stale else 400)


@policy.requires("progress_note.write")
@require_POST
def note_discard(request, public_id):
    """Delete a never-signed draft, confirmed by its author."""
    note = _note_for(request, public_id)
    form = DiscardForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("observations:note", public_id=note.public_id)
    client = note.admission.client
    try:
        services.progress_note_discard(actor=request.user, note=note)
    except (ValidationError, PermissionDenied) as exc:
        add_service_errors(request, exc)
        return redirect("observations:note", public_id=note.public_id)
    messages.success(request, "Draft discarded.")
    return redirect("clients:chart", public_id=client.public_id)


@policy.requires("progress_note.write")
@require_POST
def note_addendum(request, public_id):
    note = _note_for(request, public_id)
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            services.progress_note_addendum(
                actor=request.user, note=note, text=form.cleaned_data["text"]
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Addendum signed and added to the note.")
            return redirect("observations:note", public_id=note.public_id)
    return _read_page(request, note, addendum_form=form, status=400)


@policy.requires("progress_note.write")
@require_POST
def note_strike(request, public_id):
    """Entered in error: the note stays, struck through, with the reason, who and when."""
    note = _note_for(request, public_id)
    form = StrikeForm(request.POST)
    if form.is_valid():
        try:
            services.progress_note_strike(
                actor=request.user, note=note, reason=form.cleaned_data["reason"]
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(request, exc)
            return redirect("observations:note", public_id=note.public_id)
        messages.success(request, "Struck as entered in error; the note stays visible.")
        return redirect("observations:note", public_id=note.public_id)
    return _read_page(request, note, strike_form=form, status=400)


@policy.requires("note.cosign")
@require_POST
def note_cosign(request, public_id):
    note = _note_for(request, public_id)
    form = CosignForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("observations:note", public_id=note.public_id)
    back_to_queue = form.cleaned_data["back"] == "queue"
    try:
        services.progress_note_cosign(actor=request.user, note=note)
    except (ValidationError, PermissionDenied) as exc:
        add_service_errors(request, exc)
    else:
        client = note.admission.client
        messages.success(
            request,
            f"Co-signed: {client.display_name}'s note of "
            f"{timezone.localtime(note.event_at):%Y-%m-%d %H:%M}.",
        )
    if back_to_queue:
        return redirect("observations:cosign_queue")
    return redirect("observations:note", public_id=note.public_id)


@policy.requires("note.cosign")
@require_GET
def cosign_queue(request):
    """Notes of the user's facility waiting for a co-signature, oldest first, with their age."""
    facility = current_facility_or_404(request)
    timezone.activate(facility.tz)
    now = timezone.now()
    rows = [
        (
            n,
            FORMAT_SHORT.get(n.note_format, n.note_format),
            services.age_text(now - n.signed_at),
            now - n.signed_at > OLD_IN_QUEUE,
        )
        for n in services.notes_to_cosign(user=request.user, facility=facility)
    ]
    return render(request, "observations/cosign_queue.html", {"rows": rows, "facility": facility})


@policy.requires("notes.view")
@require_GET
def timeline(request, public_id):
    """One stay's timeline, newest first, from every app's source; filtered by kind (checkbox
    chips) and period through the query string."""
    admission = admission_for(request, public_id)
    _log_read(request, admission, "chart timeline")
    form = TimelineForm(request.GET)
    kinds, period = None, "stay"
    if form.is_valid():
        kinds = set(form.cleaned_data["kind"]) or None
        period = form.cleaned_data["period"] or "stay"
    now = timezone.now()
    since = admission.admitted_at
    if period in PERIOD_HOURS:
        since = max(since, now - timedelta(hours=PERIOD_HOURS[period]))
    entries = registry.timeline(admission, since=since, until=now, user=request.user, kinds=kinds)
    labels = registry.timeline_labels
    return render(
        request,
        "observations/timeline.html",
        {
            "admission": admission,
            "client": admission.client,
            "form": form,
            "rows": [(e, labels.get(e.kind, e.kind)) for e in entries],
            "filtered": bool(kinds),
            "period": dict(form.fields["period"].choices)[period],
            "can_write": admission.is_open
            and policy.allows(request.user, "progress_note.write", admission),
        },
        status=200 if form.is_valid() else 400,
    )
