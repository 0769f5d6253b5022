"""Progress notes (issue 12 item 2, specs/charting.md "Progress notes"): a draft autosaved and
seen only by its author, then signed for good; after signing only an addendum, an
entered-in-error strike or a co-signature; late entries judged on the facility's shifts (DST
nights included); the co-signature queue with each note's age."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from observations.models import NoteAddendum, ProgressNote
from observations.note_forms import NoteEditorForm, TimelineForm
from observations.services.progress_notes import (
    age_text,
    progress_note_addendum,
    progress_note_autosave,
    progress_note_cosign,
    progress_note_discard,
    progress_note_sign,
    progress_note_start,
    progress_note_strike,
)
from tests.conftest import admit, form_time

NY = ZoneInfo("America/New_York")
BIRP = {"behavior": "Tearful after a family call.", "intervention": "1:1 talk, offered tea.",
        "response": "Calmer, joined dinner.", "plan": "Check in at bedtime."}  # fmt: skip


def page(response) -> str:
    return response.content.decode()


def editor_body(note, facility, **changes) -> dict:
    body = {**BIRP, "event_at": form_time(timezone.now(), facility), "version": str(note.version)}
    body.update(changes)
    return body


def signed(actor, admission, **sections):
    note = progress_note_start(actor=actor, admission=admission)
    return progress_note_sign(
        actor=actor, note=note, sections=sections or BIRP, event_at=note.event_at,
        version=note.version,
    )  # fmt: skip


def new_draft_through_the_chart(client, admission):
    response = client.post(reverse("observations:note_new", args=[admission.public_id]))
    assert response.status_code == 302
    note = ProgressNote.objects.get(public_id=response["Location"].split("/")[-2])
    return note, response["Location"]


# ---------------------------------------------------------------- write, autosave, sign


@pytest.mark.django_db
def test_a_technician_writes_a_note_that_autosaves_then_signs_it(client, cast, facility, admission):
    tech = cast["technician"]
    client.force_login(tech)
    chart = page(client.get(reverse("clients:chart", args=[admission.client.public_id])))
    assert "New progress note" in chart
    note, editor_url = new_draft_through_the_chart(client, admission)
    editor = page(client.get(editor_url))
    for label in ("Behavior", "Intervention", "Response", "Plan", "Event time"):
        assert label in editor
    assert "Not saved yet" in editor
    assert 'hx-trigger="change, input changed delay:2s"' in editor

    # The page's autosave (HTMX) answers with the status line and the next version.
    with time_machine.travel(timezone.now(), tick=False):
        saved = client.post(
            reverse("observations:note_autosave", args=[note.public_id]),
            editor_body(note, facility), HTTP_HX_REQUEST="true",
        )  # fmt: skip
        saved_at = timezone.localtime(timezone.now(), facility.tz)
    assert saved.status_code == 200
    assert f"Saved {saved_at:%H:%M}" in page(saved)
    assert 'name="version" value="2"' in page(saved) and "hx-swap-oob" in page(saved)
    note.refresh_from_db()
    assert (note.version, note.sections["behavior"], note.signed_at) == (2, BIRP["behavior"], None)

    response = client.post(
        reverse("observations:note_sign", args=[note.public_id]), editor_body(note, facility)
    )
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.signed_at is not None and note.cosign_required and not note.late_entry
    assert note.note_format == "birp" and note.sections == BIRP
    shown = page(client.get(response["Location"]))
    assert "Note signed. It waits for a nurse&#x27;s or clinician&#x27;s co-signature." in shown
    assert "Tearful after a family call." in shown and "awaiting co-signature" in shown
    assert tech.signature in shown


@pytest.mark.django_db
def test_a_nurses_note_needs_no_cosignature_nor_a_technicians_where_the_facility_says_so(
    cast, facility, admission
):
    assert not signed(cast["nurse"], admission).cosign_required
    assert not signed(cast["supervisor"], admission).cosign_required
    facility.cosign_technician_notes = False
    facility.save(update_fields=["cosign_technician_notes"])
    admission.facility.refresh_from_db()
    assert not signed(cast["technician"], admission).cosign_required


@pytest.mark.django_db
def test_a_note_is_signed_only_with_text_and_a_plausible_event_time(cast, facility, admission):
    tech = cast["technician"]
    note = progress_note_start(actor=tech, admission=admission)
    with pytest.raises(ValidationError) as empty:
        progress_note_sign(actor=tech, note=note)
    assert "Write at least one section before signing." in str(empty.value)
    now = timezone.now()
    for when, message in [
        (now + timedelta(minutes=5), "Event time: cannot be in the future."),
        (now - timedelta(days=7, minutes=1), "Event time: at most 7 days back."),
        (admission.admitted_at - timedelta(minutes=1), "before the client was admitted"),
    ]:
        with pytest.raises(ValidationError) as refused:
            progress_note_sign(
                actor=tech, note=note, sections=BIRP, event_at=when, version=note.version
            )
        assert message in str(refused.value)
    note.refresh_from_db()
    assert note.signed_at is None and note.sections == {} and note.version == 1


@pytest.mark.django_db
def test_a_section_the_format_lacks_is_refused(cast, admission):
    note = progress_note_start(actor=cast["nurse"], admission=admission)
    with pytest.raises(ValidationError) as refused:
        progress_note_autosave(
            actor=cast["nurse"], note=note, sections={"subjective": "x"}, event_at=note.event_at,
            version=1,
        )  # fmt: skip
    assert "not a section of birp: subjective" in str(refused.value)


# ---------------------------------------------------------------- immutable once signed


@pytest.mark.django_db
def test_a_signed_note_cannot_be_edited_by_the_service_the_page_or_the_database(
    client, cast, facility, admission
):
    tech = cast["technician"]
    note = signed(tech, admission)
    with pytest.raises(ValidationError) as refused:
        progress_note_autosave(
            actor=tech, note=note, sections={"behavior": "Changed"}, event_at=note.event_at,
            version=note.version,
        )  # fmt: skip
    assert "signed and can no longer change" in str(refused.value)

    client.force_login(tech)
    response = client.post(
        reverse("observations:note_autosave", args=[note.public_id]),
        editor_body(note, facility, behavior="Changed"),
    )
    assert response.status_code == 400
    assert "signed and can no longer change: add an addendum" in page(response)

    # The database refuses it whatever the code does: an update of the text, or a delete.
    earlier = note.event_at - timedelta(hours=1)
    for sneak in (
        lambda: ProgressNote.objects.filter(pk=note.pk).update(sections={"behavior": "Changed"}),
        lambda: ProgressNote.objects.filter(pk=note.pk).update(event_at=earlier),
        lambda: ProgressNote.objects.filter(pk=note.pk).delete(),
    ):
        refused = pytest.raises(IntegrityError, match="cannot be changed|never changed or deleted")
        with refused, transaction.atomic():
            sneak()
    note.refresh_from_db()
    assert note.sections == BIRP


@pytest.mark.django_db
def test_an_addendum_is_added_under_the_note_which_stays_as_signed(client, cast, admission):
    note = signed(cast["technician"], admission)
    client.force_login(cast["clinician"])
    url = reverse("observations:note_addendum", args=[note.public_id])
    response = client.post(url, {"text": "Family call was with her mother; plan family session."})
    assert response.status_code == 302
    addendum = NoteAddendum.objects.get()
    assert (addendum.note, addendum.author) == (note, cast["clinician"])
    shown = page(client.get(response["Location"]))
    assert "Addendum signed and added to the note." in shown
    assert "plan family session" in shown and cast["clinician"].signature in shown
    note.refresh_from_db()
    assert note.sections == BIRP
    # An empty one is refused on the page, and nothing is added.
    empty = client.post(url, {"text": "  "})
    assert empty.status_code == 400 and "Addendum: write the text." in page(empty)
    assert NoteAddendum.objects.count() == 1
    # An addendum never changes either (database trigger).
    with pytest.raises(IntegrityError), transaction.atomic():
        NoteAddendum.objects.filter(pk=addendum.pk).update(text="Other")


@pytest.mark.django_db
def test_a_struck_note_stays_visible_struck_through_with_reason_who_and_when(
    client, cast, admission
):
    tech, nurse = cast["technician"], cast["nurse"]
    note = signed(tech, admission)
    # A supervisor is neither its author nor a co-signer: refused, nothing written.
    client.force_login(cast["supervisor"])
    url = reverse("observations:note_strike", args=[note.public_id])
    refused = client.post(url, {"reason": "Wrong client"}, follow=True)
    assert "Only its author, a nurse or a clinician can strike a note." in page(refused)
    note.refresh_from_db()
    assert note.struck_at is None

    client.force_login(nurse)
    response = client.post(url, {"reason": "Charted on the wrong client"}, follow=True)
    assert "Struck as entered in error; the note stays visible." in page(response)
    note.refresh_from_db()
    assert (note.struck_by, note.struck_reason) == (nurse, "Charted on the wrong client")
    shown = page(client.get(reverse("observations:note", args=[note.public_id])))
    assert "entered in error" in shown and "Charted on the wrong client" in shown
    assert nurse.signature in shown and "note-body struck" in shown
    assert "Tearful after a family call." in shown  # still there, struck through
    timeline = page(client.get(reverse("observations:timeline", args=[admission.public_id])))
    assert "tl-struck" in timeline and "Charted on the wrong client" in timeline
    # Struck once: the reason and who cannot be replaced, nor an addendum added.
    with pytest.raises(ValidationError):
        progress_note_strike(actor=tech, note=note, reason="Other")
    with pytest.raises(ValidationError, match="entered in error"):
        progress_note_addendum(actor=tech, note=note, text="More")


@pytest.mark.django_db
def test_the_author_strikes_their_own_note(cast, admission):
    note = progress_note_strike(
        actor=cast["technician"], note=signed(cast["technician"], admission), reason="Duplicate"
    )
    assert note.struck_by == cast["technician"]


# ---------------------------------------------------------------- autosave: two tabs


@pytest.mark.django_db
def test_a_save_from_a_stale_tab_is_refused_visibly_and_overwrites_nothing(
    client, cast, facility, admission
):
    tech = cast["technician"]
    client.force_login(tech)
    note, _url = new_draft_through_the_chart(client, admission)
    autosave = reverse("observations:note_autosave", args=[note.public_id])
    # Tab A and tab B both opened the draft at version 1; A saves first.
    first = client.post(autosave, editor_body(note, facility, plan="Tab A's plan"),
                        HTTP_HX_REQUEST="true")  # fmt: skip
    assert first.status_code == 200
    stale = client.post(autosave, editor_body(note, facility, plan="Tab B's plan"),
                        HTTP_HX_REQUEST="true")  # fmt: skip
    assert stale.status_code == 409
    assert "Not saved." in page(stale) and "saved from another tab or device" in page(stale)
    assert "hx-swap-oob" not in page(stale)  # the stale tab keeps refusing until reloaded
    note.refresh_from_db()
    assert (note.sections["plan"], note.version) == ("Tab A's plan", 2)
    # Signing from the stale tab is refused too, the text typed there shown again.
    sign = client.post(reverse("observations:note_sign", args=[note.public_id]),
                       editor_body(note, facility, version="1", plan="Tab B's plan"))  # fmt: skip
    assert sign.status_code == 409 and "Tab B&#x27;s plan" in page(sign)
    note.refresh_from_db()
    assert note.signed_at is None
    # The tab's own autosave racing its Sign with the same text overwrites nothing: signed.
    sign = client.post(reverse("observations:note_sign", args=[note.public_id]),
                       editor_body(note, facility, version="1", plan="Tab A's plan",
                                   event_at=form_time(note.event_at, facility)))  # fmt: skip
    assert sign.status_code == 302
    note.refresh_from_db()
    assert note.signed_at is not None and note.sections["plan"] == "Tab A's plan"


@pytest.mark.django_db
def test_an_editor_without_javascript_saves_the_draft_with_its_button(
    client, cast, facility, admission
):
    client.force_login(cast["nurse"])
    note, url = new_draft_through_the_chart(client, admission)
    response = client.post(
        reverse("observations:note_autosave", args=[note.public_id]),
        editor_body(note, facility),
        follow=True,
    )
    assert "Draft saved at" in page(response)
    note.refresh_from_db()
    assert note.version == 2 and note.signed_at is None


# ---------------------------------------------------------------- late entries


def at_ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


def late_after_signing(cast, facility, event_at: datetime, signed_at: datetime) -> bool:
    """A technician's note about `event_at`, started then and signed at `signed_at`."""
    tech = cast["technician"]
    with time_machine.travel(event_at - timedelta(hours=2), tick=False):
        admission = admit(facility, cast["nurse"], n=event_at.day)
    with time_machine.travel(event_at, tick=False):
        note = progress_note_start(actor=tech, admission=admission)
    with time_machine.travel(signed_at, tick=False):
        note = progress_note_sign(
            actor=tech, note=note, sections={"behavior": "Woke at night, asked for water."},
            event_at=event_at, version=note.version,
        )  # fmt: skip
    return note.late_entry


