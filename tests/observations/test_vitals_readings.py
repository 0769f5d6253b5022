"""The latest vitals as the MAR reads them, through facility.registry (issue 11 item 7): each
vital's own latest value and time, struck sets and later sets left out, one query for any number
of stays."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from facility.registry import Reading, readings
from observations.readings import latest_vitals
from tests.conftest import admit
from tests.observations.vitals_data import vitals_set


@pytest.mark.django_db
def test_each_vital_has_its_own_latest_value_and_time(cast, facility, admission):
    nurse = cast["nurse"]
    now = timezone.now()
    early = now - timedelta(hours=3)
    bp_set = vitals_set(admission, early, nurse, sbp=88, dbp=55, hr=60)
    # A later set without BP must not hide the earlier BP.
    later = vitals_set(admission, now - timedelta(hours=1), nurse, sbp=None, dbp=None, hr=58,
                       temp_c="37.9", spo2=None)  # fmt: skip
    found = latest_vitals([admission.pk], at=now)[admission.pk]
    assert found["sbp"] == Reading("sbp", 88, bp_set.taken_at, bp_set.public_id)
    assert found["dbp"].value == 55 and found["dbp"].taken_at == early
    assert found["hr"] == Reading("hr", 58, later.taken_at, later.public_id)
    assert found["temp_c"].value == Decimal("37.9")
    assert found["spo2"].value == 98 and found["spo2"].taken_at == early
    assert found["rr"].taken_at == later.taken_at
    assert set(found) == {"sbp", "dbp", "hr", "rr", "temp_c", "spo2"}


@pytest.mark.django_db
def test_struck_sets_and_sets_after_the_moment_do_not_count(cast, facility, admission):
    nurse = cast["nurse"]
    now = timezone.now()
    vitals_set(admission, now - timedelta(hours=4), nurse, sbp=130, dbp=80)
    vitals_set(admission, now - timedelta(hours=2), nurse, sbp=85, dbp=50, struck_reason="Wrong")
    vitals_set(admission, now - timedelta(minutes=10), nurse, sbp=100, dbp=60)
    at = now - timedelta(hours=1)
    assert latest_vitals([admission.pk], at=at)[admission.pk]["sbp"].value == 130
    assert latest_vitals([admission.pk], at=now)[admission.pk]["sbp"].value == 100
    # Exactly at `at` counts ("at or before").
    assert (
        latest_vitals([admission.pk], at=now - timedelta(hours=4))[admission.pk]["sbp"].value == 130
    )
    assert latest_vitals([admission.pk], at=now - timedelta(hours=5)) == {}


@pytest.mark.django_db
def test_through_the_registry_in_one_query_for_any_number_of_stays(cast, facility):
    from observations.services.vitals import vitals_record

    nurse = cast["nurse"]
    now = timezone.now()
    stays = [admit(facility, nurse, n=i) for i in range(6)]
    for i, stay in enumerate(stays[:5]):
        vitals_set(stay, now - timedelta(hours=2), nurse, hr=60 + i)
        vitals_set(stay, now - timedelta(hours=1), nurse, sbp=None, dbp=None, hr=70 + i)
    # One set through the recording service.
    recorded = vitals_record(actor=nurse, admission=stays[0], taken_at=now, now=now,
                             values={"sbp": 89, "dbp": 50})  # fmt: skip
    with CaptureQueriesContext(connection) as one:
        latest_vitals([stays[0].pk], at=now)
    with CaptureQueriesContext(connection) as six:
        latest_vitals([s.pk for s in stays], at=now)
    assert len(one) == len(six) == 1
    # Through the registry (other sources, e.g. withdrawal scores, add their own fixed queries).
    with CaptureQueriesContext(connection) as one_all:
        readings([stays[0].pk], at=now)
    with CaptureQueriesContext(connection) as six_all:
        got = readings([s.pk for s in stays], at=now)
    assert len(one_all) == len(six_all)
    assert got[stays[0].pk]["sbp"] == Reading("sbp", 89, recorded.taken_at, recorded.public_id)
    assert got[stays[0].pk]["hr"].value == 70
    assert got[stays[4].pk]["hr"].value == 74
    assert got[stays[4].pk]["sbp"].value == 120  # from the earlier set
    assert "hr" not in got.get(stays[5].pk, {})  # no vitals: nothing made up
    assert latest_vitals([], at=now) == {}


@pytest.mark.django_db
def test_another_facility_stay_is_only_what_is_asked_for(
    cast, facility, admission, other_admission
):
    """The source answers for the ids it is given (the caller has scoped them)."""
    now = timezone.now()
    vitals_set(admission, now - timedelta(minutes=30), cast["nurse"], hr=66)
    vitals_set(other_admission, now - timedelta(minutes=30), cast["other_nurse"], hr=99)
    got = latest_vitals([admission.pk], at=now)
    assert list(got) == [admission.pk]
    assert got[admission.pk]["hr"].value == 66
