"""The nurse's withdrawal board (issue 11 item 5): everyone on a protocol, the last score, its
band and trend, when the next is due, the PRN the score now indicates (a real score-triggered PRN
order, read through facility.registry), and "first score due" for a protocol never scored; who
may see it, and a query count that does not grow with clients. Also the rounds board's tag."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility.models import Bed
from tests.conftest import admit
from tests.observations.withdrawal_helpers import score, start, triggered_prn

BOARD = "observations:withdrawal_board"


def early(facility, nurse, **kw):
    return admit(facility, nurse, admitted_at=timezone.now() - timedelta(hours=8), **kw)


@pytest.fixture
def ward(cast, facility):
    """Robin on CIWA-Ar scored 4 then 12 with a chlordiazepoxide PRN from 10; Sam on COWS never
    scored; Kim admitted and on no protocol."""
    nurse = cast["nurse"]
    robin = early(facility, nurse, first="Robin", last="Ashdown", n=1)
    sam = early(facility, nurse, first="Sam", last="Cobbett", n=2)
    kim = early(facility, nurse, first="Kim", last="Dunmore", n=3)
    start(nurse, robin, at=timezone.now() - timedelta(hours=6))
    score(nurse, robin, 4, at=timezone.now() - timedelta(hours=5))
    score(nurse, robin, 12, at=timezone.now() - timedelta(minutes=10))
    triggered_prn(nurse, _second_nurse(facility), robin)
    start(nurse, sam, "cows", at=timezone.now() - timedelta(minutes=2))
    return robin, sam, kim


def _second_nurse(facility):
    from tests.conftest import make_user

    return make_user("nurse_two", "nurse", facility)


@pytest.mark.django_db
def test_the_board_lists_everyone_on_a_protocol_with_score_trend_due_and_prn(
    client, cast, facility, ward
):
    robin, sam, kim = ward
    client.force_login(cast["nurse"])
    page = client.get(reverse(BOARD)).content.decode()
    assert "Robin" in page and "Sam" in page and "Kim" not in page
    assert "4 → 12" in page and 'aria-label="rising"' in page
    assert "mild" in page
    due = timezone.localtime(robin.scale_assessments.get(total=12).assessed_at, facility.tz)
    assert f"Next due {(due + timedelta(hours=1)):%H:%M}" in page
    assert "PRN indicated" in page and "Chlordiazepoxide 25 mg" in page
    assert "First score due" in page and "Not scored yet" in page
    score_url = reverse("observations:withdrawal_score", args=[sam.public_id, "cows"])
    assert score_url in page


@pytest.mark.django_db
def test_a_score_below_the_trigger_indicates_no_prn(client, cast, facility, ward):
    robin, _, _ = ward
    score(cast["nurse"], robin, 5)
    client.force_login(cast["nurse"])
    page = client.get(reverse(BOARD)).content.decode()
    assert "PRN indicated" not in page
    assert "12 → 5" in page and 'aria-label="falling"' in page


@pytest.mark.django_db
def test_the_board_filters_by_unit_and_refuses_a_garbled_unit(client, cast, facility, ward):
    from facility.models import Unit

    client.force_login(cast["nurse"])
    west = Unit.objects.get(facility=facility, name="West")
    assert "Robin" not in client.get(reverse(BOARD), {"unit": west.public_id}).content.decode()
    assert client.get(reverse(BOARD), {"unit": "abc"}).status_code == 404


@pytest.mark.django_db
def test_who_may_see_the_board_and_score(client, cast, facility, ward):
    robin, _, _ = ward
    url = reverse(BOARD)
    assert client.get(url)["Location"].startswith(reverse("account_login"))
    client.force_login(cast["admin"])
    assert client.get(url).status_code == 403
    client.force_login(cast["technician"])
    page = client.get(url).content.decode()
    assert "Robin" in page and "Score CIWA-Ar" not in page
    client.force_login(cast["other_nurse"])
    assert "Robin" not in client.get(url).content.decode()
    score_url = reverse("observations:withdrawal_score", args=[robin.public_id, "ciwa_ar"])
    assert client.get(score_url).status_code == 404
    a = robin.scale_assessments.first()
    assert (
        client.get(reverse("observations:withdrawal_result", args=[a.public_id])).status_code == 404
    )
    client.force_login(cast["nurse"])
    assert client.get(score_url).status_code == 200


@pytest.mark.django_db
def test_the_board_query_count_does_not_grow_with_clients(client, cast, facility):
    nurse = cast["nurse"]
    verifier = _second_nurse(facility)
    unit = facility.units.order_by("name").first()
    for n in range(20):
        Bed.objects.create(unit=unit, label=f"X{n:02d}")

    def on_protocol(n):
        a = early(facility, nurse, n=n)
        start(nurse, a, at=timezone.now() - timedelta(hours=6))
        score(nurse, a, 4, at=timezone.now() - timedelta(hours=5))
        score(nurse, a, 12, at=timezone.now() - timedelta(minutes=5))
        triggered_prn(nurse, verifier, a, name=f"Chlordiazepoxide {n}")
        return a

    for n in range(3):
        on_protocol(n)
    client.force_login(nurse)
    client.get(reverse(BOARD))
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(BOARD)).status_code == 200
    for n in range(3, 20):
        on_protocol(n)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse(BOARD)).content.decode()
    assert page.count("PRN indicated") == 20
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


@pytest.mark.django_db
def test_the_rounds_board_row_shows_a_score_owed(client, cast, facility):
    nurse = cast["nurse"]
    a = early(facility, nurse, first="Robin", last="Ashdown")
    start(nurse, a, at=timezone.now() - timedelta(hours=3))
    score(nurse, a, 12, at=timezone.now() - timedelta(hours=2))
    client.force_login(nurse)
    page = client.get(reverse("observations:board", args=[a.unit.public_id])).content.decode()
    assert "CIWA-Ar overdue" in page
    assert reverse("observations:withdrawal_score", args=[a.public_id, "ciwa_ar"]) in page
    score(nurse, a, 3)
    page = client.get(reverse("observations:board", args=[a.unit.public_id])).content.decode()
    assert "CIWA-Ar overdue" not in page and "CIWA-Ar due" not in page
