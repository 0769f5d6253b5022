"""Fuzzing every form with Hypothesis (issue 17 item 5): hostile values never answer 500, and a
refused post saves nothing.

The URL table, the valid bodies and the objects a URL names are the access matrix's
(tests/facility/test_access_matrix.py), so a new form is fuzzed as soon as the matrix knows it.
Signing in and changing one's password (allauth) join them. For each URL that takes a POST, the
person who may post it signs in; the form's field names are read from its page (inputs, selects
and textareas of the forms posting to the URL) and from the matrix's valid body, which is posted
first and must be accepted (so the fuzz reaches past the form's door). Each example keeps the
valid body and replaces one to three fields with hostile values: huge strings, NUL, bidi
controls, emoji, absurd numbers, far and impossible dates, and ids that are not ids or that
belong to the other facility.

Per example, in a savepoint rolled back after it:
- no 500: the test client re-raises a view's exception, and Hypothesis reports the body;
- refused (4xx, the form shown again, or a redirect with an error message): every domain table
  holds exactly the rows it held before (one query hashes them all);
- accepted: no row holds a control or bidi character, a date outside 1900-2100, a non-finite or
  absurd number, or a reference to the other facility's rows.

Reproducible by design: each URL's examples come from a seed derived from its name (not from the
clock), with no example database, so CI fails on the same body that failed here; that CI keeps
re-running the same bodies is the price. Four examples per form keep the module near a minute
(~125 forms x 6 requests); explore with more, or fresh random ones, by hand:
FUZZ_EXAMPLES=50 FUZZ_RANDOM=1 ./run test tests/test_fuzz_forms.py
"""

import os
import re
import zlib
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.db import connection, models, transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from facility.validators import UNSAFE_CHARACTERS
from tests.conftest import PASSWORD, admit
from tests.facility.test_access_matrix import URLS, Post, Url, allowed_roles
from tests.facility.world import matrix_world, ondansetron

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
FRESH = os.environ.get("FUZZ_RANDOM") == "1"

# ---------------------------------------------------------------- hostile values

HUGE = 100_000


class Huge(str):
    """A huge value that a failure report names by its size instead of printing it."""

    def __repr__(self):
        return f"<{len(self):,} × {self[:1]!r}>"


