"""Admit, readmit, move bed, discharge, leaves: the census stays true under bad input and races."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import close_old_connections
from django.urls import reverse
from django.utils import timezone

from clients.models import Admission, BedMove, Client, Leave
from clients.services import (
    admission_admit,
    admission_discharge,
    admission_move_bed,
    leave_return,
    leave_start,
    leaves_overlapping,
)
from facility.models import Bed
from tests.conftest import admit, form_time


def admit_form(facility, bed, **overrides):
    data = {
        "legal_first_name": "Morgan",
        "legal_last_name": "Tillbury",
        "preferred_name": "Mo",
        "date_of_birth": "1988-04-12",
        "sex": "X",
        "pronouns": "they/them",
        "allergy_status": "listed",
        "allergen_1": "Sulfa drugs",
        "kind_1": "drug",
        "bed": bed.pk,
        "level_of_care": "3.7-WM",
        "admitted_at": form_time(timezone.now() - timedelta(minutes=5), facility),
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_nurse_admits_a_new_client_who_gets_an_mrn_and_a_bed(client, cast, facility):
    bed = Bed.objects.filter(unit__facility=facility).first()
    client.force_login(cast["nurse"])
    response = client.post(reverse("clients:admit"), admit_form(facility, bed))
    assert response.status_code == 302
    person = Client.objects.get(legal_last_name="Tillbury")
    assert person.mrn.startswith("H")
    stay = person.admissions.get()
    assert stay.bed == bed and stay.unit == bed.unit and stay.discharged_at is None
    assert stay.admitted_by == cast["nurse"]
    assert BedMove.objects.filter(admission=stay, from_bed=None, to_bed=bed).exists()
    chart = client.get(response["Location"]).content.decode()
    assert "Mo Tillbury" in chart and person.mrn in chart and "Sulfa drugs" in chart


@pytest.mark.django_db
def test_mrns_are_unique_and_sequential_per_facility(cast, facility):
    first = admit(facility, cast["nurse"], n=1).client.mrn
    second = admit(facility, cast["nurse"], n=2).client.mrn
    assert first != second
    assert int(second.split("-")[1]) == int(first.split("-")[1]) + 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value, message",
    [
        ("date_of_birth", "2999-01-01", "Date of birth: cannot be in the future."),
        ("date_of_birth", "1850-01-01", "Date of birth: must be 1900 or later."),
        ("legal_last_name", "", "Legal last name: required."),
        ("level_of_care", "", "Level of care: choose one."),
        ("admitted_at", "not a time", "Admitted at: enter a valid date and time."),
    ],
)
def test_impossible_admission_input_is_refused_with_the_field_named(
    client, cast, facility, field, value, message
):
    bed = Bed.objects.filter(unit__facility=facility).first()
    client.force_login(cast["nurse"])
    response = client.post(reverse("clients:admit"), admit_form(facility, bed, **{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Client.objects.count() == 0
    assert Admission.objects.count() == 0


@pytest.mark.django_db
def test_admission_in_the_future_is_refused_and_nothing_is_saved(client, cast, facility):
    bed = Bed.objects.filter(unit__facility=facility).first()
    client.force_login(cast["nurse"])
    later = form_time(timezone.now() + timedelta(hours=3), facility)
    response = client.post(reverse("clients:admit"), admit_form(facility, bed, admitted_at=later))
    assert "This time is in the future." in response.content.decode()
    assert Client.objects.count() == 0


@pytest.mark.django_db
def test_an_occupied_bed_cannot_take_a_second_client(client, cast, facility, admission):
    client.force_login(cast["nurse"])
    response = client.post(reverse("clients:admit"), admit_form(facility, admission.bed))
    assert "Bed: that bed is not free in this facility." in response.content.decode()
    with pytest.raises(ValidationError, match="occupied"):
        admit(facility, cast["nurse"], bed=admission.bed, n=7)
    assert Admission.objects.filter(bed=admission.bed).count() == 1
    assert Client.objects.count() == 1


@pytest.mark.django_db
def test_a_bed_of_another_facility_is_refused(client, cast, facility, other_facility):
    foreign_bed = Bed.objects.filter(unit__facility=other_facility).first()
    client.force_login(cast["nurse"])
    response = client.post(reverse("clients:admit"), admit_form(facility, foreign_bed))
    assert "Bed: that bed is not free in this facility." in response.content.decode()
    assert Client.objects.count() == 0


@pytest.mark.django_db
def test_a_known_person_is_offered_for_readmission_not_duplicated(client, cast, facility):
    old = admit(facility, cast["nurse"], first="Morgan", last="Tillbury", dob=date(1988, 4, 12))
    admission_discharge(
        actor=cast["nurse"],
        admission=old,
        discharged_at=timezone.now(),
        discharge_type="completed",
    )
    bed = Bed.objects.filter(unit__facility=facility).exclude(pk=old.bed_id).first()
    client.force_login(cast["nurse"])
    response = client.post(reverse("clients:admit"), admit_form(facility, bed))
    body = response.content.decode()
    assert "Possible match already on file" in body
    assert old.client.mrn in body
    assert Client.objects.count() == 1
    # Readmitting keeps the one record and the MRN.
    response = client.post(
        reverse("clients:readmit", args=[old.client.public_id]),
        {
            "bed": bed.pk,
            "level_of_care": "3.5",
            "admitted_at": form_time(timezone.now(), facility),
        },
    )
    assert response.status_code == 302
    assert Client.objects.count() == 1
    assert old.client.admissions.count() == 2
    assert old.client.admissions.current().get().bed == bed


@pytest.mark.django_db
def test_a_different_person_with_the_same_birthday_can_be_admitted_after_confirming(
    client, cast, facility
):
    admit(facility, cast["nurse"], first="Morgan", last="Tillbury", dob=date(1988, 4, 12))
    bed = Bed.objects.filter(unit__facility=facility, admissions__isnull=True).first()
    client.force_login(cast["nurse"])
    data = admit_form(facility, bed, legal_first_name="Morgana", confirm_new_person="on")
    assert client.post(reverse("clients:admit"), data).status_code == 302
    assert Client.objects.filter(legal_last_name="Tillbury").count() == 2


@pytest.mark.django_db
def test_readmitting_someone_already_admitted_is_refused(cast, facility, admission):
    bed = Bed.objects.filter(unit__facility=facility).exclude(pk=admission.bed_id).first()
    with pytest.raises(ValidationError, match="already admitted"):
        admission_admit(
            actor=cast["nurse"],
            facility=facility,
            unit=bed.unit,
            bed=bed,
            level_of_care="3.5",
            admitted_at=timezone.now(),
            client=admission.client,
        )


@pytest.mark.django_db(transaction=True)
def test_two_nurses_admitting_to_one_bed_at_once_yield_one_occupant(cast, facility):
    """Both pass the form's free-bed check; the database lets exactly one through."""
    bed = Bed.objects.filter(unit__facility=facility).first()
    barrier = threading.Barrier(2)
    outcomes = []

    def nurse(n):
        try:
            barrier.wait()
            admit(facility, cast["nurse"], bed=bed, n=n)
            outcomes.append("admitted")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=nurse, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("admitted") == 1
    refused = next(o for o in outcomes if o != "admitted")
    assert "occupied" in refused or "just taken" in refused
    assert Admission.objects.filter(bed=bed, discharged_at__isnull=True).count() == 1
    # The loser's client row was rolled back with their admission: nothing half-saved.
    assert Client.objects.count() == 1


