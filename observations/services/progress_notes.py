"""Progress notes by every clinical role (specs/charting.md "Progress notes"; issue 12 item 2).

A note starts as a draft in the facility's format, autosaved and visible only to its author;
signing fixes it for good (migration 0007's trigger refuses any later change of its text, times,
author or client). After signing, only an addendum, an entered-in-error strike (reason kept,
struck but visible) or a co-signature changes what the chart shows. A never-signed draft may be
discarded by its author, on purpose (a confirmed action; the audit log keeps the row): the
database allows deleting unsigned rows only.

Event time and recorded time are both kept: a note signed after the shift that holds its event
time had ended is a late entry (observations/notes.py, on the facility's shifts and clock).
"""

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from facility import policy
from facility.models import Facility, User
from observations.models import NoteAddendum, ProgressNote
from observations.notes import SECTION_MAX, clean_sections, is_late_entry

# How far back an event time may be when the note is signed (brief of issue 12 item 2).
MAX_BACKDATE = timedelta(days=7)
STRIKE_REASON_MAX = 300


def cosign_required_for(author: User, facility: Facility) -> bool:
    """Technicians' notes wait for a nurse's or clinician's co-signature where the facility asks
    for one (*default* on)."""
    return facility.cosign_technician_notes and policy.note_needs_cosign(author)


def _locked(note: ProgressNote) -> ProgressNote:
    """The note again, under its row lock: two tabs, or a sign and a strike, take turns."""
    return (
        ProgressNote.objects.select_for_update(of=("self",))
        .select_related("admission__facility", "author")
        .get(pk=note.pk)
    )


def _own_draft(actor: User, note: ProgressNote) -> ProgressNote:
    note = _locked(note)
    policy.require(actor, "progress_note.write", note)
    if note.author_id != actor.pk:
        raise PermissionDenied("Only its author changes a draft note.")
    if note.signed_at is not None:
        raise ValidationError("This note is signed and can no longer change: add an addendum.")
    return note


def _check_event_at(note: ProgressNote, event_at: datetime, now: datetime) -> None:
    """Not in the future, at most 7 days back, not before the stay began."""
    if event_at > now:
        raise ValidationError({"event_at": "Event time: cannot be in the future."})
    if event_at < now - MAX_BACKDATE:
        raise ValidationError({"event_at": "Event time: at most 7 days back."})
    if event_at < note.admission.admitted_at:
        raise ValidationError({"event_at": "Event time: before the client was admitted."})


def stale_message(note: ProgressNote) -> str:
    when = timezone.localtime(note.saved_at, note.admission.facility.tz)
    return (
        f"This note was saved from another tab or device at {when:%H:%M}: copy your text, "
        "then reload the note to see the newer version."
    )


def _save_draft(note, *, sections: dict, event_at: datetime, version: int, now: datetime) -> None:
    try:
        cleaned = clean_sections(note.note_format, sections)
    except ValueError as exc:
        raise ValidationError({"sections": str(exc)}) from None
    if version != note.version:
        # The same text as saved overwrites nothing: the tab's own autosave that raced its Sign.
        if cleaned == note.sections and event_at == note.event_at:
            return
        raise ValidationError({"version": stale_message(note)})
    _check_event_at(note, event_at, now)
    note.sections = cleaned
    note.event_at = event_at
    note.saved_at = now
    note.version += 1
    note.save(update_fields=["sections", "event_at", "saved_at", "version"])


@transaction.atomic
def progress_note_start(*, actor: User, admission, now: datetime | None = None) -> ProgressNote:
    """A new draft for an open stay, in the facility's note format, its event time now."""
    now = now or timezone.now()
    policy.require(actor, "progress_note.write", admission)
    if admission.discharged_at is not None:
        raise PermissionDenied("This client has been discharged.")
    facility = admission.facility
    return ProgressNote.objects.create(
        admission=admission,
        author=actor,
        note_format=facility.note_format,
        sections={},
        event_at=now,
        created_at=now,
        saved_at=now,
        version=1,
        cosign_required=cosign_required_for(actor, facility),
    )


@transaction.atomic
def progress_note_autosave(
    *,
    actor: User,
    note: ProgressNote,
    sections: dict,
    event_at: datetime,
    version: int,
    now: datetime | None = None,
) -> ProgressNote:
    """Save a draft's text and event time. Only its author, only a draft; a save from a page
    holding an older `version` (another tab saved since) is refused, never merged or overwritten."""
    now = now or timezone.now()
    note = _own_draft(actor, note)
    _save_draft(note, sections=sections, event_at=event_at, version=version, now=now)
    return note


