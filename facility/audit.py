"""The audit trail a privacy officer reads (issue 16 item 7; specs/privacy.md, audit controls).

Two logs make it: the hash-chained access log (`AccessEvent`: views, prints, exports, sign-ins,
break-the-glass) and django-auditlog's data-change log (`LogEntry`: who changed which field of
which row, from what to what). `trail_rows` merges them in one SQL UNION so that any column
sorts and a page costs the same two queries (count, rows) however long the logs are.

Every LogEntry gets its facility and client in `additional_data` when it is written (the
`pre_log` receiver below, through the clients app's finder hook), so the page filters data
changes by facility and client like access events.
"""

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import partial

from auditlog.models import LogEntry
from auditlog.signals import pre_log
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db.models import CharField, F, IntegerField, Q, TextField, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.dispatch import receiver

from facility.models import AccessAction, AccessEvent, Facility, User
from facility.registry import registry

DATA_CHANGE = "data_change"
ACTION_CHOICES = [("", "Any action"), (DATA_CHANGE, "Data change"), *AccessAction.choices]
ACTION_LABELS = dict(ACTION_CHOICES)
VERBS = {
    LogEntry.Action.CREATE: "Created",
    LogEntry.Action.UPDATE: "Changed",
    LogEntry.Action.DELETE: "Deleted",
    LogEntry.Action.ACCESS: "Accessed",
}
# The columns a reader may sort by: URL name → the UNION's column. Nothing else reaches SQL.
# The page shows role under the user and a failed outcome beside the action; both still sort
# (the form's "Sort by").
SORTS = {
    "when": "e_at",
    "user": "e_user",
    "role": "e_role",
    "action": "e_action",
    "client": "e_client",
    "what": "e_what",
    "ip": "e_ip",
    "outcome": "e_outcome",
}
HEADERS = ["when", "user", "action", "client", "what", "ip"]
SORT_LABELS = {
    "when": "When",
    "user": "User",
    "role": "Role",
    "action": "Action",
    "client": "Client",
    "what": "What",
    "ip": "From",
    "outcome": "Outcome",
}
DEFAULT_SORT = "-when"
# What "who looked at this client" lists (item 7): reads and releases of the record.
LOOKS = [
    AccessAction.VIEW,
    AccessAction.PRINT,
    AccessAction.EXPORT,
    AccessAction.BREAK_GLASS,
    AccessAction.DISCLOSURE,
]
VALUE_MAX = 120


# ---------------------------------------------------------------- data changes: facility, client


@receiver(pre_log, dispatch_uid="haven_audit_subject")
def _attach_subject(sender, instance, action, **kwargs):
    """Name the facility and client of a row about to be logged, in the LogEntry's
    `additional_data` (auditlog reads `instance.get_additional_data()`). A partial of `dict` is
    used rather than a closure so that the instance stays picklable."""
    instance.get_additional_data = partial(dict, log_subject(instance))


def log_subject(instance) -> dict:
    finder = registry.client_finder
    if finder is not None:
        facility_id, client_id, mrn = finder.subject(instance)
    else:
        facility_id, client_id, mrn = getattr(instance, "facility_id", None), None, ""
    return {
        "facility": facility_id,
        "client": str(client_id) if client_id else None,
        "mrn": mrn or "",
    }


# ---------------------------------------------------------------- search


@dataclass
class TrailQuery:
    """What the reader asked for, already validated (facility/audit_views.py's form)."""

    start: object = None  # date, facility-local
    end: object = None
    staff: str = ""
    client: str = ""
    action: str = ""
    sort: str = DEFAULT_SORT
    client_ids: list = field(default_factory=list)  # filled by `resolve_client`


def _period(facility: Facility, query: TrailQuery) -> tuple[datetime | None, datetime | None]:
    tz = facility.tz
    start = datetime.combine(query.start, time.min, tzinfo=tz) if query.start else None
    end = (
        datetime.combine(query.end + timedelta(days=1), time.min, tzinfo=tz) if query.end else None
    )
    return start, end


