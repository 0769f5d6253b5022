"""The audit trail a privacy officer uses (issue 16 item 7): data changes next to access events,
search by client, staff, action and period, sort by any column, CSV export, and "who looked at
this client" from the chart."""

import csv
import io
import uuid
from datetime import date, timedelta

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from auditlog.signals import pre_log
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility import audit
from facility.models import AccessEvent
from facility.pdf import part2_statement_1
from facility.services import access_log
from tests.conftest import admit, form_time


def _rename(client_row, actor, preferred):
    with set_actor(actor):
        client_row.preferred_name = preferred
        client_row.save()


def _trail(http, **params):
    response = http.get(reverse("audit_trail"), params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_a_data_change_names_who_which_field_from_what_to_what(client, cast, admission):
    person = admission.client
    _rename(person, cast["nurse"], "Sunny")
    entry = LogEntry.objects.get_for_object(person).latest("id")
    assert entry.additional_data == {
        "facility": admission.facility.pk,
        "client": str(person.public_id),
        "mrn": person.mrn,
    }
    client.force_login(cast["nurse"])
    client.get(reverse("clients:chart", args=[person.public_id]))
    client.force_login(cast["supervisor"])
    body = _trail(client)
    assert "Changed client" in body
    assert "<strong>preferred name</strong>" in body
    assert "<ins>Sunny</ins>" in body
    assert person.mrn in body
    assert "<td>Viewed chart</td>" in body  # access events in the same list
    # Merged by time, newest first: the chart view came after the change.
    assert body.index("<td>Viewed chart</td>") < body.index("Changed client")


@pytest.mark.django_db
def test_a_stay_record_changed_on_the_floor_carries_its_client(client, cast, admission):
    client.force_login(cast["technician"])
    client.post(
        reverse("clients:leave_start", args=[admission.public_id]),
        {
            "kind": "appointment",
            "left_at": form_time(timezone.now(), admission.facility),
            "expected_back_at": form_time(timezone.now() + timedelta(hours=2), admission.facility),
        },
    )
    entry = LogEntry.objects.get_for_object(admission.leaves.get()).get()
    assert entry.actor == cast["technician"]
    assert entry.additional_data["mrn"] == admission.client.mrn
    client.force_login(cast["supervisor"])
    body = _trail(client, action=audit.DATA_CHANGE, client=admission.client.mrn)
    assert "Created leave" in body
    assert "technician" in body


@pytest.mark.django_db
def test_other_facilitys_data_changes_stay_out(client, cast, admission, other_admission):
    _rename(other_admission.client, cast["other_nurse"], "Elsewhere")
    client.force_login(cast["supervisor"])
    body = _trail(client, action=audit.DATA_CHANGE)
    assert "Elsewhere" not in body
    assert other_admission.client.mrn not in body


@pytest.mark.django_db
@pytest.mark.parametrize("words", ["last", "first last", "preferred", "dob", "mrn"])
def test_search_by_client_name_preferred_name_dob_or_mrn(client, cast, facility, admission, words):
    second = admit(facility, cast["nurse"], n=7, first="Zed", last="Quill", dob=date(1970, 2, 3))
    person = admission.client
    _rename(person, cast["nurse"], "Sunny")
    for stay in (admission, second):
        access_log(action="view", actor=cast["nurse"], facility=facility, client=stay.client)
    words = {
        "last": person.legal_last_name.lower(),
        "first last": f"{person.legal_first_name} {person.legal_last_name[:3]}",
        "preferred": "sunny",
        "dob": person.date_of_birth.isoformat(),
        "mrn": person.mrn,
    }[words]
    client.force_login(cast["supervisor"])
    body = _trail(client, client=words)
    assert admission.client.mrn in body
    assert second.client.mrn not in body


@pytest.mark.django_db
def test_search_by_staff_member_action_and_period(client, cast, facility, admission):
    _rename(admission.client, cast["clinician"], "Sunny")
    access_log(action="view", actor=cast["nurse"], facility=facility, client=admission.client)
    access_log(action="print", actor=cast["clinician"], facility=facility, what="Census")
    client.force_login(cast["supervisor"])
    body = _trail(client, user="Clinician")  # the full name, as make_user writes it
    assert "Changed client" in body and "<td>Printed</td>" in body
    assert "<td>Viewed chart</td>" not in body
    body = _trail(client, action=audit.DATA_CHANGE)
    assert "Changed client" in body and "<td>Printed</td>" not in body
    body = _trail(client, action="print")
    assert "Changed client" not in body and "<td>Printed</td>" in body
    today = timezone.localdate(timezone=facility.tz)
    body = _trail(client, start=(today + timedelta(days=1)).isoformat())
    assert "No events match" in body
    body = _trail(client, start=today.isoformat(), end=today.isoformat())
    assert "Changed client" in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sort", ["when", "user", "role", "action", "client", "what", "ip", "outcome"]
)
def test_every_column_sorts_both_ways(client, cast, facility, admission, sort):
    _rename(admission.client, cast["nurse"], "Sunny")
    access_log(action="view", actor=cast["clinician"], facility=facility, client=admission.client)
    client.force_login(cast["supervisor"])
    for value in (sort, f"-{sort}"):
        body = _trail(client, sort=value)
        assert "Changed client" in body and "<td>Viewed chart</td>" in body


