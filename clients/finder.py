"""Finding and naming clients for the audit pages (issue 16 item 7), registered as the core's
client finder hook (facility/registry.py `ClientFinder`) from ClientsConfig.ready().

The client search page (clients/search_views.py, issue 17) and the core's audit trail find
clients with the same `matching` query: by name, MRN or date of birth. The audit trail scopes every
data-change row (django-auditlog's LogEntry) to a facility and a client, without importing this
app. `subject` runs on every tracked save, so it reads only what is already loaded and caches
the ids of a client and of a stay: a client's facility, public id and MRN never change, nor does
the stay a record belongs to.
"""

import contextlib
import re
import uuid
from datetime import date
from functools import lru_cache

from django.db.models import Q

from clients.models import Admission, Client
from facility.registry import ClientFinder

SEARCH_LIMIT = 50
# Punctuation staff type between name parts ("Ashdown, Robin", "O'Neil") or after an initial.
NAME_SEPARATORS = re.compile(r"[\s,;]+")


def _birth_date(text: str) -> date | None:
    """A date of birth as ISO (YYYY-MM-DD) or as staff type it in the US (MM/DD/YYYY, M/D/YYYY,
    MM-DD-YYYY); None for anything else, including an impossible date."""
    with contextlib.suppress(ValueError):
        return date.fromisoformat(text)
    found = re.fullmatch(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})", text)
    if found:
        month, day, year = (int(part) for part in found.groups())
        with contextlib.suppress(ValueError):
            return date(year, month, day)
    return None


def matching(facility, text: str):
    """The facility's clients matching `text`, as a QuerySet (the one search, issue 16 item 7
    and issue 17): an MRN (exact, any case, or its last 4+ digits), a date of birth (ISO or
    MM/DD/YYYY), or words each found, in part, in the legal first, legal last or preferred
    name, in any order — so "Ashdown, Robin", "rob ash" and "Robbie" (a preferred name) all
    find Robin Ashdown."""
    text = " ".join(text.split())
    if not text:
        return Client.objects.none()
    match = Q(mrn__iexact=text)
    if text.isdigit() and len(text) >= 4:
        match |= Q(mrn__endswith=text)  # the MRN's number without its site prefix
    born = _birth_date(text)
    if born is not None:
        match |= Q(date_of_birth=born)
    words = [w.strip(".") for w in NAME_SEPARATORS.split(text)]
    words = [w for w in words if w][:4]
    if words:
        by_name = Q()
        for word in words:
            by_name &= (
                Q(legal_first_name__icontains=word)
                | Q(legal_last_name__icontains=word)
                | Q(preferred_name__icontains=word)
            )
        match |= by_name
    return (
        Client.objects.filter(facility=facility)
        .filter(match)
        .order_by("legal_last_name", "legal_first_name", "id")
    )


def search(facility, text: str, limit: int = SEARCH_LIMIT) -> list[tuple[uuid.UUID, str]]:
    """(public id, MRN) of the facility's clients matching `text` (see `matching`)."""
    return list(matching(facility, text).values_list("public_id", "mrn")[:limit])


def get(facilities, public_id):
    """One client of these facilities (None for any other or an unknown id)."""
    return (
        Client.objects.filter(facility__in=facilities, public_id=public_id)
        .select_related("facility")
        .first()
    )


@lru_cache(maxsize=8192)
def _client_ids(client_pk: int) -> tuple[int, uuid.UUID, str] | None:
    row = Client.objects.filter(pk=client_pk).values_list("facility_id", "public_id", "mrn")
    return row.first()


@lru_cache(maxsize=8192)
def _stay_client(admission_pk: int) -> int | None:
    return Admission.objects.filter(pk=admission_pk).values_list("client_id", flat=True).first()


def _from_client(client: Client) -> tuple[int, uuid.UUID, str]:
    return (client.facility_id, client.public_id, client.mrn)


def _cached(instance, name: str):
    """The related object behind FK `name` if it is already loaded, else None (no query)."""
    field = instance._meta.get_field(name)
    if not (field.is_relation and hasattr(field, "get_cached_value")):
        return None
    return field.get_cached_value(instance, default=None)


def _from_stay(instance, depth: int = 0):
    """(facility id, client public id, MRN) through a `client` or `admission` foreign key."""
    names = {f.name for f in instance._meta.concrete_fields if f.is_relation}
    if "client" in names and getattr(instance, "client_id", None):
        client = _cached(instance, "client")
        return _from_client(client) if client is not None else _client_ids(instance.client_id)
    if "admission" in names and getattr(instance, "admission_id", None):
        admission = _cached(instance, "admission")
        if admission is not None:
            client = _cached(admission, "client")
            if client is not None:
                return _from_client(client)
            client_pk = admission.client_id
        else:
            client_pk = _stay_client(instance.admission_id)
        return _client_ids(client_pk) if client_pk else None
    if depth:
        return None
    # One hop through a loaded parent (a dose's order, a finding's round).
    for field in instance._meta.concrete_fields:
        if field.is_relation and field.many_to_one:
            parent = field.get_cached_value(instance, default=None)
            if parent is not None and not isinstance(parent, Client | Admission):
                found = _from_stay(parent, depth + 1)
                if found:
                    return found
    return None


def subject(instance) -> tuple[int | None, uuid.UUID | None, str]:
    """The facility and client a tracked row belongs to, for its data-change log entry."""
    if isinstance(instance, Client):
        return _from_client(instance)
    if isinstance(instance, Admission):
        client = _cached(instance, "client")
        ids = _from_client(client) if client is not None else _client_ids(instance.client_id)
        return (instance.facility_id, ids[1], ids[2]) if ids else (instance.facility_id, None, "")
    found = _from_stay(instance)
    if found:
        return found
    facility_id = getattr(instance, "facility_id", None)
    if facility_id is None and instance._meta.label_lower == "facility.facility":
        facility_id = instance.pk
    if facility_id is None:
        for name in ("unit", "bed"):
            parent = getattr(instance, f"{name}_id", None) and _cached(instance, name)
            if parent is not None:
                facility_id = getattr(parent, "facility_id", None)
    return (facility_id, None, "")


FINDER = ClientFinder(search=search, get=get, subject=subject)
