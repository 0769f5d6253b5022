"""The cast: two facilities, one staff member per role in each, and clients to chart on.

Facility "Alder House" (America/New_York) is home; "Birch House" (America/Chicago) is the other
facility whose staff must never see Alder's clients.
"""

import os
import time
from datetime import date, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Value
from django.db.models.functions import Concat
from django.test import TransactionTestCase
from django.utils import timezone
from pytest_django.plugin import blocking_manager_key

from clients.models import OrientationItem
from clients.services import admission_admit
from facility.models import Bed, Facility, Role, Unit, User
from facility.roles import ROLE_PERMISSIONS
from facility.services import facility_create, roles_sync, user_sync_role_group

PASSWORD = "correct-horse-battery-staple-42"
ROLES = [r.value for r in Role]


def redis_url_for_worker(url: str, index: int) -> str:
    """The Redis URL of xdist worker `index`: same server, its own database.

    Worker n uses the base database + n, counting down from the base once that passes 15, so the
    default test database 15 gives 15, 14, 13... and never a low database a developer runs on.
    pytest-django gives each worker its own PostgreSQL database the same way (`_gw<n>` suffix).
    """
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    path_db = parts.scheme != "unix" and parts.path.strip("/")
    base = int(path_db or query.get("db", 0))
    db = base + index if base + index <= 15 else base - index
    if not 0 <= db <= 15:
        raise pytest.UsageError(f"too many xdist workers for one Redis server from db {base}")
    if path_db or (parts.scheme != "unix" and "db" not in query):
        return urlunsplit(parts._replace(path=f"/{db}"))
    query["db"] = str(db)
    if parts.scheme == "unix":  # urlunsplit would drop the empty authority: unix:/path
        return f"unix://{parts.path}?{urlencode(query)}"
    return urlunsplit(parts._replace(query=urlencode(query)))


# Settings are loaded before this file, so a worker's Redis database is set here, before anything
# opens the cache: tests flush it (and the Celery test's queue lives in it).
if _worker := os.environ.get("PYTEST_XDIST_WORKER"):
    from facility.settings import celery_broker_url

    settings.REDIS_URL = redis_url_for_worker(settings.REDIS_URL, int(_worker.removeprefix("gw")))
    settings.CACHES["default"]["LOCATION"] = settings.REDIS_URL
    settings.CELERY_BROKER_URL = celery_broker_url(settings.REDIS_URL)


@pytest.fixture(autouse=True)
def _clean_cache():
    # Rate limits (failed logins) live in the cache; each test starts with none.
    cache.clear()
    yield


def _roles_in_place() -> bool:
    """The role groups exist with exactly the permissions facility/roles.py gives them (one
    query)."""
    want = {
        (str(getattr(role, "value", role)), perm)
        for role, perms in ROLE_PERMISSIONS.items()
        for perm in perms
    }
    have = Group.permissions.through.objects.filter(group__name__in={g for g, _ in want})
    rows = have.values_list(
        "group__name", "permission__content_type__app_label", "permission__codename"
    )
    return {(g, f"{app}.{code}") for g, app, code in rows} == want


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Each worker's test database starts with the role groups (roles_sync is ~100 queries) and
    the cast (`base_world`), committed once: each test then runs in a transaction rolled back
    at its end, so what a test changes of them is gone for the next."""
    with django_db_blocker.unblock():
        roles_sync()
        base_world()


# What a transactional test's end leaves: the content types, permissions and role groups that
# migrations and roles_sync made (Django's flush empties them too, then rebuilds them).
KEPT_TABLES = {
    "django_migrations", "django_content_type", "auth_permission", "auth_group",
    "auth_group_permissions",
}  # fmt: skip
_django_flush = TransactionTestCase._fixture_teardown


def _empty_the_tables(self) -> None:
    """A transactional test's end: delete the rows of every table that has any, but the kept
    ones, in one transaction with triggers off (so neither key order nor the append-only audit
    triggers stand in the way). Django's flush truncates every table and rebuilds the content
    types and permissions: over a second for each of some 70 transactional tests, where this
    takes a few milliseconds. Off for a session that is not a superuser: Django's flush then."""
    # A module fixture's open transaction (tests/facility/test_hostile_input.py) would hold a
    # transactional test's writes uncommitted, and this would empty that module's world.
    assert not connection.in_atomic_block, "a transactional test ran inside a module's transaction"
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            return _django_flush(self)
        tables = [
            t
            for t in connection.introspection.django_table_names(only_existing=True)
            if t not in KEPT_TABLES
        ]
        quote = connection.ops.quote_name
        cursor.execute(
            " UNION ALL ".join(
                f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM {quote(t)})" for t in tables
            )
        )
        filled = [row[0] for row in cursor.fetchall()]
        with transaction.atomic():
            cursor.execute("SET LOCAL session_replication_role = replica")
            for table in filled:
                cursor.execute(f"DELETE FROM {quote(table)}")


