"""The census board: who is in which bed, for how long, with constant queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import admit


def census_queries(client_, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client_.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


@pytest.mark.django_db
def test_census_lists_each_bed_with_its_client_and_day(client, cast, facility, admission):
    client.force_login(cast["technician"])
    response = client.get(reverse("clients:census"))
    body = response.content.decode()
    assert response.status_code == 200
    assert admission.bed.label in body
    assert "Robin A." in body
    assert admission.client.mrn in body
    # Admitted an hour ago: day 2 when that hour crossed the facility's midnight.
    tz = facility.tz
    day = (
        timezone.localdate(timezone=tz) - timezone.localtime(admission.admitted_at, tz).date()
    ).days
    assert f"Day {day + 1}" in body
    assert "1 of 12 beds occupied" in body.replace("<strong>", "").replace("</strong>", "")


@pytest.mark.django_db
def test_census_query_count_does_not_grow_with_clients(client, cast, facility):
    client.force_login(cast["nurse"])
    url = reverse("clients:census")
    admit(facility, cast["nurse"], n=1)
    client.get(url)  # the first request after sign-in also saves the session
    few, _ = census_queries(client, url)
    for n in range(2, 11):
        admit(facility, cast["nurse"], n=n)
    many, response = census_queries(client, url)
    assert "10 of 12 beds occupied" in response.content.decode().replace("<strong>", "").replace(
        "</strong>", ""
    )
    assert many == few
    # page, user, facility, beds, admissions, and 2-3 per slot; the leaves once for both the
    # observation and the vitals columns
    assert many <= 15, many


@pytest.mark.django_db
def test_census_never_shows_another_facilitys_client(client, cast, admission, other_admission):
    client.force_login(cast["other_technician"])
    body = client.get(reverse("clients:census")).content.decode()
    assert "Sky B." in body
    assert "Robin" not in body
    assert admission.client.mrn not in body