@pytest.mark.django_db
@pytest.mark.parametrize(
    "event_at, signed_at, late",
    [
        # Day shift 07–15 (the facility's 8-hour pattern).
        (at_ny(2026, 6, 10, 14, 30), at_ny(2026, 6, 10, 14, 59), False),
        (at_ny(2026, 6, 10, 14, 30), at_ny(2026, 6, 10, 15, 0), True),
        # Night 23–07 across the end of DST (1 November 2026): 9 hours long. 06:30 is still the
        # night (a naive 8 hours from 23:00 would have ended it at 06:00).
        (at_ny(2026, 10, 31, 23, 30), at_ny(2026, 11, 1, 6, 30), False),
        (at_ny(2026, 10, 31, 23, 30), at_ny(2026, 11, 1, 7, 1), True),
        # Night across the start of DST (8 March 2026): 7 hours long, over at 07:00 EDT.
        (at_ny(2026, 3, 7, 23, 30), at_ny(2026, 3, 8, 7, 5), True),
        (at_ny(2026, 3, 7, 23, 30), at_ny(2026, 3, 8, 6, 55), False),
    ],
)
def test_a_note_signed_after_its_shift_ended_is_a_late_entry_on_the_facility_clock(
    cast, facility, event_at, signed_at, late
):
    assert late_after_signing(cast, facility, event_at, signed_at) is late


