"""Amendment requests (issue 16 item 9, ONC (d)(4)): a client's request to amend their record is
recorded, then decided once: accepted (the amendment is appended) or denied (the request and the
denial are appended). The record itself is never edited."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from clients.consents import amendment_decide, amendment_record, amendments_for
from clients.models import AmendmentRequest
from facility.models import AccessEvent

pytestmark = pytest.mark.django_db

REQUEST = {
    "category": "progress_notes",
    "record_description": "Progress note of 3 March",
    "requested_change": "The note says I refused group; I was at the dentist that afternoon.",
}


def a_request(cast, admission, who="clinician"):
    return amendment_record(actor=cast[who], client=admission.client, **REQUEST)


def test_a_request_is_recorded_as_received_now_by_the_user(client, cast, admission):
    client.force_login(cast["supervisor"])
    url = reverse("clients:amendment_new", args=[admission.client.public_id])
    response = client.post(url, REQUEST)
    assert response.status_code == 302
    assert response["Location"].endswith("#section-amendments")
    request = AmendmentRequest.objects.get()
    assert (request.received_by, request.status) == (cast["supervisor"], "pending")
    assert request.requested_change == REQUEST["requested_change"]


def test_accepted_appends_the_amendment(client, cast, admission):
    request = a_request(cast, admission)
    client.force_login(cast["clinician"])
    url = reverse("clients:amendment_decide", args=[request.public_id])
    assert client.post(url, {"decision": "accept", "text": ""}).status_code == 200
    request.refresh_from_db()
    assert request.status == "pending"  # the amendment text is required
    response = client.post(
        url, {"decision": "accept", "text": "Addendum: at the dentist 14:00-16:00."}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("accepted", cast["clinician"])
    assert amendments_for(admission.client) == [request]
    html = client.get(reverse("clients:chart", args=[admission.client.public_id])).content.decode()
    assert "Addendum: at the dentist 14:00-16:00." in html
    assert "Amendment appended by" in html


def test_denied_appends_the_request_and_the_denial(client, cast, admission):
    request = a_request(cast, admission)
    client.force_login(cast["supervisor"])
    url = reverse("clients:amendment_decide", args=[request.public_id])
    response = client.post(url, {"decision": "deny", "text": ""})
    assert response.context["form"].errors["text"]
    client.post(
        url, {"decision": "deny", "text": "The group attendance sheet shows the client present."}
    )
    request.refresh_from_db()
    assert request.status == "denied"
    html = client.get(reverse("clients:chart", args=[admission.client.public_id])).content.decode()
    assert REQUEST["requested_change"] in html.replace("&#x27;", "'")
    assert "The group attendance sheet shows the client present." in html
    assert AccessEvent.objects.filter(what="amendment request").exists()


def test_a_request_is_decided_once(cast, admission):
    request = a_request(cast, admission)
    amendment_decide(actor=cast["clinician"], amendment=request, decision="accept", text="Added.")
    with pytest.raises(ValidationError, match="already decided"):
        amendment_decide(actor=cast["supervisor"], amendment=request, decision="deny", text="No.")
    request.refresh_from_db()
    assert (request.status, request.decision_text) == ("accepted", "Added.")


def test_pending_requests_are_not_appended(cast, admission):
    a_request(cast, admission)
    assert amendments_for(admission.client) == []


@pytest.mark.parametrize("role", ["nurse", "technician", "admin"])
def test_only_clinicians_and_supervisors_record_and_decide(client, cast, admission, role):
    with pytest.raises(PermissionDenied):
        a_request(cast, admission, who=role)
    request = a_request(cast, admission)
    with pytest.raises(PermissionDenied):
        amendment_decide(actor=cast[role], amendment=request, decision="accept", text="x")
    client.force_login(cast[role])
    assert (
        client.post(
            reverse("clients:amendment_new", args=[admission.client.public_id]), REQUEST
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    "field, value",
    [
        ("record_description", ""),
        ("record_description", "Note\x00"),
        ("record_description", "r" * 10_000),
        ("requested_change", "Change \u202eit"),
        ("requested_change", "c" * 10_000),
    ],
)
def test_hostile_requests_are_refused_on_their_field(client, cast, admission, field, value):
    client.force_login(cast["clinician"])
    url = reverse("clients:amendment_new", args=[admission.client.public_id])
    response = client.post(url, {**REQUEST, field: value})
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not AmendmentRequest.objects.exists()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"decision": "maybe", "text": "x"}, "decision"),
        ({"decision": "accept", "text": "t\x00"}, "text"),
        ({"decision": "deny", "text": "t" * 10_000}, "text"),
    ],
)
def test_hostile_decisions_are_refused(client, cast, admission, data, field):
    request = a_request(cast, admission)
    client.force_login(cast["clinician"])
    response = client.post(reverse("clients:amendment_decide", args=[request.public_id]), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    request.refresh_from_db()
    assert request.status == "pending"


def test_another_facilitys_requests_are_not_found(client, cast, admission, other_admission):
    theirs = amendment_record(
        actor=cast["other_clinician"], client=other_admission.client, **REQUEST
    )
    client.force_login(cast["clinician"])
    url = reverse("clients:amendment_decide", args=[theirs.public_id])
    assert client.get(url).status_code == 404
    assert client.post(url, {"decision": "accept", "text": "x"}).status_code == 404
    new = reverse("clients:amendment_new", args=[other_admission.client.public_id])
    assert client.post(new, REQUEST).status_code == 404
    with pytest.raises(PermissionDenied):
        amendment_decide(actor=cast["clinician"], amendment=theirs, decision="accept", text="x")
    theirs.refresh_from_db()
    assert theirs.status == "pending"
    assert AmendmentRequest.objects.count() == 1
