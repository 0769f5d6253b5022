"""Screenshots of the progress-note pages (issue 12 item 2) at tablet and phone widths, with
every axe finding: the editor with an autosaved draft, a signed note with an addendum, the
stay's timeline, and the co-signature queue.

Not part of the suite (pytest collects only test_*.py); run it by naming the file:

    .venv/bin/python -m pytest tests/browser/screenshots_notes.py -q -s -p no:cacheprovider

Writes /tmp/haven-shots/<page>-<width>.png (or to the directory HAVEN_SCREENSHOTS names).
"""

import uuid
from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests.browser.screenshots import OUT, Shot, shoot
from tests.conftest import admit, make_user


def seed_notes(cast, facility) -> dict:
    """Jordan, three days in: notes by the technician (one late, one struck, one waiting for
    its co-signature), a clinician's note with an addendum, a round remark with a safety
    concern, a flagged set of vitals, a refused dose; the technician's draft of now. Two more
    clients with technicians' notes waiting 40 minutes and two days for a co-signature."""
    from medications.services import administration_record, order_verify
    from observations.models import RoundCode
    from observations.services import RoundEntry, round_submit, vitals_record
    from observations.services.progress_notes import (
        progress_note_addendum,
        progress_note_autosave,
        progress_note_cosign,
        progress_note_sign,
        progress_note_start,
        progress_note_strike,
    )
    from tests.facility.world import first_dose, ondansetron, transcribe

    now = timezone.now()
    h = lambda n: now - timedelta(hours=n)  # noqa: E731
    tech, nurse, clinician = cast["technician"], cast["nurse"], cast["clinician"]
    tech.full_name, tech.credentials = "Dana Lee", "BHT"
    tech.save(update_fields=["full_name", "credentials"])
    clinician.full_name, clinician.credentials = "Sam Okafor", "LCSW"
    clinician.save(update_fields=["full_name", "credentials"])
    nurse.full_name = "Priya Shah"
    nurse.save(update_fields=["full_name"])
    jordan = admit(facility, nurse, first="Jordan", last="Reyes", allergies="Penicillin",
                   admitted_at=h(72), dob=date(1984, 6, 2))  # fmt: skip

    def note(author, admission, sections, event_hours, signed_hours):
        draft = progress_note_start(actor=author, admission=admission, now=h(event_hours))
        return progress_note_sign(
            actor=author, note=draft, sections=sections, event_at=h(event_hours),
            version=draft.version, now=h(signed_hours),
        )  # fmt: skip

    late = note(tech, jordan, {
        "behavior": "Woke at 02:10, pacing the hall, said he could not stop thinking about "
                    "his daughter's birthday.",
        "intervention": "Sat with him in the lounge, offered warm milk, reviewed his coping card.",
        "response": "Settled after 20 minutes, back to bed at 02:40.",
        "plan": "Day staff to remind him of the family call booked for Thursday.",
    }, 30, 21)  # fmt: skip
    progress_note_cosign(actor=nurse, note=late, now=h(20))
    therapy = note(clinician, jordan, {
        "behavior": "Individual session, 50 minutes. Engaged, tearful when discussing relapse.",
        "intervention": "Motivational interviewing; explored triggers around the anniversary.",
        "response": "Named two triggers and one coping step for each.",
        "plan": "Continue MI; family session next week if he consents.",
    }, 20, 19.5)  # fmt: skip
    progress_note_addendum(
        actor=clinician,
        note=therapy,
        now=h(18),
        text="He signed consent for the family session after the meeting.",
    )
    wrong = note(tech, jordan, {"behavior": "Refused lunch, stayed in room."}, 6, 5.8)
    progress_note_strike(actor=tech, note=wrong, now=h(5.5),
                         reason="Charted on the wrong client (meant bed E04).")  # fmt: skip
    note(tech, jordan, {
        "behavior": "Joined the afternoon process group; shared about cravings.",
        "intervention": "Encouraged him to use the urge-surfing exercise.",
        "response": "Said the exercise helped; cravings 4/10 after group.",
        "plan": "Check cravings again at bedtime.",
    }, 2, 1.8)  # fmt: skip

    codes = RoundCode.objects.filter(facility=facility)
    round_submit(
        actor=tech, facility=facility, submission_key=uuid.uuid4(), now=h(3), observed_at=h(3),
        entries=[RoundEntry(jordan, codes.get(kind="location", code="RM"),
                            codes.get(kind="status", code="A"), safety_concern=True,
                            remark="Found a shoelace tied to the bed frame; removed, nurse told.")],
    )  # fmt: skip
    vitals_record(actor=nurse, admission=jordan, taken_at=h(4), now=h(4),
                  values={"sbp": 158, "dbp": 96, "hr": 118, "rr": 22, "temp": "37.9",
                          "spo2": 95, "on_oxygen": False, "acvpu": "A"})  # fmt: skip
    second = make_user("second_nurse", "nurse", facility, mfa=False)
    order = transcribe(nurse, jordan, ondansetron(facility), start_at=h(8))
    order_verify(actor=second, order=order)
    administration_record(
        actor=nurse, dose=first_dose(order), outcome="refused", reason="Said he felt fine",
        prescriber_notified="no", prescriber_not_notified_reason="Report at morning rounds",
    )  # fmt: skip

    draft = progress_note_start(actor=tech, admission=jordan, now=h(0.2))
    typed = {"behavior": "Restless at dinner, left the table twice.",
             "intervention": "Offered a walk in the courtyard."}  # fmt: skip
    progress_note_autosave(
        actor=tech, note=draft, event_at=h(0.2), version=1, now=h(0.1), sections=typed
    )

    kim = admit(facility, nurse, n=2, first="Kim", last="Osei", admitted_at=h(90))
    lee = admit(facility, nurse, n=3, first="Alexandra", last="Montgomery-Whitfield",
                admitted_at=h(90))  # fmt: skip
    note(tech, kim, {"behavior": "Calm, read in the lounge."}, 49, 48)
    note(tech, lee, {"behavior": "Asked about discharge plans."}, 1, 0.7)
    return {"jordan": jordan, "draft": draft, "therapy": therapy}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_screenshots_notes(new_page, signed_in, cast, facility):
    OUT.mkdir(exist_ok=True)
    w = seed_notes(cast, facility)
    pages = [
        Shot("progress-note", "technician", f"/notes/{w['draft'].public_id}/"),
        Shot("progress-note-signed", "nurse", f"/notes/{w['therapy'].public_id}/"),
        Shot("timeline", "nurse", f"/admissions/{w['jordan'].public_id}/timeline/"),
        Shot("cosign-queue", "nurse", "/notes/to-cosign/"),
        Shot(
            "chart-timeline",
            "technician",
            f"/clients/{w['jordan'].client.public_id}/",
            element=("#section-timeline", "chart-timeline-section"),
        ),  # fmt: skip
    ]
    shoot(new_page, signed_in, cast, pages)