@pytest.mark.django_db
def test_a_late_entry_is_marked_on_the_note_and_the_timeline_with_both_times(
    client, cast, facility
):
    event_at, signed_at = at_ny(2026, 6, 10, 14, 30), at_ny(2026, 6, 10, 16, 10)
    assert late_after_signing(cast, facility, event_at, signed_at)
    note = ProgressNote.objects.get()
    client.force_login(cast["nurse"])
    with time_machine.travel(signed_at + timedelta(minutes=5), tick=False):
        shown = page(client.get(reverse("observations:note", args=[note.public_id])))
        timeline = page(
            client.get(reverse("observations:timeline", args=[note.admission.public_id]))
        )
    assert "late entry" in shown and "2026-06-10 14:30" in shown and "2026-06-10 16:10" in shown
    assert "late entry" in timeline and "Jun 10 14:30" in timeline
    assert "recorded Jun 10 16:10" in timeline


# ---------------------------------------------------------------- co-signature


@pytest.mark.django_db
def test_the_cosign_queue_lists_notes_oldest_first_with_their_age(client, cast, facility):
    tech = cast["technician"]
    start = at_ny(2026, 6, 10, 9, 0)
    with time_machine.travel(start - timedelta(days=3), tick=False):
        older = admit(facility, cast["nurse"], first="Older", last="Waiting")
        newer = admit(facility, cast["nurse"], n=2, first="Newer", last="Waiting")
    with time_machine.travel(start, tick=False):
        first = signed(tech, older)
    with time_machine.travel(start + timedelta(days=2) - timedelta(hours=3), tick=False):
        second = signed(tech, newer)
        mine = signed(cast["nurse"], newer)  # a nurse's note waits for nobody
    client.force_login(cast["nurse"])
    with time_machine.travel(start + timedelta(days=2), tick=False):
        queue = page(client.get(reverse("observations:cosign_queue")))
        assert "2 notes waiting" in queue
        assert queue.index("Older Waiting") < queue.index("Newer Waiting")
        assert ">2 days<" in queue and ">3 h<" in queue
        assert str(mine.public_id) not in queue

        response = client.post(
            reverse("observations:note_cosign", args=[first.public_id]), {"back": "queue"},
            follow=True,
        )  # fmt: skip
        shown = page(client.get(reverse("observations:note", args=[first.public_id])))
    assert "Co-signed: Older Waiting&#x27;s note" in page(response)
    assert "1 note waiting" in page(response)
    assert "Older Waiting" not in page(response).split("</h1>")[1]
    first.refresh_from_db()
    assert first.cosigned_by == cast["nurse"] and first.cosigned_at is not None
    assert f"{cast['nurse'].signature}, 2026-06-12 09:00" in shown
    second.refresh_from_db()
    assert second.cosigned_at is None


