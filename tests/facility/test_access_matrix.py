"""Every URL of the project × anonymous, every role, and a user of another facility.

The expectation table below is the access policy in one place. A URL pattern without an entry
fails `test_every_url_has_an_expectation`, so a new page cannot ship unchecked.
"""

from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from facility.models import Alert
from facility.services import alert_raise
from tests.conftest import ROLES

ANY_STAFF = {"technician", "nurse", "clinician", "supervisor", "admin"}
CENSUS = {"technician", "nurse", "clinician", "supervisor"}
FLOOR = {"technician", "nurse", "supervisor"}
ADMITTERS = {"nurse", "supervisor"}
MAR = {"technician", "nurse", "clinician", "supervisor"}


@dataclass(frozen=True)
class Rule:
    method: str  # GET or POST
    allowed: set[str]  # roles that may use it in their own facility
    scoped: bool  # the URL names an object of one facility: other facilities get 404
    ok: tuple[int, ...] = (200,)


# Project URLs (not allauth's own pages, checked below by prefix).
TABLE: dict[str, Rule] = {
    "home": Rule("GET", ANY_STAFF, False, (302,)),
    "ping": Rule("GET", ANY_STAFF, False),
    "facility_switch": Rule("POST", ANY_STAFF, False, (404,)),  # no facility posted → 404
    "alerts": Rule("GET", {"nurse", "supervisor"}, False),
    "alert_resolve": Rule("POST", {"supervisor"}, True, (302,)),
    "audit_trail": Rule("GET", {"nurse", "supervisor"}, False),
    "staff_list": Rule("GET", {"admin"}, False),
    "staff_create": Rule("GET", {"admin"}, False),
    "staff_edit": Rule("GET", {"admin"}, True),
    "staff_deactivate": Rule("POST", {"admin"}, True, (302,)),
    "staff_reactivate": Rule("POST", {"admin"}, True, (302,)),
    "staff_reset_mfa": Rule("POST", {"admin"}, True, (302,)),
    "clients:census": Rule("GET", CENSUS, False),
    "clients:census_pdf": Rule("GET", CENSUS, False),
    "clients:admit": Rule("GET", ADMITTERS, False),
    "clients:chart": Rule("GET", CENSUS, True),
    "clients:photo": Rule("GET", CENSUS, True, (404,)),  # no photo on file → 404 for all
    "clients:readmit": Rule("GET", ADMITTERS, True),
    "clients:move_bed": Rule("GET", ADMITTERS, True),
    "clients:discharge": Rule("GET", ADMITTERS, True),
    "clients:leave_start": Rule("GET", FLOOR, True),
    "clients:orientation_tick": Rule("POST", FLOOR, True, (302,)),
    "clients:leave_return": Rule("GET", FLOOR, True),
    "observations:rounds": Rule("GET", CENSUS, False, (302,)),
    "observations:board": Rule("GET", CENSUS, True),
    "observations:board_status": Rule("GET", CENSUS, True),
    "observations:level_change": Rule("GET", {"nurse", "clinician"}, True),
    "observations:observer_assign": Rule("POST", FLOOR, True, (302,)),
    "observations:level_confirm": Rule("POST", {"clinician"}, True, (302,)),
    "observations:compliance": Rule("GET", {"nurse", "supervisor"}, False),
    "observations:security": Rule("GET", FLOOR, False),
    "medications:mar": Rule("GET", MAR, False),
    "medications:med_pass": Rule("GET", MAR, True),
    "medications:order_detail": Rule("GET", MAR, True),
    "medications:order_new": Rule("GET", {"nurse"}, True),
    "medications:order_verify": Rule("POST", {"nurse"}, True, (302,)),
    "medications:order_discontinue": Rule("POST", {"nurse"}, True, (302,)),
    "medications:dose_document": Rule("POST", {"technician", "nurse"}, True, (302,)),
    "medications:administration_strike": Rule("POST", {"technician", "nurse"}, True, (302,)),
    "medications:prn_give": Rule("POST", {"technician", "nurse"}, True, (302,)),
    "medications:prn_follow_up": Rule("POST", {"technician", "nurse"}, True, (302,)),
    "medications:controlled": Rule("GET", FLOOR, False),
    "medications:mar_pdf": Rule("GET", MAR, True),
    # No medication posted: the form refuses it with a message on the controlled page.
    "medications:stock_new": Rule("POST", {"nurse"}, False, (302,)),
    "medications:stock_receive": Rule("POST", {"nurse"}, True, (302,)),
    "medications:stock_waste": Rule("POST", FLOOR, True, (302,)),
    "medications:count_submit": Rule("POST", FLOOR, True, (302,)),
    "medications:discrepancy_sign_off": Rule("POST", {"supervisor"}, True, (302,)),
    "observations:observation_sheet": Rule("GET", CENSUS, True),
}

