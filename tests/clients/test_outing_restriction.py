"""A "no outings" restriction (issue 14 item 3): a nurse or clinician sets it with a reason and
lifts it with one; it shows on the chart with who, when and why, and refuses passes and outings
(never appointments or hospital visits) while in force."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from clients.models import Leave, OutingRestriction
from clients.services import (
    admission_discharge,
    leave_start,
    outing_restriction_lift,
    outing_restriction_set,
)
from facility.registry import registry
from tests.conftest import form_time

pytestmark = pytest.mark.django_db


def restrict(admission, user, reason="Court order: no community access"):
    return outing_restriction_set(actor=user, admission=admission, reason=reason)


def leave(admission, user, kind):
    now = timezone.now()
    return leave_start(
        actor=user, admission=admission, kind=kind, left_at=now,
        expected_back_at=now + timedelta(hours=2),
    )  # fmt: skip


@pytest.mark.parametrize("role", ["nurse", "clinician"])
def test_a_nurse_or_clinician_sets_it_with_a_reason(cast, admission, role):
    r = restrict(admission, cast[role], reason="  Court   order  ")
    assert (r.reason, r.set_by, r.lifted_at) == ("Court order", cast[role], None)


@pytest.mark.parametrize("role", ["technician", "supervisor", "admin"])
def test_other_roles_may_not_set_it(cast, admission, role):
    with pytest.raises(PermissionDenied):
        restrict(admission, cast[role])
    assert not OutingRestriction.objects.exists()


def test_staff_of_another_facility_may_not_set_it(cast, admission):
    with pytest.raises(PermissionDenied):
        restrict(admission, cast["other_nurse"])


@pytest.mark.parametrize(
    "reason, message",
    [
        ("", "Reason: say why"),
        ("   ", "Reason: say why"),
        ("x" * 301, "at most 300"),
        ("Court\x00order", "control characters"),
        ("Court\u202eorder", "control characters"),
    ],
)
def test_a_reason_is_required_and_hostile_text_refused(cast, admission, reason, message):
    with pytest.raises(ValidationError, match=message) as exc:
        restrict(admission, cast["nurse"], reason=reason)
    assert "reason" in exc.value.message_dict
    assert not OutingRestriction.objects.exists()


def test_one_in_force_at_a_time_and_lifting_keeps_the_history(cast, admission):
    first = restrict(admission, cast["nurse"], reason="Court order")
    with pytest.raises(ValidationError, match="Already restricted: no outings: Court order"):
        restrict(admission, cast["clinician"], reason="Again")
    with pytest.raises(ValidationError, match="Reason for lifting"):
        outing_restriction_lift(actor=cast["clinician"], admission=admission, reason=" ")
    lifted = outing_restriction_lift(
        actor=cast["clinician"], admission=admission, reason="Court order ended"
    )
    assert lifted.pk == first.pk and lifted.lifted_by == cast["clinician"]
    with pytest.raises(ValidationError, match="No outing restriction is in force"):
        outing_restriction_lift(actor=cast["nurse"], admission=admission, reason="Again")
    second = restrict(admission, cast["nurse"], reason="Relapse risk this week")
    assert OutingRestriction.objects.filter(admission=admission).count() == 2
    assert second.lifted_at is None


def test_only_an_open_stay_can_be_restricted(cast, admission):
    admission_discharge(
        actor=cast["nurse"], admission=admission, discharged_at=timezone.now(),
        discharge_type="completed",
    )  # fmt: skip
    with pytest.raises(ValidationError, match="discharged"):
        restrict(admission, cast["nurse"])


def test_the_leave_rule_is_registered():
    assert "outing_restriction" in registry.leave_rules


@pytest.mark.parametrize("kind", ["pass", "outing"])
def test_a_pass_or_outing_is_refused_naming_the_reason(cast, admission, kind):
    restrict(admission, cast["nurse"], reason="Court order")
    with pytest.raises(ValidationError) as exc:
        leave(admission, cast["technician"], kind)
    message = exc.value.message_dict["kind"][0]
    assert "restricted from passes and outings" in message and "Court order" in message
    assert not Leave.objects.filter(admission=admission).exists()


@pytest.mark.parametrize("kind", ["appointment", "hospital", "trip"])
def test_appointments_hospital_and_trips_are_never_blocked(cast, admission, kind):
    restrict(admission, cast["nurse"])
    assert leave(admission, cast["technician"], kind).kind == kind


def test_a_lifted_restriction_blocks_nothing(cast, admission):
    restrict(admission, cast["nurse"])
    outing_restriction_lift(actor=cast["nurse"], admission=admission, reason="Cleared by team")
    assert leave(admission, cast["technician"], "pass").kind == "pass"


def test_the_leave_form_shows_the_refusal_on_the_kind_field(client, cast, admission):
    restrict(admission, cast["nurse"], reason="Court order")
    client.force_login(cast["technician"])
    now = timezone.now()
    response = client.post(
        reverse("clients:leave_start", args=[admission.public_id]),
        {
            "kind": "outing", "left_at": form_time(now, admission.facility),
            "expected_back_at": form_time(now + timedelta(hours=2), admission.facility),
        },
    )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200
    assert escape("restricted from passes and outings") in page and "Court order" in page
    assert not Leave.objects.exists()


def test_the_chart_shows_it_prominently_with_who_when_why_and_history(client, cast, admission):
    restrict(admission, cast["nurse"], reason="Court order")
    outing_restriction_lift(actor=cast["clinician"], admission=admission, reason="Order ended")
    restrict(admission, cast["clinician"], reason="Relapse risk")
    client.force_login(cast["technician"])
    page = client.get(reverse("clients:chart", args=[admission.client.public_id])).content.decode()
    band = page.split('class="restriction-band"', 1)[1].split("</p>", 1)[0]
    assert "No outings" in band and "Relapse risk" in band and cast["clinician"].signature in band
    assert "Lifted restrictions" in page and "Order ended" in page
    # A technician sees it but has no form to lift it.
    assert reverse("clients:outing_restriction_lift", args=[admission.public_id]) not in page


def test_a_nurse_sets_and_lifts_it_from_the_chart(client, cast, admission):
    client.force_login(cast["nurse"])
    chart = reverse("clients:chart", args=[admission.client.public_id])
    set_url = reverse("clients:outing_restriction_set", args=[admission.public_id])
    assert set_url in client.get(chart).content.decode()
    response = client.post(set_url, {"reason": "Court order"})
    assert response.status_code == 302 and response["Location"] == chart
    page = client.get(chart).content.decode()
    lift_url = reverse("clients:outing_restriction_lift", args=[admission.public_id])
    assert lift_url in page and "restriction-band" in page
    refused = client.post(lift_url, {"lift_reason": ""})
    assert refused.status_code == 400
    assert "Reason for lifting: say why it is lifted." in refused.content.decode()
    assert client.post(lift_url, {"lift_reason": "Ended"}).status_code == 302
    assert "restriction-band" not in client.get(chart).content.decode()


@pytest.mark.parametrize(
    "reason, message",
    [("x" * 301, "at most 300"), ("A\x00B", "control characters"), ("A\u2066B", "control")],
)
def test_hostile_input_on_the_form_gets_a_field_message(client, cast, admission, reason, message):
    client.force_login(cast["clinician"])
    url = reverse("clients:outing_restriction_set", args=[admission.public_id])
    response = client.post(url, {"reason": reason})
    assert response.status_code == 400 and message in response.content.decode()
    assert not OutingRestriction.objects.exists()


def test_the_pages_are_scoped(client, cast, admission):
    url = reverse("clients:outing_restriction_set", args=[admission.public_id])
    assert client.get(url)["Location"].startswith(reverse("account_login"))
    client.force_login(cast["technician"])
    assert client.get(url).status_code == 403
    client.force_login(cast["other_nurse"])
    assert client.post(url, {"reason": "x"}).status_code == 404
    assert not OutingRestriction.objects.exists()