TransactionTestCase._fixture_teardown = _empty_the_tables


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    # A transactional test ends by emptying the tables (`_empty_the_tables`), the cast's
    # included: put them back, outside any test transaction, so the tests after it find them.
    # Not after the last test: its teardown has dropped the test database and restored the real
    # one's name.
    result = yield
    if nextitem is None:
        return result
    marker = item.get_closest_marker("django_db")
    flushed = {"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())) or (
        marker is not None and (marker.kwargs.get("transaction") or marker.args[:1] == (True,))
    )
    if flushed and blocking_manager_key in item.config.stash:
        with item.config.stash[blocking_manager_key].unblock():
            Group.objects.exclude(name__in=ROLES).delete()  # a group a test made
            if not _roles_in_place():
                roles_sync()
            base_world()
            connection.close()  # else it can outlive the test database and block its DROP
    return result


@pytest.fixture
def roles(db):
    if not _roles_in_place():
        roles_sync()


def make_facility(name: str, tz: str, *, beds_per_unit: int = 6) -> Facility:
    facility = facility_create(name=name, time_zone=tz, address="1 Test Road")
    for unit_name in ("East", "West"):
        unit = Unit.objects.create(facility=facility, name=unit_name)
        for n in range(1, beds_per_unit + 1):
            Bed.objects.create(unit=unit, label=f"{unit_name[0]}{n:02d}")
    OrientationItem.objects.create(facility=facility, label="Tour of the unit", position=1)
    OrientationItem.objects.create(facility=facility, label="Client rights", position=2)
    return facility


HOME = ("Alder House", "America/New_York")
AWAY = ("Birch House", "America/Chicago")
CAST_NAMES = [*ROLES, *(f"other_{role}" for role in ROLES)]


def base_world() -> None:
    """The two facilities and one person per role at each, made once per test database (and
    again after a transactional test's flush): building them for every test was most of the
    suite's time (issue 17: the suite under 8 minutes). Idempotent."""
    if Facility.objects.filter(name=HOME[0]).exists():
        return
    home, away = make_facility(*HOME), make_facility(*AWAY)
    for role in ROLES:
        make_user(role, role, home)
        make_user(f"other_{role}", role, away)


def home_facility() -> Facility:
    return Facility.objects.get(name=HOME[0])


def away_facility() -> Facility:
    return Facility.objects.get(name=AWAY[0])


def cast_users() -> dict[str, User]:
    """One user per role in each facility, fresh from the database: cast["nurse"],
    cast["other_nurse"]."""
    found = {u.username: u for u in User.objects.filter(username__in=CAST_NAMES)}
    return {name: found[name] for name in CAST_NAMES}


@pytest.fixture
def without_cast(db):
    """For the demo seed's tests: the demo's staff share usernames with the cast ("nurse",
    "clinician"), so the cast's accounts are renamed aside for the test (rolled back after)."""
    User.objects.filter(username__in=CAST_NAMES).update(username=Concat(Value("cast-"), "username"))


@pytest.fixture
def facility(db):
    return home_facility()


@pytest.fixture
def other_facility(db):
    return away_facility()


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
    """One user per role in each facility: cast["nurse"], cast["other_nurse"] (`base_world`)."""
    return cast_users()


def admit(facility: Facility, actor: User, *, bed: Bed | None = None, **fields):
    """Admit a made-up client to the first free bed (or the given one).

    `allergies`: "NKDA" (the default), drug allergens one per line, or "" for a client whose
    allergies are not yet recorded (as a chart migrated from free text can be).
    """
    from clients.forms import free_beds
    from clients.models import Client

    bed = bed or free_beds(facility).first()
    n = fields.pop("n", 0)
    text = fields.pop("allergies", "NKDA")
    named = [a.strip() for a in text.splitlines() if a.strip() and a.strip().upper() != "NKDA"]
    client_fields = {
        "legal_first_name": fields.pop("first", f"Test{n}"),
        "legal_last_name": fields.pop("last", f"Person{n}"),
        "date_of_birth": fields.pop("dob", date(1990, 1, 1) + timedelta(days=n)),
        "sex": "U",
        "allergy_status": "listed" if named else "nkda",
    }
    admission = admission_admit(
        actor=actor,
        facility=facility,
        unit=bed.unit,
        bed=bed,
        level_of_care=fields.pop("level_of_care", "3.5"),
        admitted_at=fields.pop("admitted_at", timezone.now() - timedelta(hours=1)),
        client_fields=client_fields,
        allergies=[{"allergen": a, "kind": "drug"} for a in named],
    )
    if not text.strip():
        Client.objects.filter(pk=admission.client_id).update(allergy_status="not_recorded")
        admission.client.allergy_status = "not_recorded"
    return admission


@pytest.fixture
def admission(cast, facility):
    return admit(facility, cast["nurse"], first="Robin", last="Ashdown", allergies="Penicillin")


@pytest.fixture
def other_admission(cast, other_facility):
    return admit(other_facility, cast["other_nurse"], first="Sky", last="Birchfield")


def form_time(when, facility: Facility) -> str:
    """A datetime as a datetime-local input holds it: wall time in the facility's zone."""
    return timezone.localtime(when, facility.tz).strftime("%Y-%m-%dT%H:%M")
