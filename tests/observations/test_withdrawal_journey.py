"""A nurse through a withdrawal, end to end across observations and medications, through the pages
(issue 11, the first two "done when"):

- a vitals round on the unit with the client due; a CIWA-Ar protocol started and a CIWA-Ar of 12
  scored; the chlordiazepoxide PRN the score triggers shown as indicated on the med pass, given
  from its form, the dose recording the score; the reassessment due an hour later on the
  withdrawal board and the rounds board; overdue past the grace, with an alert the nurse sees,
  answered by the next score;
- clonidine held on a systolic of 88 typed on the vitals page, the order and its hold entered
  and verified on the order pages;
- at discharge every open protocol ends with reason "discharge" and its alerts close.

The clock is fixed with time_machine at parametrized moments (mid-morning, minutes before
midnight so the reassessment falls on the next day, and the first minutes of an hour): every
expectation is computed from them.
"""

import html
import re
from datetime import datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from clients.services import admission_discharge
from facility.models import Alert
from medications.models import Administration, Medication, Order
from observations import tasks
from observations import withdrawal as rules
from observations.models import ScaleAssessment, VitalSigns, WithdrawalProtocol
from observations.services import protocol_start, scan_reassessments_overdue
from tests.conftest import admit, make_user
from tests.observations.withdrawal_helpers import ciwa, score, triggered_prn

NY = ZoneInfo("America/New_York")
# Ten items for a CIWA-Ar of 12: nausea 4, tremor 4, sweats 1, anxiety 1, agitation 1,
# tactile 1, the rest 0; and a 6 for the reassessment.
TWELVE = [4, 4, 1, 1, 1, 1, 0, 0, 0, 0]
SIX = [2, 2, 1, 1, 0, 0, 0, 0, 0, 0]


def local(h, m, day=12):
    return datetime(2026, 5, day, h, m, tzinfo=NY)


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def hhmm(moment) -> str:
    return f"{moment.astimezone(NY):%H:%M}"


class _Inputs(HTMLParser):
    """The named inputs of a fragment of HTML, with the values the page pre-fills."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") and attrs.get("type") not in ("radio", "checkbox"):
            self.values[attrs["name"]] = attrs.get("value") or ""


def inputs(fragment: str) -> dict[str, str]:
    parser = _Inputs()
    parser.feed(fragment)
    return parser.values


def sign_in_again(client, user) -> None:
    """A fresh session after an idle while (sessions end after 15 idle minutes)."""
    client.logout()
    client.force_login(user)


def prn_row(page: str, order) -> str:
    return page.split(f'id="prn-{order.public_id}"', 1)[1].split("</li>", 1)[0]


def board_row(page: str, name: str) -> str:
    """The withdrawal board's row of one client."""
    rows = [r for r in page.split('<li class="wd-row') if name in r]
    assert len(rows) == 1, page
    return rows[0].split("</li>", 1)[0]


