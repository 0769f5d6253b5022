"""Entering a paper downtime sheet (issue 10 item 5): nurses and supervisors, up to 24 hours
back, late with a reason and the server's time kept, all rows or none, closing missed alerts."""

import threading
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from clients.services import leave_return, leave_start
from facility.models import Alert
from observations.models import Incident, RoundCheck, RoundCode
from observations.services import DowntimeRow, downtime_submit, missed_key, scan_missed_checks
from tests.conftest import admit, form_time

NY = ZoneInfo("America/New_York")
ADMITTED = datetime(2026, 5, 12, 7, 0, tzinfo=NY)
NOW = datetime(2026, 5, 12, 10, 7, tzinfo=NY)


@pytest.fixture(autouse=True)
def _missed_checks_alone(monkeypatch):
    """The minute scan also judges security-round windows; here only missed checks count."""
    monkeypatch.setattr("observations.services.scans.scan_security_rounds", lambda **kwargs: 0)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def code(facility, kind, value):
    return RoundCode.objects.get(facility=facility, kind=kind, code=value)


def sheet(admission, *rows, reason="Network outage 08:00-09:30", key=None):
    """The POST of a downtime sheet: rows of (admission, local time, location, status, extra)."""
    facility = admission.facility
    data = {"submission_key": str(key or uuid.uuid4()), "rows": str(max(len(rows), 1))}
    data["reason"] = reason
    for n, (adm, when, loc, st, *extra) in enumerate(rows, start=1):
        data.update(
            {
                f"client-{n}": str(adm.public_id),
                f"time-{n}": form_time(when, facility),
                f"loc-{n}": str(code(facility, "location", loc).pk),
                f"st-{n}": str(code(facility, "status", st).pk),
                f"remark-{n}": "",
            }
        )
        for item in extra:
            data.update({f"{k}-{n}": v for k, v in item.items()})
    return data


def url(admission):
    return reverse("observations:downtime", args=[admission.unit.public_id])


def page(response) -> str:
    return response.content.decode()


@pytest.fixture
def stay(cast, facility, clock):
    return admit(facility, cast["nurse"], first="Robin", last="Ashdown", admitted_at=ADMITTED)


@pytest.mark.django_db
def test_a_downtime_entry_closes_a_missed_alert(client, cast, facility, stay, clock):
    # The scan watched from 08:00; at 10:07 the q15 blocks since then with no check are missed.
    scan_missed_checks(now=datetime(2026, 5, 12, 8, 0, tzinfo=NY))
    scan_missed_checks(now=NOW)
    block = datetime(2026, 5, 12, 8, 30, tzinfo=NY)
    key = missed_key(stay.public_id, block, 15, first=False)
    assert Alert.objects.open().filter(dedupe_key=key).exists()
    open_before = Alert.objects.open().filter(kind="missed_check").count()

    client.force_login(cast["nurse"])
    seen = datetime(2026, 5, 12, 8, 37, tzinfo=NY)
    response = client.post(url(stay), sheet(stay, (stay, seen, "DAY", "A")), follow=True)

    assert "1 check, marked late; 1 missed-check alert closed." in page(response)
    alert = Alert.objects.get(dedupe_key=key)
    assert alert.resolved_at == NOW and alert.resolved_by == cast["nurse"]
    assert "08:37" in alert.resolution_note
    # Only that block: the 08:00 q15 block is still missed, though a q60 block would also
    # start at 08:00 and hold 08:37.
    assert Alert.objects.open().filter(kind="missed_check").count() == open_before - 1
    earlier = missed_key(stay.public_id, datetime(2026, 5, 12, 8, 0, tzinfo=NY), 15, first=False)
    assert Alert.objects.open().filter(dedupe_key=earlier).exists()
    check = RoundCheck.objects.get(admission=stay)
    assert (check.observed_at, check.recorded_at) == (seen, NOW)
    assert check.source == "downtime"
    assert check.late_reason == "Downtime: Network outage 08:00-09:30"
    assert check.recorded_by == cast["nurse"]
    # Shown as a late entry with the reason, under the sheet.
    text = page(response)
    assert "late entry" in text and "Downtime: Network outage 08:00-09:30" in text
    # And on the client's chart.
    chart = page(client.get(reverse("clients:chart", args=[stay.client.public_id])))
    assert "late entry · downtime" in chart


