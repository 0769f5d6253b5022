"""Specimens as a shift leaves them, made through the services: started, collected, handed over.
Shared by the specimen, custody, label and browser tests."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from screening.services.custody import custody_append
from screening.services.specimens import Collection, specimen_collect, specimen_order
from tests.conftest import form_time

# A short stroke as the signature pad stores it (600 x 170 box).
SIGNATURE = "M20 120 L60 80 L100 130 L140 70 L180 125"


def started(actor, admission, reason="admission", **fields):
    return specimen_order(actor=actor, admission=admission, reason=reason, **fields)


def collection(at=None, **changes) -> Collection:
    """A clean, unobserved urine collection read 2 minutes after, 96.4 °F."""
    at = at or timezone.now() - timedelta(minutes=5)
    fields = {
        "collected_at": at, "observed": False, "temperature": Decimal("96.4"),
        "temperature_unit": "F", "temperature_read_at": at + timedelta(minutes=2),
        "volume_adequate": True, "split": False, "seal_applied": True, "seal_initialed": True,
        "client_signature": SIGNATURE,
    }  # fmt: skip
    fields.update(changes)
    return Collection(**fields)


def collected(actor, admission, *, at=None, reason="admission", **changes):
    """A specimen started and collected by `actor` (custody #1: the client → the collector)."""
    specimen = started(actor, admission, reason)
    return specimen_collect(actor=actor, specimen=specimen, collection=collection(at, **changes))


def hand_over(actor, specimen, released_by, received_by, purpose, *, at=None, **fields):
    return custody_append(
        actor=actor,
        specimen=specimen,
        at=at or timezone.now(),
        released_by=released_by,
        received_by=received_by,
        purpose=purpose,
        seal_intact=fields.pop("seal_intact", True),
        **fields,
    )


def collect_body(facility, **changes) -> dict:
    """A valid POST body of the collection form."""
    now = timezone.now()
    body = {
        "collected_at": form_time(now, facility), "observed": "no", "observer": "",
        "observed_reason": "", "temperature": "96.4", "temperature_unit": "F",
        "temperature_read_at": form_time(now, facility), "volume_adequate": "yes",
        "split": "single", "seal_applied": "on", "seal_initialed": "on",
        "client_signature": SIGNATURE, "remarks": "",
    }  # fmt: skip
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def custody_body(facility, released_by, received_by, purpose="to_storage", **changes) -> dict:
    body = {
        "at": form_time(timezone.now(), facility), "purpose": purpose,
        "released_by": released_by, "received_by": received_by, "seal_intact": "yes",
        "storage_location": "Locked fridge, shelf 2" if purpose == "to_storage" else "",
        "remarks": "",
    }  # fmt: skip
    body.update(changes)
    return body