def _access_side(facility: Facility, query: TrailQuery, start, end):
    # Sign-ins carry no facility: those of the facility's staff are included, by a subquery so
    # no join multiplies rows. Seals and verifications (no user) are the chain's, not a person's.
    staff = User.objects.filter(facilities=facility).values("id")
    rows = AccessEvent.objects.filter(
        Q(facility=facility) | Q(facility__isnull=True, user_id__in=staff)
    )
    if start:
        rows = rows.filter(at__gte=start)
    if end:
        rows = rows.filter(at__lt=end)
    if query.staff:
        named = User.objects.filter(full_name__icontains=query.staff).values("id")
        rows = rows.filter(Q(username__icontains=query.staff) | Q(user_id__in=named))
    if query.client:
        rows = rows.filter(client_public_id__in=query.client_ids)
    if query.action:
        rows = rows.filter(action=query.action)
    return rows.values(
        e_kind=Value("access", output_field=CharField()),
        e_id=F("id"),
        e_at=F("at"),
        e_user=F("username"),
        e_role=F("role"),
        e_action=F("action"),
        e_client=F("client_label"),
        e_what=Cast("what", TextField()),
        e_ip=F("ip"),
        e_outcome=F("outcome"),
        e_ct=Value(None, output_field=IntegerField()),
        e_verb=Value(None, output_field=IntegerField()),
        e_changes=Value("", output_field=TextField()),
    )


def _change_side(facility: Facility, query: TrailQuery, start, end):
    staff = User.objects.filter(facilities=facility).values("id")
    rows = LogEntry.objects.filter(
        Q(additional_data__facility=facility.pk)
        | Q(
            additional_data__has_key="facility",
            additional_data__facility=None,
            actor_id__in=staff,
        )
    )
    if start:
        rows = rows.filter(timestamp__gte=start)
    if end:
        rows = rows.filter(timestamp__lt=end)
    if query.staff:
        rows = rows.filter(
            Q(actor__username__icontains=query.staff) | Q(actor__full_name__icontains=query.staff)
        )
    if query.client:
        rows = rows.filter(additional_data__client__in=[str(c) for c in query.client_ids])
    return rows.values(
        e_kind=Value("change", output_field=CharField()),
        e_id=F("id"),
        e_at=F("timestamp"),
        e_user=Coalesce(F("actor__username"), Value(""), output_field=CharField()),
        e_role=Coalesce(F("actor__role"), Value(""), output_field=CharField()),
        e_action=Value(DATA_CHANGE, output_field=CharField()),
        e_client=Coalesce(
            KeyTextTransform("mrn", "additional_data"), Value(""), output_field=CharField()
        ),
        e_what=F("object_repr"),
        e_ip=F("remote_addr"),
        e_outcome=Value("ok", output_field=CharField()),
        e_ct=F("content_type_id"),
        e_verb=F("action"),
        e_changes=Coalesce(Cast("changes", TextField()), Value(""), output_field=TextField()),
    )


def resolve_client(facility: Facility, query: TrailQuery) -> None:
    """Turn the client words into the matching clients' public ids (one query)."""
    if query.client and registry.client_finder is not None:
        query.client_ids = [pid for pid, _ in registry.client_finder.search(facility, query.client)]


def order_by(sort: str) -> list[str]:
    key = sort.lstrip("-")
    column = SORTS.get(key, "e_at")
    desc = sort.startswith("-") if key in SORTS else True
    tiebreak = ["-e_at", "e_kind", "-e_id"] if desc else ["e_at", "e_kind", "e_id"]
    return [f"-{column}" if desc else column, *[t for t in tiebreak if t.lstrip("-") != column]]


def trail_rows(facility: Facility, query: TrailQuery):
    """The merged, filtered, sorted rows (a lazy queryset of dicts; slice it to read)."""
    start, end = _period(facility, query)
    if query.client and not query.client_ids:
        return AccessEvent.objects.none().values("id")
    sides = []
    if query.action in ("", DATA_CHANGE):
        sides.append(_change_side(facility, query, start, end))
    if query.action != DATA_CHANGE:
        sides.append(_access_side(facility, query, start, end))
    merged = sides[0] if len(sides) == 1 else sides[1].union(sides[0], all=True)
    return merged.order_by(*order_by(query.sort))


# ---------------------------------------------------------------- one row, as a reader sees it