@pytest.mark.django_db
def test_one_client_may_appear_on_many_rows_of_a_sheet(client, cast, facility, stay, clock):
    client.force_login(cast["supervisor"])
    times = [datetime(2026, 5, 12, 8, m, tzinfo=NY) for m in (5, 20, 35, 50)]
    data = sheet(stay, *[(stay, t, "RM", "A") for t in times])
    assert client.post(url(stay), data).status_code == 302
    assert sorted(RoundCheck.objects.values_list("observed_at", flat=True)) == times


@pytest.mark.django_db
def test_the_same_sheet_posted_again_is_recorded_once(client, cast, facility, stay, clock):
    client.force_login(cast["nurse"])
    data = sheet(stay, (stay, datetime(2026, 5, 12, 9, 10, tzinfo=NY), "RM", "A"))
    client.post(url(stay), data)
    again = client.post(url(stay), data, follow=True)
    assert "This downtime sheet was already recorded." in page(again)
    assert RoundCheck.objects.count() == 1
    # The key reused for a different sheet is refused, nothing saved.
    other = sheet(
        stay, (stay, datetime(2026, 5, 12, 9, 20, tzinfo=NY), "RM", "A"), key=data["submission_key"]
    )
    refused = client.post(url(stay), other)
    assert refused.status_code == 400
    assert "already used to record a different sheet" in page(refused)
    assert RoundCheck.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_posts_of_one_sheet_record_it_once(cast, facility):
    now = datetime.now(NY).replace(second=0, microsecond=0)
    stay = admit(facility, cast["nurse"], admitted_at=now - timedelta(hours=3))
    rows = [
        DowntimeRow(1, stay, now - timedelta(hours=1), code(facility, "location", "RM"),
                    code(facility, "status", "A")),
    ]  # fmt: skip
    key, barrier, results = uuid.uuid4(), threading.Barrier(5), []

    def post():
        barrier.wait()
        try:
            results.append(
                downtime_submit(
                    actor=cast["nurse"],
                    facility=facility,
                    submission_key=key,
                    rows=rows,
                    reason="Outage",
                )  # fmt: skip
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r[2] for r in results) == [False, True, True, True, True]
    assert RoundCheck.objects.filter(admission=stay).count() == 1


@pytest.mark.django_db
def test_rows_for_a_client_not_admitted_or_on_leave_are_refused_naming_the_row(
    client, cast, facility, stay, clock
):
    later = admit(facility, cast["nurse"], n=2, admitted_at=datetime(2026, 5, 12, 9, 0, tzinfo=NY))
    with time_machine.travel(datetime(2026, 5, 12, 8, 0, tzinfo=NY), tick=False):
        leave = leave_start(
            actor=cast["nurse"], admission=stay, kind="appointment",
            left_at=datetime(2026, 5, 12, 8, 0, tzinfo=NY),
            expected_back_at=datetime(2026, 5, 12, 9, 0, tzinfo=NY),
        )  # fmt: skip
    leave_return(
        actor=cast["nurse"], leave=leave, returned_at=datetime(2026, 5, 12, 8, 50, tzinfo=NY)
    )
    client.force_login(cast["nurse"])
    data = sheet(
        stay,
        (stay, datetime(2026, 5, 12, 7, 30, tzinfo=NY), "RM", "A"),  # fine: before the leave
        (stay, datetime(2026, 5, 12, 8, 20, tzinfo=NY), "DAY", "A"),  # off site
        (later, datetime(2026, 5, 12, 8, 45, tzinfo=NY), "RM", "A"),  # not yet admitted
        (stay, datetime(2026, 5, 12, 8, 50, tzinfo=NY), "RM", "A"),  # back: fine
    )
    response = client.post(url(stay), data)
    assert response.status_code == 400
    text = page(response)
    assert "Nothing was saved." in text
    assert escape("Row 2 (RA): off site (appointment) at 2026-05-12 08:20") in text
    assert escape(f"Row 3 ({later.client.initials}): not admitted at 2026-05-12 08:45.") in text
    assert "Row 1 " not in text and "Row 4 " not in text
    assert RoundCheck.objects.count() == 0