# Third-party pages, by name prefix: reachable without a session (login, reset, MFA steps) or
# redirecting to login. They must never error.
PREFIX_RULES = {"account_": "public", "mfa_": "public", "admin:": "admin_site"}


def all_url_names():
    names = []

    def walk(patterns, namespace=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, ns)
            elif isinstance(p, URLPattern) and p.name:
                names.append(f"{namespace}{p.name}")

    walk(get_resolver().url_patterns)
    return sorted(set(names))


def test_every_url_has_an_expectation():
    missing = [
        name
        for name in all_url_names()
        if name not in TABLE and not any(name.startswith(p) for p in PREFIX_RULES)
    ]
    assert missing == [], f"Add these URL names to the access matrix: {missing}"


@pytest.fixture
def objects(cast, facility, admission):
    """One object of the home facility for every kind of URL argument."""
    from datetime import timedelta

    from django.utils import timezone

    from clients.models import OrientationItem
    from clients.services import leave_start

    now = timezone.now()
    leave = leave_start(
        actor=cast["nurse"],
        admission=admission,
        kind="appointment",
        left_at=now,
        expected_back_at=now + timedelta(days=1),
    )
    alert, _ = alert_raise(
        facility=facility,
        kind="test",
        severity="warning",
        message="Test alert",
        dedupe_key="test:matrix",
        client_public_id=admission.client.public_id,
    )
    item = OrientationItem.objects.filter(facility=facility).first()
    from facility.models import Unit
    from observations.services import level_order

    raise_ = level_order(actor=cast["nurse"], admission=admission, level="los", reason="Agitated")
    order, dose, administration = _mar_objects(cast, facility, admission)
    return {
        "order": order,
        "dose": dose,
        "administration": administration,
        "unit": Unit.objects.filter(facility=facility).order_by("name").first(),
        "level_order": raise_,
        "staff_member": cast["nurse"],
        "admission": admission,
        "leave": leave,
        "alert": alert,
        "item": item,
    }


def _mar_objects(cast, facility, admission):
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from medications.models import Medication
    from medications.services import administration_record, order_transcribe, order_verify
    from tests.conftest import make_user

    med = Medication.objects.create(
        facility=facility, name="Ondansetron", strength="4 mg", form="tablet", routes="oral"
    )
    soon = timezone.localtime(timezone.now() + timedelta(minutes=10), facility.tz)
    order = order_transcribe(
        actor=cast["nurse"],
        admission=admission,
        medication=med,
        dose="4 mg",
        dose_units=Decimal("1"),
        route="oral",
        frequency="times",
        times=soon.strftime("%H:%M"),
        start_at=admission.admitted_at,
        prescriber_name="Dr. Matrix",
        prescriber_credentials="MD",
    )
    order_verify(actor=make_user("matrix_nurse", "nurse", facility), order=order)
    dose = order.doses.order_by("scheduled_at").first()
    administration = administration_record(actor=cast["nurse"], dose=dose, outcome="given")
    from medications.models import ControlledStock
    from medications.services import count_submit, stock_receive

    controlled = Medication.objects.create(
        facility=facility, name="Lorazepam", strength="1 mg", form="tablet", routes="oral",
        controlled_schedule="IV",
    )  # fmt: skip
    stock = ControlledStock.objects.create(facility=facility, medication=controlled)
    stock_receive(actor=cast["nurse"], stock=stock, quantity="10")
    variance = count_submit(
        actor=cast["nurse"], second=cast["technician"], stock=stock, counted_quantity="9"
    )
    order.stock, order.variance = stock, variance
    return order, dose, administration