@pytest.mark.django_db
def test_discharge_frees_the_bed_and_closes_the_stay(client, cast, facility, admission):
    client.force_login(cast["nurse"])
    response = client.post(
        reverse("clients:discharge", args=[admission.public_id]),
        {"discharged_at": form_time(timezone.now(), facility), "discharge_type": "completed"},
    )
    assert response.status_code == 302
    admission.refresh_from_db()
    assert admission.discharged_at is not None and admission.discharged_by == cast["nurse"]
    census = client.get(reverse("clients:census")).content.decode()
    assert "Robin A." not in census
    assert "0 of 12 beds occupied" in census.replace("<strong>", "").replace("</strong>", "")
    # The freed bed takes the next client.
    assert admit(facility, cast["nurse"], bed=admission.bed, n=3).bed == admission.bed


@pytest.mark.django_db
def test_discharge_before_admission_is_refused(client, cast, facility, admission):
    client.force_login(cast["nurse"])
    before = form_time(admission.admitted_at - timedelta(days=1), facility)
    response = client.post(
        reverse("clients:discharge", args=[admission.public_id]),
        {"discharged_at": before, "discharge_type": "completed"},
    )
    assert "Discharge must be after the admission time." in response.content.decode()
    admission.refresh_from_db()
    assert admission.discharged_at is None


@pytest.mark.django_db
def test_discharging_twice_is_refused(cast, admission):
    admission_discharge(
        actor=cast["nurse"], admission=admission, discharged_at=timezone.now(), discharge_type="ama"
    )
    with pytest.raises(ValidationError, match="already been discharged"):
        admission_discharge(
            actor=cast["nurse"],
            admission=admission,
            discharged_at=timezone.now(),
            discharge_type="ama",
        )


@pytest.mark.django_db
def test_bed_move_keeps_history(client, cast, facility, admission):
    target = Bed.objects.filter(unit__facility=facility, unit__name="West").first()
    client.force_login(cast["supervisor"])
    response = client.post(
        reverse("clients:move_bed", args=[admission.public_id]),
        {"bed": target.pk, "moved_at": form_time(timezone.now(), facility), "reason": "Quieter"},
    )
    assert response.status_code == 302
    admission.refresh_from_db()
    assert admission.bed == target and admission.unit == target.unit
    moves = list(admission.bed_moves.order_by("moved_at", "id"))
    assert [m.to_bed for m in moves][-1] == target
    assert moves[-1].from_bed is not None and moves[-1].reason == "Quieter"