@pytest.mark.django_db
def test_sleeping_needs_respirations_and_a_reason_is_required(client, cast, facility, stay, clock):
    client.force_login(cast["nurse"])
    when = datetime(2026, 5, 12, 9, 0, tzinfo=NY)
    data = sheet(stay, (stay, when, "RM", "S"), reason="")
    response = client.post(url(stay), data)
    assert response.status_code == 400
    assert "Reason: say why the checks were charted on paper." in page(response)
    data["reason"] = "Power cut"
    response = client.post(url(stay), data)
    assert escape("Row 1 (RA): sleeping needs “respirations observed”.") in page(response)
    data["resp-1"] = "on"
    assert client.post(url(stay), data).status_code == 302
    assert RoundCheck.objects.get().respirations_observed is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value, message",
    [
        ("time-1", "9999-12-31T23:59", "Row 1: Observed at: enter a date between"),
        ("time-1", "0001-01-01T00:00", "Row 1: Observed at: enter a date between"),
        ("time-1", "2026-05-11T10:06", "Row 1: Observed at: at most 24 hours back."),
        ("time-1", "2026-05-10T09:00", "Row 1: Observed at: at most 24 hours back."),
        ("time-1", "2026-05-12T10:09", "Row 1: Observed at: cannot be in the future."),
        ("time-1", "yesterday", "Row 1: Observed at: enter a valid date and time."),
        ("time-1", "", "Row 1: Observed at: enter the time on the sheet."),
        ("client-1", "abc", "Row 1: Client: choose a client of this unit."),
        (
            "client-1",
            "de9774b3-598d-43a4-adec-2a7cdd3b4162",
            "Row 1: Client: choose a client of this unit.",
        ),
        ("loc-1", "99999999", "Row 1: Location: choose one in use here."),
        ("st-1", "-1", "Row 1: Status: choose one in use here."),
        ("st-1", "", "Row 1: Status: choose one."),
        ("reason", "Outage\x00", "Reason: remove the control characters"),
        ("reason", "Out\u202eage", "Reason: remove the control characters"),
        ("reason", "x" * 191, "Reason: at most 190 characters"),
        ("remark-1", "calm\u2066", "Row 1: Remark: remove the control characters"),
        ("remark-1", "x" * 501, "Row 1: Remark: at most 500 characters"),
        ("submission_key", "not-a-key", "This downtime sheet is out of date; reload the page."),
    ],
)
def test_hostile_input_gets_a_message_and_saves_nothing(
    client, cast, facility, stay, clock, field, value, message
):
    client.force_login(cast["nurse"])
    data = sheet(stay, (stay, datetime(2026, 5, 12, 9, 0, tzinfo=NY), "RM", "A"))
    data[field] = value
    response = client.post(url(stay), data)
    assert response.status_code == 400
    assert escape(message) in page(response)
    assert RoundCheck.objects.count() == 0


@pytest.mark.django_db
def test_another_facilitys_client_or_code_is_refused(
    client, cast, facility, other_facility, stay, clock
):
    elsewhere = other_facility
    stranger = admit(elsewhere, cast["other_nurse"], n=5, admitted_at=ADMITTED)
    client.force_login(cast["nurse"])
    data = sheet(stay, (stay, datetime(2026, 5, 12, 9, 0, tzinfo=NY), "RM", "A"))
    data["client-1"] = str(stranger.public_id)
    data["loc-1"] = str(code(elsewhere, "location", "RM").pk)
    response = client.post(url(stay), data)
    assert response.status_code == 400
    assert "Row 1: Client: choose a client of this unit." in page(response)
    assert "Row 1: Location: choose one in use here." in page(response)
    assert RoundCheck.objects.count() == 0