@pytest.mark.django_db
def test_nobody_cosigns_their_own_note_and_a_technician_cosigns_nothing(client, cast, admission):
    nurse = cast["nurse"]
    own = signed(nurse, admission)
    with pytest.raises(PermissionDenied, match="You cannot co-sign your own note."):
        progress_note_cosign(actor=nurse, note=own)
    client.force_login(nurse)
    response = client.post(reverse("observations:note_cosign", args=[own.public_id]), follow=True)
    assert "You cannot co-sign your own note." in page(response)
    own.refresh_from_db()
    assert own.cosigned_at is None

    techs = signed(cast["technician"], admission)
    client.force_login(cast["technician"])
    assert client.get(reverse("observations:cosign_queue")).status_code == 403
    refused = client.post(reverse("observations:note_cosign", args=[techs.public_id]))
    assert refused.status_code == 403
    techs.refresh_from_db()
    assert techs.cosigned_at is None
    # Once co-signed, it stays: a second co-signature is refused.
    progress_note_cosign(actor=cast["clinician"], note=techs)
    with pytest.raises(ValidationError, match="already co-signed"):
        progress_note_cosign(actor=nurse, note=techs)


@pytest.mark.parametrize(
    "minutes, words",
    [(0, "0 min"), (59, "59 min"), (60, "1 h"), (23 * 60 + 59, "23 h"), (24 * 60, "1 day"),
     (49 * 60, "2 days")],
)  # fmt: skip
def test_age_reads_in_minutes_hours_or_days(minutes, words):
    assert age_text(timedelta(minutes=minutes)) == words


