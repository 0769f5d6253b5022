"""The cast: two facilities, one staff member per role in each, and clients to chart on.

Facility "Alder House" (America/New_York) is home; "Birch House" (America/Chicago) is the other
facility whose staff must never see Alder's clients.
"""

import time
from datetime import date, timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from allauth.mfa.utils import decrypt
from django.core.cache import cache
from django.utils import timezone

from clients.models import OrientationItem
from clients.services import admission_admit
from facility.models import Bed, Facility, Role, Unit, User
from facility.services import roles_sync, user_sync_role_group
from observations.services import codes_seed_defaults

PASSWORD = "correct-horse-battery-staple-42"
ROLES = [r.value for r in Role]


@pytest.fixture(autouse=True)
def _clean_cache():
    # Rate limits (failed logins) live in the cache; each test starts with none.
    cache.clear()
    yield


@pytest.fixture
def roles(db):
    roles_sync()


def make_facility(name: str, tz: str, *, beds_per_unit: int = 6) -> Facility:
    facility = Facility.objects.create(name=name, time_zone=tz, address="1 Test Road")
    for unit_name in ("East", "West"):
        unit = Unit.objects.create(facility=facility, name=unit_name)
        for n in range(1, beds_per_unit + 1):
            Bed.objects.create(unit=unit, label=f"{unit_name[0]}{n:02d}")
    OrientationItem.objects.create(facility=facility, label="Tour of the unit", position=1)
    OrientationItem.objects.create(facility=facility, label="Client rights", position=2)
    codes_seed_defaults(facility)
    return facility


@pytest.fixture
def facility(db):
    return make_facility("Alder House", "America/New_York")


@pytest.fixture
def other_facility(db):
    return make_facility("Birch House", "America/Chicago")


def make_user(username: str, role: str, *facilities: Facility, mfa: bool | None = None) -> User:
    user = User(
        username=username,
        email=f"{username}@example.test",
        full_name=username.replace("_", " ").title(),
        initials=username[:2].upper(),
        credentials={"nurse": "RN", "technician": "BHT", "clinician": "LCSW"}.get(role, ""),
        role=role,
    )
    user.set_password(PASSWORD)
    user.save()
    user.facilities.set(facilities)
    user_sync_role_group(user)
    if mfa is None:
        mfa = role in (Role.SUPERVISOR, Role.ADMIN)
    if mfa:
        TOTP.activate(user, generate_totp_secret())
    return user


def totp_code(user: User) -> str:
    """The current TOTP code of the user's authenticator, as their phone would show it."""
    from allauth.mfa.models import Authenticator

    auth = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    return format_hotp_value(hotp_value(decrypt(auth.data["secret"]), int(time.time()) // 30))


@pytest.fixture
def cast(roles, facility, other_facility):
    """One user per role in each facility: cast["nurse"], cast["other_nurse"]."""
    people = {}
    for role in ROLES:
        people[role] = make_user(role, role, facility)
        people[f"other_{role}"] = make_user(f"other_{role}", role, other_facility)
    return people


def admit(facility: Facility, actor: User, *, bed: Bed | None = None, **fields):
    """Admit a made-up client to the first free bed (or the given one)."""
    from clients.forms import free_beds

    bed = bed or free_beds(facility).first()
    n = fields.pop("n", 0)
    client_fields = {
        "legal_first_name": fields.pop("first", f"Test{n}"),
        "legal_last_name": fields.pop("last", f"Person{n}"),
        "date_of_birth": fields.pop("dob", date(1990, 1, 1) + timedelta(days=n)),
        "sex": "U",
        "allergies": fields.pop("allergies", "NKDA"),
    }
    return admission_admit(
        actor=actor,
        facility=facility,
        unit=bed.unit,
        bed=bed,
        level_of_care=fields.pop("level_of_care", "3.5"),
        admitted_at=fields.pop("admitted_at", timezone.now() - timedelta(hours=1)),
        client_fields=client_fields,
    )


@pytest.fixture
def admission(cast, facility):
    return admit(facility, cast["nurse"], first="Robin", last="Ashdown", allergies="Penicillin")


@pytest.fixture
def other_admission(cast, other_facility):
    return admit(other_facility, cast["other_nurse"], first="Sky", last="Birchfield")


def form_time(when, facility: Facility) -> str:
    """A datetime as a datetime-local input holds it: wall time in the facility's zone."""
    return timezone.localtime(when, facility.tz).strftime("%Y-%m-%dT%H:%M")