@pytest.mark.django_db
def test_the_service_refuses_rows_past_24_hours_and_in_the_future(cast, facility, stay, clock):
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    old = admit(facility, cast["nurse"], n=3, admitted_at=NOW - timedelta(days=3))
    for when, message in [
        (NOW - timedelta(hours=24, minutes=1), "more than 24 hours ago"),
        (NOW + timedelta(minutes=1), "is in the future"),
    ]:
        with pytest.raises(ValidationError, match=message):
            downtime_submit(
                actor=cast["nurse"], facility=facility, submission_key=uuid.uuid4(),
                rows=[DowntimeRow(1, old, when, rm, awake)], reason="Outage", now=NOW,
            )  # fmt: skip
    with pytest.raises(ValidationError, match="Reason: say why"):
        downtime_submit(
            actor=cast["nurse"], facility=facility, submission_key=uuid.uuid4(),
            rows=[DowntimeRow(1, old, NOW, rm, awake)], reason="  ", now=NOW,
        )  # fmt: skip
    assert RoundCheck.objects.count() == 0


@pytest.mark.django_db
def test_a_garbled_row_count_is_kept_within_the_sheet(client, cast, facility, stay, clock):
    client.force_login(cast["nurse"])
    for rows in ("abc", "-5", "100000", "\x00"):
        data = sheet(stay, (stay, datetime(2026, 5, 12, 9, 0, tzinfo=NY), "RM", "A"))
        data["rows"] = rows
        response = client.post(url(stay), data)
        assert response.status_code in (302, 400), rows
    # "More rows" adds rows and keeps what was typed, saving nothing.
    data = sheet(stay, (stay, datetime(2026, 5, 12, 9, 30, tzinfo=NY), "RM", "A"))
    data["more"] = "1"
    before = RoundCheck.objects.count()
    response = client.post(url(stay), data)
    assert response.status_code == 200
    assert 'name="client-13"' in page(response) and 'value="2026-05-12T09:30"' in page(response)
    assert RoundCheck.objects.count() == before


# ---------------------------------------------------------------- who may


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in(client, stay):
    response = client.get(url(stay))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["technician", "clinician", "admin"])
def test_roles_that_do_not_enter_downtime_get_403_and_save_nothing(
    client, cast, facility, stay, clock, role
):
    client.force_login(cast[role])
    assert client.get(url(stay)).status_code == 403
    data = sheet(stay, (stay, datetime(2026, 5, 12, 9, 0, tzinfo=NY), "RM", "A"))
    assert client.post(url(stay), data).status_code == 403
    assert client.get(reverse("observations:downtime_home")).status_code == 403
    assert RoundCheck.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["nurse", "supervisor"])
def test_another_facilitys_nurse_gets_404_and_saves_nothing(
    client, cast, facility, stay, clock, role
):
    client.force_login(cast[f"other_{role}"])
    assert client.get(url(stay)).status_code == 404
    data = sheet(stay, (stay, datetime(2026, 5, 12, 9, 0, tzinfo=NY), "RM", "A"))
    assert client.post(url(stay), data).status_code == 404
    assert RoundCheck.objects.count() == 0


@pytest.mark.django_db
def test_the_board_and_compliance_link_the_screen_for_nurses_only(client, cast, stay, clock):
    board = reverse("observations:board", args=[stay.unit.public_id])
    client.force_login(cast["nurse"])
    assert url(stay) in page(client.get(board))
    compliance = page(client.get(reverse("observations:compliance")))
    assert reverse("observations:downtime_home") in compliance
    home = client.get(reverse("observations:downtime_home"))
    assert home.status_code == 302 and "/downtime/" in home["Location"]
    client.force_login(cast["technician"])
    assert "Downtime entry" not in page(client.get(board))


@pytest.mark.django_db
def test_the_page_names_clients_and_codes_in_words(client, cast, stay, clock):
    client.force_login(cast["nurse"])
    text = page(client.get(url(stay)))
    assert "Robin" in text and stay.client.mrn in text
    assert "DAY Day room" in text and "S Sleeping" in text and "A Awake, calm" in text


@pytest.mark.django_db
def test_the_page_query_count_does_not_grow_with_clients_or_entries(
    client, cast, facility, stay, clock
):
    client.force_login(cast["nurse"])
    client.get(url(stay))  # warm the session and the facility
    with CaptureQueriesContext(connection) as few:
        assert client.get(url(stay)).status_code == 200
    for n in range(2, 8):
        other = admit(facility, cast["nurse"], n=n, admitted_at=ADMITTED)
        if other.unit_id != stay.unit_id:
            continue
        client.post(
            url(stay),
            sheet(stay, *[(other, NOW - timedelta(minutes=10 * k), "RM", "A") for k in (1, 2)]),
        )
    assert RoundCheck.objects.count() >= 4
    with CaptureQueriesContext(connection) as many:
        assert client.get(url(stay)).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(many.captured_queries) <= 9, [q["sql"][:90] for q in many.captured_queries]