# ---------------------------------------------------------------- drafts: the author's alone


@pytest.mark.django_db
def test_a_draft_is_invisible_to_everyone_but_its_author(client, cast, facility, admission):
    tech = cast["technician"]
    note = progress_note_start(actor=tech, admission=admission)
    progress_note_autosave(
        actor=tech, note=note, sections={"behavior": "Secret first thoughts"},
        event_at=note.event_at, version=1,
    )  # fmt: skip
    timeline = reverse("observations:timeline", args=[admission.public_id])
    chart = reverse("clients:chart", args=[admission.client.public_id])
    for who in ("nurse", "clinician", "supervisor"):
        client.force_login(cast[who])
        assert client.get(reverse("observations:note", args=[note.public_id])).status_code == 404
        for name in ("note_autosave", "note_sign"):
            url = reverse(f"observations:{name}", args=[note.public_id])
            assert client.post(url, editor_body(note, facility)).status_code == 404
        assert "Secret first thoughts" not in page(client.get(timeline))
        assert "Secret first thoughts" not in page(client.get(chart))
    with pytest.raises(PermissionDenied):
        progress_note_autosave(
            actor=cast["nurse"], note=note, sections={"behavior": "Taken over"},
            event_at=note.event_at, version=2,
        )  # fmt: skip
    client.force_login(tech)
    assert "Secret first thoughts" in page(client.get(timeline))
    assert "Your drafts" in page(client.get(chart))


@pytest.mark.django_db
def test_only_a_never_signed_draft_is_discarded_by_its_author_on_purpose(client, cast, admission):
    tech = cast["technician"]
    client.force_login(tech)
    note, editor = new_draft_through_the_chart(client, admission)
    url = reverse("observations:note_discard", args=[note.public_id])
    unconfirmed = client.post(url, {}, follow=True)
    assert "Discard: tick the box to confirm the draft is deleted." in page(unconfirmed)
    assert ProgressNote.objects.filter(pk=note.pk).exists()
    response = client.post(url, {"confirm": "on"}, follow=True)
    assert "Draft discarded." in page(response)
    assert not ProgressNote.objects.filter(pk=note.pk).exists()

    kept = signed(tech, admission)
    with pytest.raises(ValidationError, match="signed and can no longer change"):
        progress_note_discard(actor=tech, note=kept)
    assert ProgressNote.objects.filter(pk=kept.pk).exists()


@pytest.mark.django_db
def test_no_new_note_on_a_discharged_stay(client, cast, facility, admission):
    from clients.services import admission_discharge

    admission_discharge(actor=cast["nurse"], admission=admission, discharged_at=timezone.now(),
                        discharge_type="completed")  # fmt: skip
    client.force_login(cast["clinician"])
    response = client.post(reverse("observations:note_new", args=[admission.public_id]),
                           follow=True)  # fmt: skip
    assert "This client has been discharged." in page(response)
    assert not ProgressNote.objects.exists()


def test_the_note_forms_get_the_shared_input_checks():
    form = NoteEditorForm(
        {"behavior": "a\x00b", "event_at": "2026-01-01T10:00", "version": "1"}, note_format="birp"
    )
    assert not form.is_valid()
    assert "control characters" in str(form.errors["behavior"])
    assert form.fields["plan"].max_length == 4000
    assert TimelineForm().fields["kind"].label == "Show"