@pytest.mark.django_db
def test_sorting_by_user_orders_the_merged_rows(client, cast, facility, admission):
    _rename(admission.client, cast["technician"], "Sunny")  # "technician" sorts last
    access_log(action="view", actor=cast["clinician"], facility=facility, client=admission.client)
    client.force_login(cast["supervisor"])
    body = _trail(client, sort="user")
    assert body.index("<td>Viewed chart</td>") < body.index("Changed client")
    body = _trail(client, sort="-user")
    assert body.index("Changed client") < body.index("<td>Viewed chart</td>")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params, message",
    [
        ({"client": "bad\x00"}, "Client: remove the control characters"),
        ({"user": "\u202eevil"}, "Staff member: remove the control characters"),
        ({"client": "x" * 101}, "Client: at most 100 characters"),
        ({"sort": "id; drop table"}, "Select a valid choice"),
        ({"action": "nothing"}, "Select a valid choice"),
        ({"start": "not a date"}, "Enter a valid date"),
        ({"start": "0001-01-01"}, "From: enter a date between"),
        ({"end": "9999-12-31"}, "To: enter a date between"),
        ({"start": "2026-05-02", "end": "2026-05-01"}, "End date must not be before"),
    ],
)
def test_hostile_search_input_is_refused_with_a_field_message(client, cast, params, message):
    client.force_login(cast["supervisor"])
    response = client.get(reverse("audit_trail"), params)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert "No events match" not in body  # no rows under a refused search
    response = client.get(reverse("audit_export"), params)
    assert response.status_code == 400
    assert not AccessEvent.objects.filter(action="export").exists()