@pytest.mark.django_db
def test_moving_into_an_occupied_bed_is_refused(cast, facility, admission):
    other = admit(facility, cast["nurse"], n=5)
    with pytest.raises(ValidationError, match="occupied"):
        admission_move_bed(
            actor=cast["nurse"], admission=other, bed=admission.bed, moved_at=timezone.now()
        )
    other.refresh_from_db()
    assert other.bed != admission.bed


@pytest.mark.django_db
def test_leave_shows_on_census_and_return_closes_it(client, cast, facility, admission):
    now = timezone.now()
    leave = leave_start(
        actor=cast["technician"],
        admission=admission,
        kind="appointment",
        left_at=now - timedelta(minutes=30),
        expected_back_at=now + timedelta(hours=1),
        destination="Dentist",
        backdate_reason="Entered after the van left",
    )
    client.force_login(cast["technician"])
    census = client.get(reverse("clients:census")).content.decode()
    assert "Off site: Appointment" in census
    with pytest.raises(ValidationError, match="already off site"):
        leave_start(
            actor=cast["technician"],
            admission=admission,
            kind="pass",
            left_at=now,
            expected_back_at=now + timedelta(hours=1),
        )
    leave_return(actor=cast["technician"], leave=leave, returned_at=now)
    assert "Off site" not in client.get(reverse("clients:census")).content.decode()
    window = leaves_overlapping([admission.pk], start=now - timedelta(hours=1), end=now)
    assert list(window) == [leave]


@pytest.mark.django_db
def test_leave_back_before_it_left_is_refused(client, cast, facility, admission):
    client.force_login(cast["technician"])
    now = timezone.now()
    response = client.post(
        reverse("clients:leave_start", args=[admission.public_id]),
        {
            "kind": "pass",
            "left_at": form_time(now, facility),
            "expected_back_at": form_time(now - timedelta(hours=1), facility),
        },
    )
    assert "Expected back: must be after the time left." in response.content.decode()
    assert Leave.objects.count() == 0


@pytest.mark.django_db
def test_an_unknown_kind_of_leave_is_named_in_the_message(client, cast, facility, admission):
    client.force_login(cast["technician"])
    now = timezone.now()
    response = client.post(
        reverse("clients:leave_start", args=[admission.public_id]),
        {
            "kind": "holiday",
            "left_at": form_time(now, facility),
            "expected_back_at": form_time(now + timedelta(hours=1), facility),
        },
    )
    page = response.content.decode()
    assert "Kind of leave: choose one of the list" in page
    assert "Select a valid choice" not in page
    assert Leave.objects.count() == 0


@pytest.mark.django_db
def test_discharge_closes_an_open_leave(cast, admission):
    now = timezone.now()
    leave = leave_start(
        actor=cast["nurse"],
        admission=admission,
        kind="hospital",
        left_at=now - timedelta(minutes=20),
        expected_back_at=now + timedelta(days=1),
        backdate_reason="Ambulance first, charting after",
    )
    admission_discharge(
        actor=cast["nurse"], admission=admission, discharged_at=now, discharge_type="hospital"
    )
    leave.refresh_from_db()
    assert leave.returned_at == now


@pytest.mark.django_db
def test_unknown_ids_in_urls_are_404(client, cast):
    import uuid

    client.force_login(cast["nurse"])
    for name in ("clients:chart", "clients:readmit"):
        assert client.get(reverse(name, args=[uuid.uuid4()])).status_code == 404
    assert client.get(reverse("clients:discharge", args=[uuid.uuid4()])).status_code == 404
    assert client.get(reverse("clients:census"), {"unit": str(uuid.uuid4())}).status_code == 404
    assert client.get("/clients/not-a-uuid/").status_code == 404


@pytest.mark.django_db
def test_technician_posting_to_an_admin_url_is_refused(client, cast):
    client.force_login(cast["technician"])
    response = client.post(
        reverse("staff_create"),
        {
            "username": "sneaky",
            "full_name": "S",
            "email": "s@x.test",
            "initials": "SS",
            "role": "admin",
        },
    )
    assert response.status_code == 403
    from facility.models import User

    assert not User.objects.filter(username="sneaky").exists()


@pytest.mark.django_db
def test_a_birth_date_after_today_on_the_facilitys_calendar_is_refused_when_utc_is_a_day_on(
    cast, facility
):
    # 22:00 on May 11 in New York is already May 12 in UTC: May 12 is still tomorrow here.
    with time_machine.travel(datetime(2026, 5, 12, 2, 0, tzinfo=UTC), tick=False):
        with pytest.raises(ValidationError, match="Date of birth cannot be in the future"):
            admit(facility, cast["nurse"], dob=date(2026, 5, 12))
        assert admit(facility, cast["nurse"], dob=date(2026, 5, 11)).client.date_of_birth == date(
            2026, 5, 11
        )