@transaction.atomic
def progress_note_sign(
    *,
    actor: User,
    note: ProgressNote,
    sections: dict | None = None,
    event_at: datetime | None = None,
    version: int | None = None,
    now: datetime | None = None,
) -> ProgressNote:
    """Sign a draft (its author only), saving what the page holds first when given. At least one
    section; the event time not in the future and at most 7 days back. A note signed after the
    shift of its event time had ended is a late entry."""
    now = now or timezone.now()
    note = _own_draft(actor, note)
    if version is not None:
        _save_draft(
            note, sections=sections or {}, event_at=event_at or note.event_at, version=version,
            now=now,
        )  # fmt: skip
    if not note.sections:
        raise ValidationError({"sections": "Write at least one section before signing."})
    _check_event_at(note, note.event_at, now)
    facility = note.admission.facility
    note.late_entry = is_late_entry(note.event_at, now, facility.shift_pattern, facility.tz)
    note.cosign_required = cosign_required_for(actor, facility)
    note.signed_at = now
    note.save(update_fields=["late_entry", "cosign_required", "signed_at"])
    return note


@transaction.atomic
def progress_note_discard(*, actor: User, note: ProgressNote) -> None:
    """Delete a never-signed draft, by its author, on purpose (the page asks first; the audit log
    keeps what it held). A signed note is never deleted: the database refuses it too."""
    note = _own_draft(actor, note)
    note.delete()


@transaction.atomic
def progress_note_addendum(
    *, actor: User, note: ProgressNote, text: str, now: datetime | None = None
) -> NoteAddendum:
    """Text added to a signed note by anyone who writes notes: its own author and time, signed
    when saved. A note struck as entered in error takes none."""
    now = now or timezone.now()
    note = _locked(note)
    policy.require(actor, "progress_note.write", note)
    if note.signed_at is None:
        raise ValidationError("A draft takes no addendum: edit the draft itself.")
    if note.struck_at is not None:
        raise ValidationError({"text": "This note was entered in error: it takes no addendum."})
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Addendum: write the text."})
    if len(text) > SECTION_MAX:
        raise ValidationError({"text": f"Addendum: at most {SECTION_MAX} characters."})
    return NoteAddendum.objects.create(note=note, author=actor, text=text, recorded_at=now)


@transaction.atomic
def progress_note_strike(
    *, actor: User, note: ProgressNote, reason: str, now: datetime | None = None
) -> ProgressNote:
    """Entered in error: the note stays on the chart, struck through, with the reason, who and
    when. Its author may strike it, or a nurse or clinician (who co-sign notes)."""
    now = now or timezone.now()
    note = _locked(note)
    policy.require(actor, "progress_note.write", note)
    if note.author_id != actor.pk and not policy.allows(actor, "note.cosign", note):
        raise PermissionDenied("Only its author, a nurse or a clinician can strike a note.")
    if note.signed_at is None:
        raise ValidationError("A draft is not struck: discard it, or sign it first.")
    if note.struck_at is not None:
        raise ValidationError("This note was already struck as entered in error.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Reason: say why the note was entered in error."})
    if len(reason) > STRIKE_REASON_MAX:
        raise ValidationError({"reason": f"Reason: at most {STRIKE_REASON_MAX} characters."})
    note.struck_at, note.struck_by, note.struck_reason = now, actor, reason
    note.save(update_fields=["struck_at", "struck_by", "struck_reason"])
    return note


@transaction.atomic
def progress_note_cosign(
    *, actor: User, note: ProgressNote, now: datetime | None = None
) -> ProgressNote:
    """A nurse's or clinician's co-signature of a signed note waiting for one; never the
    author's own (policy rule, and a database constraint)."""
    now = now or timezone.now()
    note = _locked(note)
    policy.require(actor, "note.cosign", note)
    if note.signed_at is None:
        raise ValidationError("A draft is not co-signed.")
    if note.struck_at is not None:
        raise ValidationError("This note was entered in error: there is nothing to co-sign.")
    if not note.cosign_required:
        raise ValidationError("This note needs no co-signature.")
    if note.cosigned_at is not None:
        raise ValidationError("This note was already co-signed.")
    note.cosigned_at, note.cosigned_by = now, actor
    note.save(update_fields=["cosigned_at", "cosigned_by"])
    return note


# ---------------------------------------------------------------- reads


def notes_to_cosign(*, user: User, facility: Facility):
    """Signed notes of the facility waiting for a co-signature, oldest first, not the user's
    own (they cannot co-sign those) and not struck. One query."""
    return (
        ProgressNote.objects.filter(
            admission__facility=facility,
            signed_at__isnull=False,
            cosign_required=True,
            cosigned_at__isnull=True,
            struck_at__isnull=True,
        )
        .exclude(author=user)
        .select_related("admission__client", "admission__unit", "admission__bed", "author")
        .order_by("signed_at", "pk")
    )


def age_text(delta: timedelta) -> str:
    """How long something has waited, for people: "12 min", "3 h", "2 days"."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} h"
    days = hours // 24
    return "1 day" if days == 1 else f"{days} days"