def _queries_for_page(http, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(reverse("audit_trail"), params).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_a_page_costs_the_same_queries_however_many_rows(client, cast, facility, admission):
    client.force_login(cast["supervisor"])
    _rename(admission.client, cast["nurse"], "A")
    access_log(action="view", actor=cast["nurse"], facility=facility, client=admission.client)
    client.get(reverse("audit_trail"))  # content types cached, session warmed
    few = _queries_for_page(client, client=admission.client.mrn)
    for i in range(40):
        _rename(admission.client, cast["nurse"], f"Name {i}")
        access_log(action="view", actor=cast["nurse"], facility=facility, client=admission.client)
    many = _queries_for_page(client, client=admission.client.mrn)
    assert many == few
    assert _queries_for_page(client, client=admission.client.mrn, page=2) == few
    body = _trail(client, client=admission.client.mrn, page=2)
    assert "Page 2 of 2" in body


@pytest.mark.django_db
def test_csv_export_carries_the_notice_and_is_itself_audited(client, cast, facility, admission):
    _rename(admission.client, cast["nurse"], "Sunny")
    access_log(action="view", actor=cast["nurse"], facility=facility, client=admission.client)
    client.force_login(cast["supervisor"])
    response = client.get(reverse("audit_export"), {"client": admission.client.mrn})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [part2_statement_1()]
    assert rows[2][:4] == ["When (UTC)", "User", "Role", "Action"]
    changes = [r for r in rows[3:] if r[3] == "Changed client"]
    assert changes and "preferred name:  → Sunny" in changes[0][6]
    assert any(r[3] == "Viewed chart" and r[4] == admission.client.mrn for r in rows[3:])
    export = AccessEvent.objects.get(action="export")
    assert export.user == cast["supervisor"]
    assert export.facility == facility
    assert f"client “{admission.client.mrn}”" in export.what
    assert f"{len(rows) - 3} rows" in export.what


@pytest.mark.django_db
def test_who_looked_at_this_client_lists_reads_newest_first(client, cast, facility, admission):
    person = admission.client
    client.force_login(cast["nurse"])
    chart = client.get(reverse("clients:chart", args=[person.public_id])).content.decode()
    assert "Who looked at this client" not in chart  # nurses do not review access
    access_log(action="print", actor=cast["clinician"], facility=facility, client=person)
    access_log(action="login", actor=cast["clinician"])  # not a look at the record
    client.force_login(cast["supervisor"])
    chart = client.get(reverse("clients:chart", args=[person.public_id])).content.decode()
    url = reverse("audit_client_access", args=[person.public_id])
    assert url in chart
    body = client.get(url).content.decode()
    assert person.mrn in body
    # Newest first: this visit, the supervisor's chart view, the print, the nurse's view.
    order = [body.index(s) for s in ("who looked at this client (audit)", "Printed", ">nurse<")]
    assert order == sorted(order)
    assert "Logged in" not in body


@pytest.mark.django_db
def test_who_looked_is_for_supervisors_of_the_clients_facility(client, cast, admission):
    url = reverse("audit_client_access", args=[admission.client.public_id])
    client.force_login(cast["other_supervisor"])
    assert client.get(url).status_code == 404
    assert client.get(reverse("audit_client_access", args=[uuid.uuid4()])).status_code == 404
    client.force_login(cast["nurse"])
    assert client.get(url).status_code == 403
    assert not AccessEvent.objects.filter(what__startswith="who looked").exists()


def _board_post(http, admission):
    from observations.models import RoundCode

    codes = RoundCode.objects.filter(facility=admission.facility)
    pid = admission.public_id
    return http.post(
        reverse("observations:board", args=[admission.unit.public_id]),
        {
            "submission_key": str(uuid.uuid4()),
            "minutes_back": "0",
            "include": [str(pid)],
            f"loc-{pid}": str(codes.get(kind="location", code="RM").pk),
            f"st-{pid}": str(codes.get(kind="status", code="A").pk),
            "late_reason": "",
            f"remark-{pid}": "",
        },
    )


@pytest.mark.django_db
def test_naming_facility_and_client_adds_next_to_nothing_to_a_round(client, cast, facility):
    stays = [admit(facility, cast["nurse"], n=i) for i in range(3)]
    client.force_login(cast["technician"])
    _board_post(client, stays[0])  # warm the session and caches
    with CaptureQueriesContext(connection) as with_subject:
        assert _board_post(client, stays[1]).status_code == 302
    pre_log.disconnect(dispatch_uid="haven_audit_subject")
    try:
        with CaptureQueriesContext(connection) as without:
            assert _board_post(client, stays[2]).status_code == 302
    finally:
        pre_log.connect(audit._attach_subject, dispatch_uid="haven_audit_subject")
    # Rounds are bulk-inserted: any tracked row they touch costs at most one cached lookup.
    assert len(with_subject) - len(without) <= 1


@pytest.mark.django_db
def test_finder_matches_words_in_any_name_and_stays_in_the_facility(cast, facility, other_facility):
    from clients.finder import search

    mine = admit(facility, cast["nurse"], first="Ada", last="Lovelace", dob=date(1985, 3, 4))
    theirs = admit(other_facility, cast["other_nurse"], first="Ada", last="Lovelace")
    assert search(facility, "ada love") == [(mine.client.public_id, mine.client.mrn)]
    assert search(facility, "1985-03-04") == [(mine.client.public_id, mine.client.mrn)]
    assert search(facility, mine.client.mrn.lower()) == [(mine.client.public_id, mine.client.mrn)]
    assert search(other_facility, "Lovelace") == [(theirs.client.public_id, theirs.client.mrn)]
    assert search(facility, "   ") == []