def ciwa_body(values) -> dict:
    return {key: str(v) for key, v in ciwa(*values).items()} | {
        "assessed_at": "", "late_reason": "", "remark": "",
    }  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    "start", [local(9, 5), local(23, 50), local(0, 2)], ids=["morning", "before-midnight", "0h02"]
)
def test_a_nurse_through_a_withdrawal_from_the_vitals_round_to_the_overdue_alert(
    client, cast, facility, start
):
    nurse = cast["nurse"]
    with time_machine.travel(start - timedelta(hours=1), tick=False):
        # Admitted yesterday: the daily vitals are owed. The chlordiazepoxide PRN was ordered and
        # verified by two nurses (the medications side, through its own services).
        stay = admit(facility, nurse, first="Robin", last="Ashdown",
                     admitted_at=start - timedelta(hours=26))  # fmt: skip
        order = triggered_prn(nurse, make_user("nurse_two", "nurse", facility), stay)
    name = stay.client.display_name
    unit = stay.unit
    client.force_login(nurse)

    # 1. The vitals round: the client is due; one form, saved, the round is done.
    round_home = reverse("observations:vitals_round", args=[unit.public_id])
    with time_machine.travel(start, tick=False):
        page = text(client.get(round_home))
        assert "<strong>1</strong> client due or overdue" in page
        assert name in page and "overdue since" in page
        started = client.post(round_home, {})
        assert started.status_code == 302
        round_url = started["Location"]
        page = text(client.get(round_url))
        assert "1 of 1" in page and name in page
        pid = re.search(r'name="admission" value="([0-9a-f-]+)"', page).group(1)
        assert pid == str(stay.public_id)
        saved = client.post(round_url, {
            "action": "save", "admission": pid, "sbp": "132", "dbp": "84", "hr": "96",
            "rr": "18", "temp": "37.4", "temp_unit": "C", "spo2": "97", "on_oxygen": "air",
            "acvpu": "A", "taken_at": f"{start:%Y-%m-%dT%H:%M}",
        })  # fmt: skip
        assert saved.status_code == 302 and saved["Location"] == round_url
        end = text(client.get(round_url))
        assert "Vitals round done" in end and "NEWS2 1 (low)" in end
    vitals = VitalSigns.objects.get(admission=stay)
    assert (vitals.source, vitals.sbp, vitals.hr, vitals.news2_total) == ("round", 132, 96, 1)
    assert vitals.taken_at == start

    # 2. The nurse starts a CIWA-Ar protocol with the scale's defaults: scored at once.
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        response = client.post(
            reverse("observations:withdrawal_start", args=[stay.public_id]),
            {"scale": "ciwa_ar", "every_hours": "", "tight_from": "", "tight_hours": "",
             "reason": "Alcohol withdrawal, last drink 18 h ago", "started_at": ""},
        )  # fmt: skip
    scoring = reverse("observations:withdrawal_score", args=[stay.public_id, "ciwa_ar"])
    assert response.status_code == 302 and response["Location"] == scoring
    protocol = WithdrawalProtocol.objects.get(admission=stay, ended_at__isnull=True)
    assert (protocol.every_hours, protocol.tight_from, protocol.tight_hours) == (4, 8, 1)

    # 3. A CIWA-Ar of 12 through the scoring page: mild, the PRN indicated.
    scored_at = start + timedelta(minutes=4)
    with time_machine.travel(scored_at, tick=False):
        page = text(client.get(scoring))
        assert "First score due" in page
        assert "constant nausea, frequent dry heaves and vomiting" in page  # an anchor
        response = client.post(scoring, ciwa_body(TWELVE))
        assert response.status_code == 302
        result = text(client.get(response["Location"]))
    assessment = ScaleAssessment.objects.get(admission=stay)
    assert (assessment.total, assessment.band, assessment.assessed_at) == (12, "mild", scored_at)
    assert assessment.protocol == protocol
    due = scored_at + timedelta(hours=1)  # 12 ≥ 8: hourly
    assert 'class="score-total">12<' in result
    assert f"Next CIWA-Ar due {hhmm(due)}" in " ".join(re.sub(r"<[^>]+>", " ", result).split())
    assert "Chlordiazepoxide 25 mg" in result.split('class="plain prn-indicated"', 1)[1]

    # 4. The med pass: the PRN is indicated by the score; given from its form as pre-filled.
    med_pass = reverse("medications:med_pass", args=[stay.public_id])
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        row = prn_row(text(client.get(med_pass)), order)
        assert "Give if CIWA-Ar ≥ 10" in row
        assert f"indicated: CIWA-Ar 12 ≥ 10 at {hhmm(scored_at)}" in row
        assert "not indicated" not in row and 'name="trigger_reason"' not in row
        form = inputs(row)
        assert form["indication"] == "Alcohol withdrawal"
        assert form["pre_assessment"] == f"CIWA-Ar 12 at {hhmm(scored_at)}"
        given = client.post(reverse("medications:prn_give", args=[order.public_id]), form)
        assert given.status_code == 302 and given["Location"] == med_pass
        after = text(client.get(med_pass))
    assert "Chlordiazepoxide 25 mg capsule PRN given. Reassess its effect later." in after
    dose = Administration.objects.get(order=order)
    assert dose.outcome == "given" and dose.given_at == start + timedelta(minutes=6)
    assert (dose.trigger_scale, dose.trigger_score) == ("ciwa_ar", 12)
    assert dose.trigger_assessment_id == assessment.public_id
    assert dose.trigger_assessed_at == scored_at
    assert dose.reason == ""

    # 5. The reassessment is due an hour after the score: the withdrawal board says when; the
    # rounds board shows it once it is due soon.
    withdrawal_board = reverse("observations:withdrawal_board")
    rounds_board = reverse("observations:board", args=[unit.public_id])
    with time_machine.travel(start + timedelta(minutes=7), tick=False):
        row = board_row(text(client.get(withdrawal_board)), name)
        assert f"Next due {hhmm(due)}" in row and 'class="score-total">12<' in row
        assert "PRN indicated" in row
        assert "CIWA-Ar" not in text(client.get(rounds_board)).split(name, 1)[1].split("</li>")[0]
    with time_machine.travel(due - timedelta(minutes=10), tick=False):
        sign_in_again(client, nurse)
        assert f"Due soon {hhmm(due)}" in board_row(text(client.get(withdrawal_board)), name)
        assert f"CIWA-Ar due {hhmm(due)}" in text(client.get(rounds_board))

    # 6. Overdue: nothing before the grace has passed; past it the scan (the Celery task's
    # function) alerts once, linked to the scoring page, on the alerts page the nurse reads.
    grace = rules.OVERDUE_AFTER
    with time_machine.travel(due + grace - timedelta(minutes=1), tick=False):
        assert scan_reassessments_overdue() == 0
    late = due + grace + timedelta(minutes=1)
    with time_machine.travel(late, tick=False):
        sign_in_again(client, nurse)
        assert tasks.scan_reassessments_overdue() == 1
        assert tasks.scan_reassessments_overdue() == 0  # once per owed reassessment
        alert = Alert.objects.open().get(kind="withdrawal_overdue")
        assert alert.link == scoring and alert.client_public_id == stay.client.public_id
        message = (
            f"{name}: CIWA-Ar reassessment (last 12, mild, at {hhmm(scored_at)}) was due at "
            f"{hhmm(due)} and is overdue."
        )
        assert alert.message == message
        alerts = text(client.get(reverse("alerts")))
        assert f'<a href="{scoring}">{message}</a>' in alerts
        assert "CIWA-Ar overdue" in text(client.get(rounds_board))
        assert f"Overdue {hhmm(due)}" in board_row(text(client.get(withdrawal_board)), name)
        # The score is no longer current: the PRN asks for a new one.
        assert "no current score — assess first" in prn_row(text(client.get(med_pass)), order)

    # 7. The next score answers the alert.
    rescored = late + timedelta(minutes=3)
    with time_machine.travel(rescored, tick=False):
        assert client.post(scoring, ciwa_body(SIX)).status_code == 302
        alerts = text(client.get(reverse("alerts")))
        row = board_row(text(client.get(withdrawal_board)), name)
    alert.refresh_from_db()
    assert alert.resolved_at == rescored and alert.resolved_by == nurse
    assert alert.resolution_note == f"Scored at {hhmm(rescored)} by {nurse.initials}."
    assert message not in alerts
    assert "12 → 6" in row and f"Next due {hhmm(rescored + timedelta(hours=4))}" in row
    assert "No PRN now" in row


