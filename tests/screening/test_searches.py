"""Belongings searches (issue 13 item 7; specs/screening.md, "Belongings searches"): a witness
who is another staff member, items and contraband, dispositions with who and when (each change
an ItemMovement), medications and sharps to the nurse, medications brought in listed for the
MAR, "UDS + search" on return from a pass, and discharge refused while property is held unless
settled on the discharge form or a supervisor overrides with a reason."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from clients.models import Admission
from facility.models import Alert
from screening.models import BelongingsSearch, ItemMovement, SearchItem, Specimen
from tests.conftest import admit, form_time
from tests.screening.result_helpers import back_from_pass


def page(response) -> str:
    return response.content.decode()


def search_url(admission, **query):
    base = reverse("screening:search_record", args=[admission.public_id])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def search_body(cast, *, reason="admission", witness="nurse", items=(), **extra) -> dict:
    data = {"reason": reason, "reason_detail": "", "leave": "", "searched_at": "",
            "witness": str(cast[witness].pk) if witness else "", "client_present": "yes",
            "remarks": "", "rows": "4"}  # fmt: skip
    for n, item in enumerate(items, start=1):
        for key, value in item.items():
            data[f"item-{n}-{key}"] = value
    data.update(extra)
    return data


BAGGIE = {"category": "drugs", "description": "White powder in a baggie", "quantity": "1",
          "contraband": "on", "disposition": "stored", "location": "Property room safe",
          "bag_id": "B-1001"}  # fmt: skip
SHIRTS = {"category": "clothing", "description": "T-shirts", "quantity": "4", "disposition": "kept"}
SERTRALINE = {"category": "medication", "description": "Sertraline 50 mg, bottle of 30",
              "quantity": "1", "disposition": "to_nurse"}  # fmt: skip


def discharge_body(admission, **extra) -> dict:
    data = {"discharged_at": form_time(timezone.now(), admission.facility),
            "discharge_type": "completed", "note": ""}  # fmt: skip
    data.update(extra)
    return data


# ---------------------------------------------------------------- the journey of issue 13


@pytest.mark.django_db
def test_a_return_from_pass_search_finds_contraband_and_discharge_waits_until_it_is_disposed_of(
    client, cast, facility, admission
):
    tech, nurse = cast["technician"], cast["nurse"]
    leave = back_from_pass(nurse, admission)
    chart = reverse("clients:chart", args=[admission.client.public_id])
    # The chart offers "UDS + search" for the pass the client is back from.
    client.force_login(tech)
    flow = reverse("screening:pass_return", args=[leave.public_id])
    assert f'href="{flow}"' in page(client.get(chart))
    assert "UDS + search" in page(client.get(flow))
    response = client.post(flow)
    # One tap: the UDS is ordered for this pass and the search form opens for it.
    specimen = Specimen.objects.get(admission=admission)
    assert (specimen.reason, specimen.leave, specimen.status) == (
        "return_from_pass",
        leave,
        "ordered",
    )
    assert response["Location"] == search_url(admission, reason="return_from_pass",
                                               leave=leave.public_id)  # fmt: skip
    form = page(client.get(response["Location"]))
    assert 'value="return_from_pass" id="id_reason_1" required checked' in form
    assert f'<option value="{leave.public_id}" selected>' in form

    response = client.post(
        search_url(admission),
        search_body(cast, reason="return_from_pass", leave=str(leave.public_id),
                    items=[BAGGIE, SHIRTS]),
    )  # fmt: skip
    assert response.status_code == 302, page(response)
    search = BelongingsSearch.objects.get()
    assert (search.leave, search.searched_by, search.witness) == (leave, tech, nurse)
    assert search.contraband_found is True
    baggie = search.items.get(contraband=True)
    assert (baggie.disposition, baggie.location, baggie.bag_id) == (
        "stored",
        "Property room safe",
        "B-1001",
    )
    assert baggie.movements.get().location == "Property room safe · bag B-1001"
    alert = Alert.objects.get(kind="search_finding")
    assert alert.audience == "nurse" and "contraband found: 1 × White powder" in alert.message
    assert "Held property: 1 item" in page(client.get(chart))

    # The nurse discharges: refused while the baggie is held, naming it.
    client.force_login(nurse)
    url = reverse("clients:discharge", args=[admission.public_id])
    assert "Property: 1 × White powder in a baggie (stored" in page(client.get(url))
    response = client.post(url, discharge_body(admission))
    assert escape(
        "Property: 1 × White powder in a baggie (stored, Property room safe · bag B-1001) is "
        "still held. Return it to the client, dispose of it, or a supervisor overrides"
    ) in page(response)
    admission.refresh_from_db()
    assert admission.discharged_at is None
    # Destroyed needs a witness who is another staff member.
    field = f"property-{baggie.public_id}"
    response = client.post(url, discharge_body(admission, **{field: "destroyed"}))
    assert "destruction is witnessed by another staff member" in page(response)
    assert Admission.objects.get(pk=admission.pk).discharged_at is None
    response = client.post(
        url, discharge_body(admission, **{field: "destroyed", "property_witness": str(tech.pk)})
    )
    assert response.status_code == 302, page(response)
    admission.refresh_from_db()
    assert admission.discharged_at is not None
    baggie.refresh_from_db()
    assert (baggie.disposition, baggie.disposed_by, baggie.witness) == ("destroyed", nurse, tech)
    moves = list(baggie.movements.order_by("pk").values_list("disposition", "by", "witness"))
    assert moves == [("stored", tech.pk, None), ("destroyed", nurse.pk, tech.pk)]


@pytest.mark.django_db
def test_property_returned_at_discharge_needs_the_clients_signature(
    client, cast, facility, admission
):
    client.force_login(cast["technician"])
    phone = {"category": "electronics", "description": "Phone", "disposition": "stored",
             "location": "Locker 4", "bag_id": "B-77"}  # fmt: skip
    client.post(search_url(admission), search_body(cast, items=[phone, SERTRALINE]))
    phone_item, meds = SearchItem.objects.order_by("pk")
    client.force_login(cast["nurse"])
    url = reverse("clients:discharge", args=[admission.public_id])
    answers = {f"property-{phone_item.public_id}": "returned_to_client",
               f"property-{meds.public_id}": "sent_at_discharge"}  # fmt: skip
    response = client.post(url, discharge_body(admission, **answers))
    assert escape("Client's signature: the client signs for the property returned") in page(
        response
    )
    response = client.post(
        url, discharge_body(admission, **answers, property_client_signature="Robin Ashdown")
    )
    assert response.status_code == 302
    last = ItemMovement.objects.filter(item=phone_item).latest("pk")
    assert (last.disposition, last.client_signature) == ("returned_to_client", "Robin Ashdown")
    assert SearchItem.objects.get(pk=meds.pk).disposition == "sent_at_discharge"


@pytest.mark.django_db
def test_only_a_supervisor_overrides_unsettled_property_and_says_why(
    client, cast, facility, admission
):
    client.force_login(cast["technician"])
    client.post(search_url(admission), search_body(cast, items=[BAGGIE]))
    baggie = SearchItem.objects.get()
    url = reverse("clients:discharge", args=[admission.public_id])
    reason = "Left AMA; the bag goes to the police on Friday."
    client.force_login(cast["nurse"])
    response = client.post(url, discharge_body(admission, property_override_reason=reason))
    assert "only a supervisor can discharge with property unsettled" in page(response)
    assert Admission.objects.get(pk=admission.pk).discharged_at is None
    client.force_login(cast["supervisor"])
    response = client.post(url, discharge_body(admission, property_override_reason=reason))
    assert response.status_code == 302
    baggie.refresh_from_db()
    assert baggie.disposition == "stored"  # still in the safe
    override = baggie.movements.latest("pk")
    assert (override.by, override.override_reason) == (cast["supervisor"], reason)
    # Property outlives the stay: the police hand-over is recorded after discharge.
    client.force_login(cast["nurse"])
    move = reverse("screening:item_move", args=[baggie.public_id])
    assert client.post(move, {"disposition": "law_enforcement", "at": ""}).status_code == 302
    assert SearchItem.objects.get(pk=baggie.pk).disposition == "law_enforcement"


# ---------------------------------------------------------------- the search's rules


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"witness": ""}, "witness", "Witness: a second staff member witnesses the search."),
        ({"witness": "technician"}, "witness", "Witness: choose a staff member"),
        ({"reason": "as_needed"}, "reason_detail", "Why: say why the search was needed."),
        ({"reason": "return_from_pass"}, "leave", "Pass: choose the leave"),
        ({"client_present": ""}, "client_present", "Client present: say whether"),
    ],
)
def test_the_search_itself_is_refused_with_its_field_named(
    client, cast, facility, admission, changes, field, message
):
    client.force_login(cast["technician"])
    data = search_body(cast, items=[SHIRTS])
    data.update({k: (str(cast[v].pk) if k == "witness" and v else v) for k, v in changes.items()})
    response = client.post(search_url(admission), data)
    assert response.status_code == 400
    assert escape(message) in page(response)
    assert not BelongingsSearch.objects.exists() and not SearchItem.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "item, message",
    [
        ({**SERTRALINE, "disposition": "kept"}, "medications and sharps go to the nurse"),
        ({"category": "sharps", "description": "Razor", "disposition": "kept"},
         "medications and sharps go to the nurse"),
        ({**BAGGIE, "disposition": "kept"}, "contraband cannot stay with the client"),
        ({**BAGGIE, "location": ""}, "stored where? Enter the location."),
        ({**BAGGIE, "bag_id": ""}, "enter the sealed bag&#x27;s ID."),
        ({**BAGGIE, "disposition": "destroyed"}, "destruction is witnessed by another staff"),
        ({**SHIRTS, "disposition": ""}, "choose what became of it"),
        ({**SHIRTS, "category": ""}, "Item 2: choose a category."),
    ],
)  # fmt: skip
def test_each_item_is_refused_on_its_own_row(client, cast, facility, admission, item, message):
    client.force_login(cast["technician"])
    data = search_body(cast, items=[SHIRTS, item])
    response = client.post(search_url(admission), data)
    assert response.status_code == 400
    assert message in page(response)
    assert 'id="id_item-2-' in page(response)
    assert not SearchItem.objects.exists()


@pytest.mark.django_db
def test_more_item_lines_keep_what_was_typed_and_save_nothing(client, cast, facility, admission):
    client.force_login(cast["technician"])
    data = search_body(cast, items=[SHIRTS], more="1")
    response = client.post(search_url(admission), data)
    assert response.status_code == 200
    assert 'name="item-7-description"' in page(response) and "T-shirts" in page(response)
    assert not BelongingsSearch.objects.exists()


@pytest.mark.django_db
def test_medications_brought_in_go_to_the_nurses_list_for_the_mar(
    client, cast, facility, admission, django_assert_max_num_queries
):
    client.force_login(cast["technician"])
    client.post(search_url(admission), search_body(cast, items=[SERTRALINE]))
    alert = Alert.objects.get(kind="search_finding")
    assert "medication brought in, with the nurse to log for the MAR" in alert.message
    other = admit(facility, cast["nurse"], n=4)
    client.post(search_url(other), search_body(cast, items=[SERTRALINE, SERTRALINE]))
    client.force_login(cast["nurse"])
    url = reverse("screening:meds_brought_in")
    with django_assert_max_num_queries(12):
        text = page(client.get(url))
    assert text.count("Sertraline 50 mg, bottle of 30") == 3
    # Once the nurse stores it in the medication room it stays listed (still held) until it
    # is returned, destroyed or sent; moving it records who and when.
    item = SearchItem.objects.filter(search__admission=admission).get()
    response = client.post(
        reverse("screening:item_move", args=[item.public_id]),
        {"disposition": "returned_to_family", "at": ""},
    )
    assert response.status_code == 302
    assert page(client.get(url)).count('<td data-label="Medication">') == 2
    assert list(item.movements.values_list("disposition", flat=True).order_by("pk")) == [
        "to_nurse", "returned_to_family"
    ]  # fmt: skip


@pytest.mark.django_db
def test_a_settled_item_does_not_move_again_and_movements_are_append_only(
    client, cast, facility, admission
):
    client.force_login(cast["technician"])
    client.post(search_url(admission), search_body(cast, items=[BAGGIE]))
    item = SearchItem.objects.get()
    move = reverse("screening:item_move", args=[item.public_id])
    response = client.post(move, {"disposition": "destroyed", "witness": str(cast["nurse"].pk)})
    assert response.status_code == 302
    response = client.post(move, {"disposition": "stored", "location": "Safe", "bag_id": "B-2"})
    assert response.status_code == 400
    assert "This item is settled; it cannot move again." in page(response)
    assert SearchItem.objects.get(pk=item.pk).disposition == "destroyed"
    with pytest.raises(IntegrityError), transaction.atomic():
        ItemMovement.objects.filter(item=item).update(disposition="kept")


@pytest.mark.django_db
def test_a_discharged_clients_stay_is_not_searched_and_strangers_get_404(
    client, cast, facility, admission
):
    client.force_login(cast["other_technician"])
    assert client.get(search_url(admission)).status_code == 404
    client.force_login(cast["clinician"])
    assert client.get(search_url(admission)).status_code == 403
    from clients.services import admission_discharge

    admission_discharge(actor=cast["nurse"], admission=admission,
                        discharged_at=timezone.now() - timedelta(minutes=1),
                        discharge_type="completed")  # fmt: skip
    client.force_login(cast["technician"])
    response = client.post(search_url(admission), search_body(cast, items=[SHIRTS]))
    assert "This client has been discharged." in page(response)
    assert not BelongingsSearch.objects.exists()