@dataclass
class Change:
    field: str
    old: str
    new: str
    # The values are user ids ("revoked_by → 4"): `name_people` puts names in their place.
    names_user: bool = False


@dataclass
class TrailRow:
    kind: str  # "access" or "change"
    id: int
    at: datetime
    user: str
    role: str
    action: str
    action_label: str
    client: str
    what: str
    ip: str
    outcome: str
    model: str = ""
    changes: list[Change] = field(default_factory=list)
    created: bool = False
    full_name: str = ""  # set by `name_people` for the page

    @property
    def is_change(self) -> bool:
        return self.kind == "change"

    def changes_text(self) -> str:
        if self.created:
            return "; ".join(f"{c.field}: {c.new}" if c.new else c.field for c in self.changes)
        return "; ".join(f"{c.field}: {c.old} → {c.new}" for c in self.changes)


def _short(value) -> str:
    text = "" if value is None else str(value)
    if text == "None":
        text = ""
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"


def _model_of(content_type_id: int | None):
    if not content_type_id:
        return None
    try:
        return ContentType.objects.get_for_id(content_type_id).model_class()
    except ContentType.DoesNotExist:
        return None


def _field(model, name: str):
    """The model's concrete field of that name, else None (a reverse relation, a field removed
    since)."""
    if model is None:
        return None
    try:
        found = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return found if getattr(found, "concrete", False) else None


def _field_label(model, name: str) -> str:
    found = _field(model, name)
    return str(found.verbose_name) if found is not None else name.replace("_", " ")


# A created row's identifiers say nothing a reader needs; its other fields are listed, up to this.
CREATED_HIDDEN = {"id", "public_id"}
CREATED_MAX_FIELDS = 8


# Fields holding record category keys (facility/registry.py RecordCategory): shown as labels.
CATEGORY_FIELDS = {"categories", "category"}


def _is_user_field(model, name: str) -> bool:
    found = _field(model, name)
    related = getattr(found, "related_model", None)
    return related is not None and related is User


def _category_labels(text: str) -> str:
    """`['mar', 'vitals']` (as the change log stores a list) → "Medications (MAR), Vitals"."""
    keys = [k.strip(" '\"") for k in text.strip("[]").split(",")]
    keys = [k for k in keys if k]
    if not keys:
        return text
    labels = []
    for key in keys:
        category = registry.record_category(key)
        labels.append(str(category.label) if category is not None else key)
    return ", ".join(labels)


def name_people(rows: list["TrailRow"]) -> None:
    """Staff full names for the page's rows (username kept beside them), and names in place of
    the user ids inside data changes: one query for the whole page."""
    usernames = {row.user for row in rows if row.user and row.user != "(system)"}
    ids = {
        int(value)
        for row in rows
        for change in row.changes
        if change.names_user
        for value in (change.old, change.new)
        if value.isdigit()
    }
    if not usernames and not ids:
        return
    found = User.objects.filter(Q(username__in=usernames) | Q(pk__in=ids))
    by_name, by_id = {}, {}
    for person in found.only("id", "username", "full_name", "credentials"):
        by_name[person.username] = person.full_name or ""
        by_id[str(person.pk)] = str(person)
    for row in rows:
        row.full_name = by_name.get(row.user, "")
        for change in row.changes:
            if change.names_user:
                change.old = by_id.get(change.old, change.old)
                change.new = by_id.get(change.new, change.new)


def _changes(model, raw: str, verb: int | None = None) -> list[Change]:
    """Which fields changed from what to what; for a created row, the values it was given (its
    non-empty fields, reverse relations left out); nothing for a deleted row."""
    if verb == LogEntry.Action.DELETE:
        return []
    try:
        data = json.loads(raw) if raw else {}
        if isinstance(data, str):  # auditlog may store the JSON text as a JSON string
            data = json.loads(data)
    except ValueError:
        return []
    created = verb == LogEntry.Action.CREATE
    found = []
    for name, value in sorted((data or {}).items()):
        if isinstance(value, dict) and value.get("type") == "m2m":
            action = "added" if value.get("operation") == "add" else "removed"
            objects = ", ".join(map(str, value.get("objects", [])))
            found.append(Change(_field_label(model, name), action, _short(objects)))
            continue
        if not (isinstance(value, list | tuple) and len(value) == 2):
            continue
        if model is not None and _field(model, name) is None:
            continue  # a reverse relation auditlog lists with an empty value
        names_user = _is_user_field(model, name)
        if created and (
            name in CREATED_HIDDEN
            or _short(value[1]) == ""
            # a bare id says nothing (a person's id is named by `name_people`)
            or (getattr(_field(model, name), "is_relation", False) and not names_user)
        ):
            continue
        old_value, new_value = ("" if created else _short(value[0])), _short(value[1])
        if name in CATEGORY_FIELDS:
            old_value, new_value = _category_labels(old_value), _category_labels(new_value)
        found.append(Change(_field_label(model, name), old_value, new_value, names_user))
    if created and len(found) > CREATED_MAX_FIELDS:
        more = len(found) - CREATED_MAX_FIELDS
        found = [*found[:CREATED_MAX_FIELDS], Change(f"and {more} more fields", "", "")]
    return found