# ---------------------------------------------------------------- the hold


@pytest.mark.django_db
def test_clonidine_with_a_systolic_of_88_typed_on_the_vitals_page_is_offered_held(
    client, cast, facility
):
    """The order and its hold are entered on the order form and verified by a second nurse on the
    order page; the technician types the set on the vitals page; the med pass offers "held" with
    the parameter, and charting it records the reading (tests/medications/test_hold_parameters.py
    covers the rules with readings made directly)."""
    nurse, nurse2 = cast["nurse"], make_user("nurse_two", "nurse", facility)
    clonidine = Medication.objects.create(
        facility=facility, name="Clonidine", strength="0.1 mg", form="tablet", routes="oral"
    )
    with time_machine.travel(local(6, 5), tick=False):
        stay = admit(facility, nurse, admitted_at=local(6, 0))
    client.force_login(nurse)
    with time_machine.travel(local(7, 0), tick=False):
        response = client.post(reverse("medications:order_new", args=[stay.public_id]), {
            "medication": clonidine.pk, "dose": "0.1 mg", "dose_units": "1", "route": "oral",
            "frequency": "bid", "times": "", "start_at": "2026-05-12T07:00", "stop_at": "",
            "prescriber_name": "Dr. Rivera", "prescriber_credentials": "MD",
            "hold_parameters": "Hold if SBP under 90",
            "hold_vital_1": "sbp", "hold_comparator_1": "lt", "hold_value_1": "90",
        })  # fmt: skip
        assert response.status_code == 302
        order = Order.objects.get(admission=stay)
        client.force_login(nurse2)
        verified = client.post(reverse("medications:order_verify", args=[order.public_id]))
        assert verified.status_code == 302
    order.refresh_from_db()
    assert order.verified_by == nurse2
    dose = order.doses.get(scheduled_at=local(9, 0))

    taken = local(8, 40)
    client.force_login(cast["technician"])
    with time_machine.travel(taken + timedelta(minutes=2), tick=False):
        response = client.post(reverse("observations:vitals_record", args=[stay.public_id]), {
            "sbp": "88", "dbp": "54", "hr": "70", "temp_unit": "C",
            "taken_at": f"{taken:%Y-%m-%dT%H:%M}",
        })  # fmt: skip
        assert response.status_code == 302
    assert VitalSigns.objects.get(admission=stay).sbp == 88

    client.force_login(nurse)
    with time_machine.travel(local(9, 0), tick=False):
        page = text(client.get(reverse("medications:med_pass", args=[stay.public_id])))
        card = page.split(f'id="dose-{dose.public_id}"', 1)[1].split("</li>", 1)[0]
        assert "Hold if SBP < 90" in card
        assert "88 from the 08:40 set" in card
        assert "Hold parameter met: SBP 88 < 90" in card
        assert '<option value="held" selected>' in card
        form = inputs(card)
        assert (form["hold_sbp"], form["hold_parameter"]) == ("88", "SBP 88 < 90")
        charted = client.post(
            reverse("medications:dose_document", args=[dose.public_id]),
            {**form, "outcome": "held", "reason": ""},
        )
    assert charted.status_code == 302
    admin = Administration.objects.get(dose=dose)
    assert (admin.outcome, admin.hold_parameter) == ("held", "SBP 88 < 90")
    assert admin.reason == "Hold parameter met: SBP 88 < 90"
    assert (admin.hold_vital, admin.hold_vital_value) == ("sbp", Decimal("88"))
    assert (admin.hold_vital_taken_at, admin.hold_vital_entered) == (taken, False)


