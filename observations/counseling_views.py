"""SUD counseling note pages (issue 16 item 8): the client's counseling notes the reader may
read (with the author's grants), a new note, one note read in full, an addendum, a strike, a
grant and its revocation.

A note exists only for its author and the colleagues the author granted: anyone else, a
supervisor, an admin or someone who broke the glass included, gets 404, as for a record that does
not exist. The check is the note's own (`counseling_note.view`'s policy rule: author or active
grant), never only the client's visibility. Every read is audited.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients.access import admission_for, admissions_visible_to, client_for
from clients.models import Client
from facility import policy
from facility.access import client_ip
from facility.forms import add_service_errors
from facility.models import AccessAction
from facility.services import access_log
from observations import counseling as service
from observations.counseling_forms import (
    CounselingAddendumForm,
    CounselingGrantForm,
    CounselingNoteForm,
    CounselingStrikeForm,
)
from observations.models import CounselingNote, CounselingNoteGrant

GONE = "No such note."


def _log_read(request, client, what: str) -> None:
    access_log(
        action=AccessAction.VIEW,
        actor=request.user,
        facility=client.facility,
        client=client,
        what=what,
        ip=client_ip(request),
    )


def _note_for(request, public_id) -> CounselingNote:
    """A note this user may read (author or active grantee), else 404 whoever asks."""
    note = (
        CounselingNote.objects.select_related(
            "admission__client__facility", "admission__facility", "author", "struck_by"
        )
        .filter(public_id=public_id, admission__in=admissions_visible_to(request.user))
        .first()
    )
    if note is None or not service.note_readable(request.user, note):
        raise Http404(GONE)
    timezone.activate(note.admission.facility.tz)
    return note


def _list_page(request, client: Client, *, grant_form=None, status=200):
    user = request.user
    notes = list(service.readable_notes(user, client))
    can_write = policy.allows(user, "counseling_note.write", client)
    admission = client.admissions.filter(discharged_at__isnull=True).first() if can_write else None
    if notes:
        _log_read(request, client, "counseling notes")
    return render(
        request,
        "observations/counseling_list.html",
        {
            "client": client,
            "notes": notes,
            "can_write": can_write,
            "admission": admission,
            "grants": list(service.active_grants(user, client)) if can_write else [],
            "grant_form": grant_form
            or (
                CounselingGrantForm(choices=service.grantee_choices(user, client))
                if can_write
                else None
            ),
        },
        status=status,
    )


@policy.requires("counseling_note.view")
@require_GET
def counseling_notes(request, public_id):
    """The client's counseling notes this reader may read: their own and those granted to
    them; the author's grants, to give and take back."""
    client = client_for(request, public_id)
    return _list_page(request, client)


@policy.requires("counseling_note.write")
@require_http_methods(["GET", "POST"])
def counseling_note_new(request, public_id):
    """A counseling note of a session in this stay; saved is signed."""
    admission = admission_for(request, public_id)
    policy.require(request.user, "counseling_note.write", admission)
    if request.method == "POST":
        form = CounselingNoteForm(request.POST)
    else:
        now = timezone.localtime(timezone.now())
        form = CounselingNoteForm(initial={"occurred_at": now.strftime("%Y-%m-%dT%H:%M")})
    if request.method == "POST" and form.is_valid():
        try:
            note = service.counseling_note_record(
                actor=request.user,
                admission=admission,
                occurred_at=form.cleaned_data["occurred_at"],
                body=form.cleaned_data["body"],
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, "Counseling note signed. Only you and whom you grant read it."
            )
            return redirect("observations:counseling_note", public_id=note.public_id)
    return render(
        request,
        "observations/counseling_form.html",
        {"admission": admission, "client": admission.client, "form": form},
        status=400 if request.method == "POST" else 200,
    )


def _read_page(request, note, *, addendum_form=None, strike_form=None, status=200):
    mine = note.author_id == request.user.pk
    open_note = mine and note.struck_at is None
    return render(
        request,
        "observations/counseling_detail.html",
        {
            "note": note,
            "client": note.admission.client,
            "admission": note.admission,
            "addenda": list(note.addenda.select_related("author")),
            "mine": mine,
            "can_addendum": open_note,
            "can_strike": open_note,
            "addendum_form": addendum_form or CounselingAddendumForm(),
            "strike_form": strike_form or CounselingStrikeForm(),
        },
        status=status,
    )


@policy.requires("counseling_note.view")
@require_GET
def counseling_note(request, public_id):
    note = _note_for(request, public_id)
    _log_read(request, note.admission.client, "counseling note")
    return _read_page(request, note)


def _note_action(request, public_id, form_class, act, done: str, form_name: str):
    """An addendum or a strike on a note: the service does it, or the note's page comes back
    with the form's errors (status 400)."""
    note = _note_for(request, public_id)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            act(note, form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("observations:counseling_note", public_id=note.public_id)
    _log_read(request, note.admission.client, "counseling note")
    return _read_page(request, note, status=400, **{form_name: form})


@policy.requires("counseling_note.write")
@require_POST
def counseling_note_addendum(request, public_id):
    return _note_action(
        request,
        public_id,
        CounselingAddendumForm,
        lambda note, data: service.counseling_addendum_add(
            actor=request.user, note=note, text=data["text"]
        ),
        "Addendum signed.",
        "addendum_form",
    )


@policy.requires("counseling_note.write")
@require_POST
def counseling_note_strike(request, public_id):
    return _note_action(
        request,
        public_id,
        CounselingStrikeForm,
        lambda note, data: service.counseling_note_strike(
            actor=request.user, note=note, reason=data["reason"]
        ),
        "Note struck as entered in error.",
        "strike_form",
    )


@policy.requires("counseling_note.write")
@require_POST
def counseling_grant(request, public_id):
    """Let a colleague read my counseling notes of this client."""
    client = client_for(request, public_id)
    form = CounselingGrantForm(request.POST, choices=service.grantee_choices(request.user, client))
    if form.is_valid():
        grantee = form.cleaned_data["grantee"]
        try:
            service.counseling_grant(actor=request.user, client=client, grantee=grantee)
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"{grantee.signature} may now read your counseling notes of this client."
            )
            return redirect("observations:counseling_notes", public_id=client.public_id)
    return _list_page(request, client, grant_form=form, status=400)


@policy.requires("counseling_note.write")
@require_POST
def counseling_grant_revoke(request, public_id):
    """Take a grant back, by the author who gave it (anyone else: 404)."""
    grant = get_object_or_404(
        CounselingNoteGrant.objects.select_related("client", "grantee"),
        public_id=public_id,
        author=request.user,
        client__in=Client.objects.visible_to(request.user),
    )
    try:
        service.counseling_grant_revoke(actor=request.user, grant=grant)
    except (ValidationError, PermissionDenied) as exc:
        add_service_errors(request, exc)
    else:
        messages.success(
            request, f"{grant.grantee.signature} can no longer read your counseling notes."
        )
    return redirect("observations:counseling_notes", public_id=grant.client.public_id)