@pytest.mark.django_db
def test_self_injury_on_a_downtime_sheet_alerts_at_once(client, cast, facility, stay, clock):
    client.force_login(cast["nurse"])
    data = sheet(stay, (stay, datetime(2026, 5, 12, 9, 5, tzinfo=NY), "BR", "SIB"))
    data["remark-1"] = "Scratching forearm, staff intervened"
    assert client.post(url(stay), data).status_code == 302
    alert = Alert.objects.get(kind="round_safety")
    assert alert.severity == "critical" and "09:05 on a downtime sheet" in alert.message
    assert "Scratching forearm" in alert.message


@pytest.mark.django_db
def test_an_sib_on_a_downtime_sheet_opens_one_draft_incident(client, cast, facility, stay, clock):
    """The paper SIB opens the round's prefilled draft, the nurse who entered it its reporter,
    and the supervisors are told; the same sheet again, or the same check typed on another
    sheet, finds that draft instead of opening a second."""
    nurse = cast["nurse"]
    client.force_login(nurse)
    when = datetime(2026, 5, 12, 9, 5, tzinfo=NY)
    data = sheet(stay, (stay, when, "BR", "SIB"), (stay, when + timedelta(minutes=15), "BR", "A"))
    data["remark-1"] = "Scratching forearm, staff intervened"
    assert client.post(url(stay), data).status_code == 302
    incident = Incident.objects.get()
    assert (incident.status, incident.incident_type, incident.source) == (
        "draft", "self_harm", "round"
    )  # fmt: skip
    assert (incident.reported_by, incident.occurred_at) == (nurse, when)
    assert incident.description.startswith("Self-injurious behavior recorded on rounds at 09:05")
    assert "Scratching forearm" in incident.description
    assert list(incident.client_links.values_list("admission", flat=True)) == [stay.pk]
    told = Alert.objects.get(kind="incident_draft_opened")
    assert told.audience == "supervisor" and told.client_public_id is None
    # A retry of the sheet, then the same check typed again under a new key: still one draft.
    assert client.post(url(stay), data).status_code == 302
    again = sheet(stay, (stay, when, "BR", "SIB"), reason="Typed again from the binder")
    assert client.post(url(stay), again).status_code == 302
    assert Incident.objects.count() == 1
    assert Alert.objects.filter(kind="incident_draft_opened").count() == 1


@pytest.mark.django_db
def test_a_safety_concern_on_a_downtime_row_opens_a_draft_and_alerts(cast, facility, stay, clock):
    when = datetime(2026, 5, 12, 9, 20, tzinfo=NY)
    row = DowntimeRow(
        1,
        stay,
        when,
        code(facility, "location", "RM"),
        code(facility, "status", "A"),
        safety_concern=True,
        remark="Hoarding cords",
    )
    downtime_submit(actor=cast["nurse"], facility=facility, submission_key=uuid.uuid4(),
                    rows=[row], reason="Outage")  # fmt: skip
    assert RoundCheck.objects.get().safety_concern is True
    incident = Incident.objects.get()
    assert incident.incident_type == "other"
    assert incident.description.startswith(
        "Safety concern (awake, calm) recorded on rounds at 09:20"
    )
    assert (
        "safety concern at 09:20 on a downtime sheet"
        in Alert.objects.get(kind="round_safety").message
    )
    # A quiet row opens nothing.
    quiet = DowntimeRow(
        1,
        stay,
        when + timedelta(minutes=15),
        code(facility, "location", "RM"),
        code(facility, "status", "A"),
    )
    downtime_submit(actor=cast["nurse"], facility=facility, submission_key=uuid.uuid4(),
                    rows=[quiet], reason="Outage")  # fmt: skip
    assert Incident.objects.count() == 1