def url_for(name: str, objects) -> str:
    kwargs = {}
    if name.startswith("staff_") and name not in ("staff_list", "staff_create"):
        kwargs["public_id"] = objects["staff_member"].public_id
    elif name == "alert_resolve":
        kwargs["public_id"] = objects["alert"].public_id
    elif name in ("clients:chart", "clients:photo", "clients:readmit"):
        kwargs["public_id"] = objects["admission"].client.public_id
    elif name in (
        "clients:move_bed",
        "clients:discharge",
        "clients:leave_start",
        "clients:orientation_tick",
    ):
        kwargs["public_id"] = objects["admission"].public_id
        if name == "clients:orientation_tick":
            kwargs["item_id"] = objects["item"].pk
    elif name == "clients:leave_return":
        kwargs["public_id"] = objects["leave"].public_id
    elif name in ("observations:board", "observations:board_status"):
        kwargs["public_id"] = objects["unit"].public_id
    elif name in (
        "observations:level_change",
        "observations:observer_assign",
        "observations:observation_sheet",
    ) or name in ("medications:med_pass", "medications:order_new", "medications:mar_pdf"):
        kwargs["public_id"] = objects["admission"].public_id
    elif name.startswith("medications:order_") or name == "medications:prn_give":
        kwargs["public_id"] = objects["order"].public_id
    elif name == "medications:dose_document":
        kwargs["public_id"] = objects["dose"].public_id
    elif name in ("medications:administration_strike", "medications:prn_follow_up"):
        kwargs["public_id"] = objects["administration"].public_id
    elif name in (
        "medications:stock_receive",
        "medications:stock_waste",
        "medications:count_submit",
    ):
        kwargs["public_id"] = objects["order"].stock.public_id
    elif name == "medications:discrepancy_sign_off":
        kwargs["public_id"] = objects["order"].variance.public_id
    elif name == "observations:level_confirm":
        kwargs["public_id"] = objects["level_order"].public_id
    return reverse(name, kwargs=kwargs)


POST_DATA = {"alert_resolve": {"note": "Checked on the client."}}


def call(client, name, rule, url):
    if rule.method == "POST":
        return client.post(url, POST_DATA.get(name, {}))
    return client.get(url)


WHO = ["anonymous", *ROLES, *[f"other_{r}" for r in ROLES]]


def expected(rule: Rule, who: str) -> tuple[int, ...]:
    role = who.removeprefix("other_")
    if who == "anonymous":
        return (302,)
    if role not in rule.allowed:
        return (403,)
    if who.startswith("other_") and rule.scoped:
        return (404,)
    return rule.ok


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(TABLE))
def test_access(cast, objects, name):
    """One URL, walked by everyone in turn; every mismatch is listed at once."""
    from django.test import Client

    rule = TABLE[name]
    url = url_for(name, objects)
    wrong = []
    for who in WHO:
        client = Client()
        if who != "anonymous":
            client.force_login(cast[who])
        response = call(client, name, rule, url)
        if response.status_code not in expected(rule, who):
            wrong.append(f"{who}: got {response.status_code}, expected {expected(rule, who)}")
        elif who == "anonymous" and not response["Location"].startswith(reverse("account_login")):
            wrong.append(f"anonymous: redirected to {response['Location']}, not to login")
    assert wrong == [], f"{name} ({url}):\n" + "\n".join(wrong)
    if name == "alert_resolve":
        alert = Alert.objects.get(pk=objects["alert"].pk)
        assert alert.resolved_by == cast["supervisor"]


def _reversible_account_urls():
    """allauth's pages that take no argument (the e-mailed key pages are walked in the journeys)."""
    from django.urls import NoReverseMatch

    urls = []
    for name in all_url_names():
        if name.startswith(("account_", "mfa_")):
            try:
                urls.append((name, reverse(name)))
            except NoReverseMatch:
                continue
    return urls


@pytest.mark.django_db
@pytest.mark.parametrize("name, url", _reversible_account_urls())
def test_account_pages_never_error_for_anonymous(client, name, url):
    response = client.get(url)
    assert response.status_code in (200, 302, 405), name


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", *ROLES])
def test_django_admin_is_for_admins_only(client, cast, who):
    if who != "anonymous":
        client.force_login(cast[who])
    for name in (
        "admin:index",
        "admin:facility_bed_changelist",
        "admin:clients_orientationitem_changelist",
    ):
        response = client.get(reverse(name))
        if who == "admin":
            assert response.status_code == 200
        else:
            assert response.status_code == 302
            # Anonymous users pass through the admin's login URL, which sends them to ours.
            assert response["Location"].startswith((reverse("account_login"), "/manage/login/"))
    if who == "anonymous":
        assert client.get("/manage/login/")["Location"].startswith(reverse("account_login"))