TEXT = [
    Huge("x" * HUGE),
    Huge("😀" * (HUGE // 4)),
    "Fire door\x00propped",
    "\x00",
    "Ash\u202edrow",
    "\u2066Robin\u2069",
    "\u200fRLM",
    "\x07bell\x1b[2J",
    "🔥💊🧑‍⚕️ 👨‍👩‍👧",
    "Z̴̡̛a̷l̸g̴o̵ ̷t̶e̸x̵t̴",
    "\ufeff\u200b",
    "\uffff\U0010ffff",
    "   ",
    "",
    "<script>alert(1)</script>",
    "'; DROP TABLE clients_client; --",
    "%s %n {0} {{ x }} ${x}",
    Huge("\r\n" * 500),
]
NUMBERS = [
    "-1",
    "0",
    "-0",
    "1e308",
    "-1e308",
    "1e-308",
    "99999999999999999999",
    "9223372036854775808",
    "2147483648",
    "NaN",
    "Infinity",
    "-inf",
    "0.001",
    "1,000",
    "١٢٣",  # Arabic-Indic digits: int() reads them as 123
    "0x10",
    "1_000",
    " 7 ",
]
DATES = [
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "1899-12-31",
    "2026-02-30",
    "-0001-01-01",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "10000-01-01T00:00",
    "2026-03-08T02:30",  # does not exist in America/New_York (spring forward)
    "2026-11-01T01:30",  # happens twice there (fall back)
    "9999-12-31 23:59:59",
    "25:00",
    "23:60",
    "24:00",
]
ODD_IDS = [
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "abc",
    "-1",
    "0",
    "1.5",
    "99999999999999999999",
    "{'$gt': ''}",
]


def hostile_values(ids: list[str]) -> st.SearchStrategy:
    """One hostile value: of every kind, so a date field gets text and an id field gets a date."""
    return st.one_of(
        st.sampled_from(TEXT),
        st.sampled_from(NUMBERS),
        st.sampled_from(DATES),
        st.sampled_from(ODD_IDS + ids),
        st.sampled_from(ids),
        st.uuids().map(str),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.text(max_size=40),
    )


def bodies(valid: dict, fields: list[str], ids: list[str]) -> st.SearchStrategy:
    """The valid body with one to three fields made hostile (a list field gets a list)."""

    def poison(chosen: list[str]) -> st.SearchStrategy:
        values = {
            name: (
                st.lists(hostile_values(ids), min_size=1, max_size=3)
                if isinstance(valid.get(name), list | tuple)
                else hostile_values(ids)
            )
            for name in chosen
        }
        return st.fixed_dictionaries(values).map(lambda hostile: {**valid, **hostile})

    chosen = st.lists(st.sampled_from(fields), min_size=1, max_size=3, unique=True)
    return chosen.flatmap(poison)


# ---------------------------------------------------------------- the world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The access matrix's world, built once and rolled back at the end, plus objects of the
    other facility whose ids the fuzzer posts to the home facility's forms."""
    with django_db_blocker.unblock(), transaction.atomic():
        w = matrix_world()
        admit(w.other_facility, w.cast["other_nurse"], first="Sky", last="Birchfield")
        ondansetron(w.other_facility)
        w.other_rows = other_facility_rows(w.other_facility)
        w.other_ids = sorted(
            {str(v) for rows in w.other_rows.values() for row in rows[:3] for v in row}
        )
        yield w
        transaction.set_rollback(True)


def other_facility_rows(other) -> dict:
    """The other facility's rows that a forged form could name: model -> [(pk, public id)]."""
    from clients.models import Admission, Client, OrientationItem
    from facility.models import Bed, Facility, Unit, User
    from medications.models import Medication
    from observations.models import RoundCode, SecurityArea

    found = {}
    for model, lookup in (
        (Facility, "pk"),
        (Unit, "facility"),
        (Bed, "unit__facility"),
        (User, "facilities"),
        (Admission, "facility"),
        (Client, "admissions__facility"),
        (OrientationItem, "facility"),
        (Medication, "facility"),
        (RoundCode, "facility"),
        (SecurityArea, "facility"),
    ):
        names = ["pk", "public_id"] if hasattr(model, "public_id") else ["pk"]
        rows = model.objects.filter(**{lookup: other.pk}).distinct().order_by("pk")
        found[model] = [tuple(row) for row in rows.values_list(*names)]
    return found


# ---------------------------------------------------------------- what the database holds

# Written on purpose by any request, refused or not: who read what, sign-in failures, scans.
NOT_DOMAIN = {"facility_accessevent", "facility_signinfailure", "observations_scanmark"}
DOMAIN_APPS = (
    "facility",
    "clients",
    "observations",
    "medications",
    "screening",
    "transport",
    "account",
    "mfa",
)


def domain_models() -> list:
    found, tables = [], set(connection.introspection.table_names())
    for label in DOMAIN_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            table = model._meta.db_table
            if table in tables and table not in NOT_DOMAIN and model._meta.managed:
                found.append(model)
    return found


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def fingerprint_sql() -> str:
    """One query: each domain table's row count and a hash of all its rows."""
    parts = []
    for model in domain_models():
        table = _quoted(model._meta.db_table)
        parts.append(
            f"SELECT '{model._meta.db_table}', count(*), "
            f"md5(coalesce(string_agg(md5(t::text), '' ORDER BY md5(t::text)), '')) "
            f"FROM {table} t"
        )
    return " UNION ALL ".join(parts)


def poison_sql(other_rows: dict) -> tuple[str, dict]:
    """One query: per domain table, the rows holding what no form should have let through:
    control or bidi characters, dates outside 1900-2100, non-finite or absurd numbers, and
    references to the other facility's rows (by key or by public id)."""
    params = {"unsafe": _pg_unsafe_class()}
    params["other_uuids"] = [r[1] for rows in other_rows.values() for r in rows if len(r) > 1]
    other_uuids = bool(params["other_uuids"])
    for i, rows in enumerate(other_rows.values()):
        params[f"other_{i}"] = [r[0] for r in rows]
    targets = {model: f"%(other_{i})s" for i, model in enumerate(other_rows)}
    parts = []
    for model in domain_models():
        checks = []
        for f in model._meta.concrete_fields:
            column = _quoted(f.column)
            if f.is_relation and f.related_model in targets:
                checks.append(f"{column} = ANY({targets[f.related_model]})")
            elif f.is_relation or f.primary_key:
                continue
            elif isinstance(f, models.UUIDField) and other_uuids:
                checks.append(f"{column} = ANY(%(other_uuids)s)")
            elif isinstance(f, models.UUIDField):
                continue
            elif isinstance(f, models.CharField | models.TextField):
                checks.append(f"{column} ~ %(unsafe)s")
            elif isinstance(f, models.JSONField):
                checks.append(f"{column}::text ~ %(unsafe)s")
            elif isinstance(f, models.DateField):  # and DateTimeField
                checks.append(f"({column} < '1900-01-01' OR {column} > '2100-01-01')")
            elif isinstance(f, models.DecimalField | models.FloatField):
                checks.append(f"({column} = 'NaN' OR abs({column}) >= 1e9)")
            elif isinstance(f, models.IntegerField):
                checks.append(f"abs({column}::bigint) >= 100000000")
        if checks:
            table = _quoted(model._meta.db_table)
            parts.append(
                f"SELECT '{model._meta.db_table}', count(*) FROM {table} WHERE "
                + " OR ".join(checks)
            )
    return " UNION ALL ".join(parts), params


def fingerprint(sql: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return {table: (n, digest) for table, n, digest in cursor.fetchall()}


def poisoned(query: tuple[str, dict]) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(*query)
        return {table: n for table, n in cursor.fetchall() if n}


def _pg_unsafe_class() -> str:
    """facility.validators' class of unsafe characters in PostgreSQL's regex dialect."""
    return "[" + "".join(_pg_range(r) for r in _ranges(UNSAFE_CHARACTERS.pattern)) + "]"


def _ranges(pattern: str) -> list[tuple[str, str]]:
    inner = pattern.strip("[]")
    return [(m[0], m[2] or m[0]) for m in re.findall(r"(.)(-(.))?", inner, flags=re.S)]


def _pg_range(pair: tuple[str, str]) -> str:
    # PostgreSQL text never holds NUL (it refuses it), and its regex cannot name it.
    lo, hi = (f"\\u{max(ord(c), 1):04x}" for c in pair)
    return lo if pair[0] == pair[1] else f"{lo}-{hi}"


def changed(before: dict, after: dict) -> list[str]:
    return sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))


# ---------------------------------------------------------------- the forms on a page


class FormFields(HTMLParser):
    """The names a browser would post to `path` from a page: inputs, selects and textareas of
    the forms whose action (or hx-post, or a button's formaction) is `path`."""

    def __init__(self, path: str, page_path: str):
        super().__init__(convert_charrefs=True)
        self.path, self.page_path = path, page_path
        self.names: dict[str, str | None] = {}  # name -> value a browser sends (None: none)
        self._in_form = False
        self._posts_here = False
        self._pending: dict[str, str | None] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def _targets(self, action: str | None) -> bool:
        if action is None:
            return False
        target = urlsplit(action).path or self.page_path
        return target == self.path

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._in_form, self._pending = True, {}
            action = a.get("hx-post") or a.get("action", "")
            self._posts_here = (a.get("method", "get").lower() == "post" or "hx-post" in a) and (
                self._targets(action)
            )
            return
        if not self._in_form:
            return
        if tag == "button" and self._targets(a.get("formaction")):
            self._posts_here = True
        name = a.get("name")
        if tag in ("input", "button") and name and name != "csrfmiddlewaretoken":
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                sent = a.get("value", "on") if "checked" in a else None
                self._pending.setdefault(name, None)
                if sent is not None:
                    self._pending[name] = sent
            elif tag == "input" and kind not in ("submit", "image", "reset", "file"):
                self._pending.setdefault(name, a.get("value", ""))
            else:
                self._pending.setdefault(name, None)
        elif tag == "select" and name:
            self._select = name
            self._pending.setdefault(name, None)
        elif tag == "option" and self._select and "selected" in a:
            self._pending[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self._pending[name] = ""

    def handle_data(self, data):
        if self._textarea:
            self._pending[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._in_form:
            if self._posts_here:
                for name, value in self._pending.items():
                    if self.names.get(name) is None:
                        self.names[name] = value
            self._in_form = False


def page_fields(client: Client, path: str) -> dict[str, str | None]:
    response = client.get(path)
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return {}
    parser = FormFields(path, path)
    parser.feed(response.content.decode(errors="replace"))
    return parser.names


# ---------------------------------------------------------------- who posts each form

PREFERENCE = ["nurse", "technician", "clinician", "supervisor", "admin"]

# Forms that only one person may post (an object's author or the person it is offered to).
OWNERS = {
    "observations:handoff_accept": "witness",
    "observations:handoff_decline": "witness",
    "observations:note_autosave": "witness",
    "observations:note_sign": "witness",
    "observations:note_discard": "witness",
    "observations:counseling_note_addendum": "counselor",
    "observations:counseling_note_strike": "counselor",
    "observations:counseling_grant_revoke": "counselor",
}

NEW_PASSWORD = "a-fresh-passphrase-for-fuzz-77"

# allauth's forms that the matrix leaves to its own tests: signing in (anonymous) and changing
# one's password (Haven's form, facility/adapters.py).
ACCOUNT_URLS = {
    "account_login": Url(post=Post(lambda w: {"login": "nurse", "password": PASSWORD}, None)),
    "account_change_password": Url(
        post=Post(
            lambda w: {
                "oldpassword": PASSWORD,
                "password1": NEW_PASSWORD,
                "password2": NEW_PASSWORD,
            },
            None,
        )
    ),
}
FORMS = {**URLS, **ACCOUNT_URLS}
POST_URLS = sorted(name for name, url in FORMS.items() if url.post is not None)

# Break-the-glass opens a client of another facility: that is its purpose (facility/glass.py).
CROSSES_FACILITIES = {"glass_open"}


def poster(world, name: str):
    from facility.models import User

    if name == "account_login":
        return None
    if name in OWNERS:
        return User.objects.get(username=OWNERS[name])
    if name in ACCOUNT_URLS:
        return world.cast["nurse"]
    url = URLS[name]
    allowed = allowed_roles(name, "POST") - url.post.forbidden
    role = next(r for r in PREFERENCE if r in allowed)
    return world.cast[role]


def refused(response, success) -> bool:
    """Whether the server said no: a 4xx, the form shown again where a valid post redirects or
    downloads, or a redirect with an error message."""
    if response.status_code >= 400:
        return True
    if response.status_code == 200:
        return success.status_code != 200 or _kind(response) != _kind(success)
    return bool(errors(response))


def errors(response) -> list[str]:
    """The error messages this request added (the client follows no redirect, so earlier ones
    are still waiting). A warning comes with a post that did its work ("the dose is charted")."""
    queued = get_messages(response.wsgi_request)._queued_messages
    return [str(m) for m in queued if m.level >= message_levels.ERROR]


def _kind(response) -> str:
    return response.get("Content-Type", "").split(";")[0]


# ---------------------------------------------------------------- the test


@pytest.mark.django_db
@pytest.mark.parametrize("name", POST_URLS)
def test_hostile_posts_never_error_and_a_refused_post_saves_nothing(world, name):
    url = FORMS[name]
    path = reverse(name, args=url.args(world))
    valid = url.post.body(world)
    client = Client(raise_request_exception=True)
    if who := poster(world, name):
        client.force_login(who)

    from_page = page_fields(client, path) if url.get == 200 else {}
    body = {k: v for k, v in from_page.items() if v is not None} | valid
    # A form with no fields still gets a stray one: what it does not expect, it must ignore.
    fields = sorted(set(from_page) | set(valid)) or ["unexpected"]
    ids = world.other_ids
    fingerprint_query = fingerprint_sql()
    poison_query = poison_sql({} if name in CROSSES_FACILITIES else world.other_rows)
    # Each example is rolled back, so every one starts from this state.
    before, poison_before = fingerprint(fingerprint_query), poisoned(poison_query)

    # The valid body first: the fuzz must reach past the form's door, not only knock on it.
    with transaction.atomic():
        success = client.post(path, body)
        transaction.set_rollback(True)
    if url.post.ok in (200, 302):
        assert (success.status_code, errors(success)) == (url.post.ok, []), (
            f"{name}: the valid body was refused"
        )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(data=bodies(body, fields, ids))
    def post(data):
        with transaction.atomic():
            response = client.post(path, data)
            after = fingerprint(fingerprint_query)
            now_poisoned = poisoned(poison_query) if before != after else poison_before
            transaction.set_rollback(True)
        status = response.status_code
        assert status != 500, f"{name} answered 500"
        if refused(response, success):
            assert changed(before, after) == [], f"{name} refused ({status}) but wrote rows"
        else:
            assert now_poisoned == poison_before, (
                f"{name} accepted ({status}) and saved hostile values: {now_poisoned}"
            )

    if not FRESH:
        post = seed(zlib.crc32(name.encode()))(post)
    post()