# ---------------------------------------------------------------- discharge


@pytest.mark.django_db
def test_discharge_ends_every_open_protocol_and_closes_its_alerts(client, cast, facility):
    nurse = cast["nurse"]
    with time_machine.travel(local(8, 0), tick=False):
        stay = admit(facility, nurse, admitted_at=local(6, 0))
        ciwa_protocol = protocol_start(
            actor=nurse,
            admission=stay,
            scale="ciwa_ar",
            reason="Alcohol withdrawal",
            started_at=local(7, 0),
        )
        cows_protocol = protocol_start(
            actor=nurse,
            admission=stay,
            scale="cows",
            reason="Opioid withdrawal",
            started_at=local(7, 0),
        )
    score(nurse, stay, 12, at=local(7, 10))  # due again 08:10
    with time_machine.travel(local(9, 0), tick=False):
        assert scan_reassessments_overdue() == 2  # the CIWA-Ar, and the COWS never scored
    # Another stay's protocol is not touched (its first score is owed from 09:25).
    with time_machine.travel(local(9, 25), tick=False):
        other = admit(facility, nurse, n=2, admitted_at=local(6, 0))
        protocol_start(actor=nurse, admission=other, scale="ciwa_ar", reason="Alcohol",
                       started_at=local(9, 25))  # fmt: skip

    client.force_login(nurse)
    with time_machine.travel(local(9, 30), tick=False):
        response = client.post(reverse("clients:discharge", args=[stay.public_id]), {
            "discharged_at": "2026-05-12T09:20", "discharge_type": "hospital",
            "note": "Sent to the ED: seizure",
        })  # fmt: skip
        assert response.status_code == 302
        board = text(client.get(reverse("observations:withdrawal_board")))
        assert scan_reassessments_overdue() == 0
    for protocol in (ciwa_protocol, cows_protocol):
        protocol.refresh_from_db()
        assert (protocol.ended_at, protocol.ended_by, protocol.end_reason) == (
            local(9, 20), nurse, "discharge",
        )  # fmt: skip
    assert not WithdrawalProtocol.objects.filter(admission=stay, ended_at__isnull=True).exists()
    assert WithdrawalProtocol.objects.filter(admission=other, ended_at__isnull=True).exists()
    closed = Alert.objects.filter(kind="withdrawal_overdue")
    assert closed.count() == 2 and not closed.open().exists()
    assert {a.resolution_note for a in closed} == {"Client discharged: protocol ended."}
    assert stay.client.display_name not in board.split('id="wd-list"', 1)[1]


@pytest.mark.django_db
def test_a_back_dated_discharge_never_ends_a_protocol_before_it_started(cast, facility):
    nurse = cast["nurse"]
    with time_machine.travel(local(10, 0), tick=False):
        stay = admit(facility, nurse, admitted_at=local(6, 0))
        protocol = protocol_start(
            actor=nurse,
            admission=stay,
            scale="ciwa_ar",
            reason="Alcohol withdrawal",
            started_at=local(9, 40),
        )
        ended_before = protocol_start(
            actor=nurse,
            admission=stay,
            scale="cows",
            reason="Opioid withdrawal",
            started_at=local(7, 0),
        )
        from observations.services import protocol_end

        protocol_end(actor=nurse, protocol=ended_before, reason="Not opioids after all")
        admission_discharge(actor=nurse, admission=stay, discharged_at=local(9, 30),
                            discharge_type="ama")  # fmt: skip
    protocol.refresh_from_db()
    ended_before.refresh_from_db()
    assert (protocol.ended_at, protocol.end_reason) == (local(9, 40), "discharge")
    assert (ended_before.ended_at, ended_before.end_reason) == (
        local(10, 0), "Not opioids after all",
    )  # fmt: skip