def present(row: dict) -> TrailRow:
    """A UNION row as the page and the CSV show it."""
    if row["e_kind"] == "change":
        model = _model_of(row["e_ct"])
        verbose = str(model._meta.verbose_name) if model is not None else "record"
        verb = VERBS.get(row["e_verb"], "Changed")
        return TrailRow(
            kind="change",
            id=row["e_id"],
            at=row["e_at"],
            user=row["e_user"] or "(system)",
            role=row["e_role"],
            action=DATA_CHANGE,
            action_label=f"{verb} {verbose}",
            client=row["e_client"],
            what=row["e_what"],
            ip=row["e_ip"] or "",
            outcome=row["e_outcome"],
            model=verbose,
            changes=_changes(model, row["e_changes"], row["e_verb"]),
            created=row["e_verb"] == LogEntry.Action.CREATE,
        )
    return TrailRow(
        kind="access",
        id=row["e_id"],
        at=row["e_at"],
        user=row["e_user"],
        role=row["e_role"],
        action=row["e_action"],
        action_label=ACTION_LABELS.get(row["e_action"], row["e_action"]),
        client=row["e_client"],
        what=row["e_what"],
        ip=row["e_ip"] or "",
        outcome=row["e_outcome"],
    )


# ---------------------------------------------------------------- who looked at this client


def client_looks(client_public_id: uuid.UUID):
    """The client's reads and releases, from any facility (break-the-glass comes from outside),
    newest first."""
    return AccessEvent.objects.filter(client_public_id=client_public_id, action__in=LOOKS).order_by(
        "-at", "-id"
    )


# ---------------------------------------------------------------- CSV

CSV_HEADER = [
    "When (UTC)",
    "User",
    "Role",
    "Action",
    "Client MRN",
    "What",
    "Changes",
    "From",
    "Outcome",
    "Source",
]
CSV_MAX_ROWS = 100_000


def write_csv(response, facility: Facility, query: TrailQuery) -> int:
    """Write the trail as CSV after the Part 2 notice; returns the number of rows written."""
    from facility.pdf import csv_writer_with_notice  # WeasyPrint loads only when exporting

    out = csv_writer_with_notice(response)
    out.writerow(CSV_HEADER)
    written = 0
    for raw in trail_rows(facility, query)[:CSV_MAX_ROWS].iterator(chunk_size=2000):
        row = present(raw)
        out.writerow(
            [
                row.at.isoformat(),
                row.user,
                row.role,
                row.action_label,
                row.client,
                row.what,
                row.changes_text(),
                row.ip,
                row.outcome,
                f"{'data change' if row.is_change else 'access event'} {row.id}",
            ]
        )
        written += 1
    return written


def describe(query: TrailQuery) -> str:
    """The filters in words, for the export's own access event."""
    parts = []
    if query.start or query.end:
        parts.append(f"{query.start or '…'} to {query.end or '…'}")
    if query.staff:
        parts.append(f"staff “{query.staff}”")
    if query.client:
        parts.append(f"client “{query.client}”")
    if query.action:
        parts.append(ACTION_LABELS.get(query.action, query.action))
    return ", ".join(parts) or "everything"


def model_label(label: str) -> str:
    """A model's verbose name from "app.model" (for tests and messages)."""
    return str(apps.get_model(label)._meta.verbose_name)
