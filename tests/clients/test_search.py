"""Client search (issue 17): by name, preferred name, MRN or date of birth, in the current
facility only, every search recorded in the access log with what was typed."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.finder import search
from clients.models import Client
from clients.services import admission_discharge
from facility.models import AccessEvent
from tests.conftest import admit

URL = reverse("clients:search")


@pytest.fixture
def people(cast, facility, other_facility, admission):
    """Robin Ashdown (in a bed, preferred name "Robbie"), Kim Ashford (discharged), and a Robin
    Ashdown at the other facility, with the same date of birth."""
    Client.objects.filter(pk=admission.client_id).update(preferred_name="Robbie")
    kim = admit(facility, cast["nurse"], first="Kim", last="Ashford", n=3)
    admission_discharge(
        actor=cast["nurse"],
        admission=kim,
        discharged_at=timezone.now(),
        discharge_type="completed",
    )
    twin = admit(
        other_facility,
        cast["other_nurse"],
        first="Robin",
        last="Ashdown",
        dob=admission.client.date_of_birth,
    )
    return {"robin": admission.client, "kim": kim.client, "twin": twin.client}


def found(facility, text):
    return {pid for pid, _ in search(facility, text)}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text, who",
    [
        ("Ashdown", {"robin"}),
        ("ash", {"robin", "kim"}),
        ("Ashdown, Robin", {"robin"}),
        ("  rob   ASHD ", {"robin"}),
        ("Robbie", {"robin"}),
        ("kim ashford", {"kim"}),
        ("robin kim", set()),
        (",", set()),
        ("H99-999999", set()),
    ],
    ids=["last", "partial", "last-comma-first", "partials-any-case", "preferred", "first-last",
         "two-people", "only-comma", "unknown-mrn"],
)  # fmt: skip
def test_search_finds_by_partial_legal_or_preferred_name(facility, people, text, who):
    assert found(facility, text) == {people[w].public_id for w in who}


@pytest.mark.django_db
def test_search_finds_by_mrn_and_by_birth_date_as_staff_type_it(facility, people):
    robin = people["robin"]
    born = robin.date_of_birth
    assert found(facility, robin.mrn.lower()) == {robin.public_id}
    assert found(facility, robin.mrn.split("-")[-1]) == {robin.public_id}  # digits alone
    for typed in (born.isoformat(), f"{born:%m/%d/%Y}", f"{born.month}/{born.day}/{born.year}"):
        assert found(facility, typed) == {robin.public_id}, typed
    assert found(facility, "02/30/1990") == set()  # no such day: no match, no error


@pytest.mark.django_db
def test_search_page_shows_bed_or_discharge_and_logs_the_search(client, cast, facility, people):
    client.force_login(cast["technician"])
    response = client.get(URL, {"q": "ash"})
    body = response.content.decode()
    assert response.status_code == 200
    robin, kim = people["robin"], people["kim"]
    bed = robin.admissions.get().bed
    # Preferred name first, legal name beside it; MRN, DOB, where they are; a link to the chart.
    assert "Robbie Ashdown" in body and "legal name Robin Ashdown" in body
    assert robin.mrn in body and robin.date_of_birth.isoformat() in body
    assert f"Bed <strong>{bed.label}</strong> · {bed.unit.name}" in body
    assert reverse("clients:chart", args=[robin.public_id]) in body
    today = timezone.localdate(timezone=facility.tz).isoformat()
    assert f"Discharged {today}" in body and kim.mrn in body
    assert people["twin"].mrn not in body  # the other facility's Robin Ashdown
    event = AccessEvent.objects.get(action="client_search")
    assert (event.user, event.facility, event.what) == (
        cast["technician"],
        facility,
        "“ash” · 2 found",
    )


@pytest.mark.django_db
def test_other_facility_staff_never_see_home_clients(client, cast, people):
    client.force_login(cast["other_nurse"])
    body = client.get(URL, {"q": people["robin"].mrn}).content.decode()
    assert "0 clients matching" in body
    body = client.get(URL, {"q": "Ashdown"}).content.decode()
    assert people["twin"].mrn in body and people["robin"].mrn not in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed, message",
    [
        ("x" * 101, "Find a client: at most 100 characters"),
        ("Ash\x00down", "remove the control characters"),
        ("Ash\u202edown", "remove the control characters"),
    ],
    ids=["too-long", "nul", "bidi"],
)
def test_hostile_query_gets_a_field_message_and_is_not_searched(client, cast, typed, message):
    client.force_login(cast["nurse"])
    response = client.get(URL, {"q": typed})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AccessEvent.objects.filter(action="client_search").exists()


@pytest.mark.django_db
def test_empty_query_shows_the_empty_page_and_logs_nothing(client, cast, admission):
    client.force_login(cast["nurse"])
    for params in ({}, {"q": ""}, {"q": "   "}):
        response = client.get(URL, params)
        assert response.status_code == 200
        assert admission.client.mrn not in response.content.decode()
    assert not AccessEvent.objects.filter(action="client_search").exists()


@pytest.mark.django_db
def test_more_than_the_limit_says_so(client, cast, facility, monkeypatch):
    monkeypatch.setattr("clients.search_views.SEARCH_LIMIT", 2)
    for n in range(3):
        admit(facility, cast["nurse"], first="Lee", last=f"Marsh{n}", n=n, dob=date(1980, 1, 1))
    client.force_login(cast["nurse"])
    body = client.get(URL, {"q": "01/01/1980"}).content.decode()
    assert "The first 2 clients matching" in body
    assert AccessEvent.objects.get(action="client_search").what == "“01/01/1980” · 2+ found"


@pytest.mark.django_db
def test_header_search_box_is_shown_only_to_census_roles(client, cast):
    client.force_login(cast["technician"])
    assert 'id="topbar-search-q"' in client.get(reverse("alerts")).content.decode()
    client.force_login(cast["admin"])
    assert 'id="topbar-search-q"' not in client.get(reverse("staff_list")).content.decode()
