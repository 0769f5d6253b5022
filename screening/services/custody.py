"""The chain of custody of a specimen: appending hand-overs and corrections (specs/screening.md,
"Specimen and chain of custody"; issue 13 item 3).

Events are append-only (a database trigger refuses UPDATE and DELETE). A correction is a new
event that points at the one it corrects, and in the chain that is judged and shown, the
correction *stands in the place* of the event it corrects: the chain is read in `seq` order, and
a correction replaces its original at the original's position (a correction of a correction
replaces that one in turn). The original stays visible on the timeline, struck through.

Every append is judged with screening.custody.custody_breaks on the chain as it would be with the
new event in place, under a row lock on the specimen, so two people handing over at once cannot
both be "next". An event that would itself break the chain (a holder gap, time going backward, a
seal intact after it was recorded broken) is refused with a message naming what the chain
expects. A broken seal is never taken back: once any record, a superseded one included, says
the seal was broken at some point of the chain, no correction or later event may record it intact
at or after that point (seal_broken_at_or_before). A correction of a middle event may leave a
later event no longer matching (the timeline then marks that event as a break, to be corrected
in turn): refusing it would make a wrong name in the middle of a chain impossible to correct.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from facility import policy
from facility.models import User
from screening.custody import custody_breaks
from screening.models import CustodyEvent, CustodyPurpose, Specimen, SpecimenStatus

NAME_MAX = 160


def clean_name(text: str) -> str:
    """A holder's name as written: spaces collapsed."""
    return " ".join((text or "").split())


def judged_chain(events) -> list[CustodyEvent]:
    """The chain as judged and shown: events in `seq` order, each correction standing in place
    of the event it corrects."""
    return _slots(events)[0]


def _slots(events) -> tuple[list[CustodyEvent], dict[int, int]]:
    """The judged chain, and the 0-based position of every event (pk -> position), a
    superseded one included: a correction holds the position of the event it corrects."""
    slots: list[CustodyEvent] = []
    slot_of: dict[int, int] = {}
    for event in sorted(events, key=lambda e: e.seq):
        if event.corrects_id is not None and event.corrects_id in slot_of:
            index = slot_of[event.corrects_id]
            slots[index] = event
        else:
            index = len(slots)
            slots.append(event)
        slot_of[event.pk] = index
    return slots, slot_of


def seal_broken_at_or_before(events, position: int) -> CustodyEvent | None:
    """The first record, in force or superseded, that says the seal was broken at `position` of
    the chain or before it.

    The rule (specs/screening.md: "once a seal is recorded broken, no later event may record it
    intact") is kept strict: a record of a broken seal is never taken back. A correction is a
    later event too, so correcting the broken entry itself (or any later one) to "seal intact"
    is refused, even though the broken record would then be superseded: otherwise one tick would
    make the break vanish from the judged chain. A correction may still fix anything else of
    that entry (a name, a time) while it keeps the seal broken."""
    slot_of = _slots(events)[1]
    broken = [e for e in events if not e.seal_intact and slot_of[e.pk] <= position]
    return min(broken, key=lambda e: (slot_of[e.pk], e.seq), default=None)


def as_rule_input(event) -> dict:
    return {
        "at": event.at,
        "released_by": event.released_by,
        "received_by": event.received_by,
        "seal_intact": event.seal_intact,
    }


@dataclass(frozen=True)
class TimelineRow:
    """One hand-over on the custody timeline: the event in force, the versions it corrected
    (struck through), and whether the judged chain breaks there."""

    event: CustodyEvent
    position: int  # 1-based place in the chain
    superseded: tuple
    broken: bool


def custody_timeline(events) -> list[TimelineRow]:
    """The judged chain with what each correction replaced, and the breaks custody_breaks finds
    (none, unless a correction of a middle event left a later one to correct)."""
    events = list(events)
    chain = judged_chain(events)
    breaks = set(custody_breaks([as_rule_input(e) for e in chain]))
    by_pk = {e.pk: e for e in events}
    rows = []
    for index, event in enumerate(chain):
        superseded = []
        current = event
        while current.corrects_id is not None and current.corrects_id in by_pk:
            current = by_pk[current.corrects_id]
            superseded.append(current)
        rows.append(TimelineRow(event, index + 1, tuple(superseded), index in breaks))
    return rows


def current_holder(events) -> str:
    """Who holds the specimen now: the last judged event's "received by" ("" without a chain)."""
    chain = judged_chain(list(events))
    return chain[-1].received_by if chain else ""


def _staff_named(specimen: Specimen, name: str) -> User | None:
    """The staff member of the specimen's facility whose signature ("Full Name, BHT") or full
    name is `name`, so a staff holder keeps their account as well as their name."""
    wanted = name.casefold()
    staff = User.objects.filter(facilities=specimen.admission.facility_id, is_active=True)
    found = [u for u in staff if wanted in (u.signature.casefold(), u.full_name.casefold())]
    return found[0] if len(found) == 1 else None


def _when(at: datetime, specimen: Specimen) -> str:
    return timezone.localtime(at, specimen.admission.facility.tz).strftime("%Y-%m-%d %H:%M")


def _refusal(chain: list, position: int, new: dict, specimen: Specimen) -> dict:
    """Field messages for the rules the event at `position` breaks, naming what is expected."""
    errors: dict[str, str] = {}
    earlier = chain[:position]
    if not earlier:
        return errors
    previous = earlier[-1]
    if new["released_by"] != previous.received_by:
        at_end = position == len(chain)
        who = (
            "who holds the specimen now"
            if at_end
            else f"who held the specimen after #{previous.seq}"
        )
        errors["released_by"] = f"Released by must be {previous.received_by}, {who}."
    latest = max(earlier, key=lambda e: e.at)
    if new["at"] < latest.at:
        errors["at"] = (
            f"Time: the specimen was already handed over at {_when(latest.at, specimen)} "
            f"(#{latest.seq}); a hand-over cannot be earlier."
        )
    broken = next((e for e in earlier if not e.seal_intact), None)
    if broken is not None and new["seal_intact"]:
        errors["seal_intact"] = (
            f"Seal intact: the seal was recorded broken at #{broken.seq} "
            f"({_when(broken.at, specimen)}); it cannot be intact again."
        )
    return errors or {"__all__": "This hand-over would break the chain of custody."}


def _append(
    *,
    actor: User,
    specimen: Specimen,
    events: list,
    at: datetime,
    released_by: str,
    received_by: str,
    purpose: str,
    seal_intact: bool,
    storage_location: str,
    remarks: str,
    corrects: CustodyEvent | None,
    now: datetime,
    received_by_user: User | None = None,
    released_by_client: bool = False,
) -> CustodyEvent:
    """Judge and write one event; the caller holds the specimen's lock and read `events`. A
    holder named like a staff member of the facility keeps that account too (not the client,
    who releases the specimen at collection)."""
    released_by, received_by = clean_name(released_by), clean_name(received_by)
    storage_location, remarks = clean_name(storage_location), (remarks or "").strip()
    chain = judged_chain(events)
    errors: dict[str, str] = {}
    if at > now:
        errors["at"] = "Time: cannot be in the future."
    if not released_by:
        errors["released_by"] = "Released by: name who hands the specimen over."
    if not received_by:
        errors["received_by"] = "Received by: name who takes the specimen."
    if len(released_by) > NAME_MAX or len(received_by) > NAME_MAX:
        errors["received_by"] = f"Names: at most {NAME_MAX} characters."
    if released_by and released_by.casefold() == received_by.casefold():
        errors["received_by"] = "Received by: the specimen changes hands; name who takes it."
    if purpose not in CustodyPurpose.values:
        errors["purpose"] = "Purpose: choose one from the list."
    if purpose == CustodyPurpose.TO_STORAGE and not storage_location:
        errors["storage_location"] = "Storage location: say where the specimen is kept."
    position = len(chain)
    if corrects is not None:
        if corrects.specimen_id != specimen.pk:
            raise ValidationError({"corrects": "That entry belongs to another specimen."})
        if corrects not in chain:
            newer = next(e for e in chain if _supersedes(e, corrects, events))
            raise ValidationError(
                {
                    "corrects": f"Entry #{corrects.seq} was already corrected by #{newer.seq}: "
                    f"correct #{newer.seq}."
                }  # fmt: skip
            )
        position = chain.index(corrects)
        if not remarks:
            errors["remarks"] = "Remarks: say what this correction changes and why."
        first = position == 0
        if (purpose == CustodyPurpose.COLLECTED) != first:
            errors["purpose"] = (
                "Purpose: the first entry is the collection."
                if first
                else "Purpose: only the first entry is the collection."
            )
    else:
        if purpose == CustodyPurpose.COLLECTED and chain:
            errors["purpose"] = "Purpose: the specimen was already collected (#1)."
        if not chain and purpose != CustodyPurpose.COLLECTED:
            errors["purpose"] = "Purpose: a chain starts with the collection."
        if chain and chain[-1].purpose == CustodyPurpose.DESTROYED:
            raise ValidationError(
                f"This specimen was destroyed (#{chain[-1].seq}, "
                f"{_when(chain[-1].at, specimen)}): no hand-over can follow."
            )
    if errors:
        raise ValidationError(errors)
    # The chain's judgement is made on exactly what will be stored.
    expected = chain[position - 1].received_by if position > 0 else None
    if expected is not None and released_by.casefold() == expected.casefold():
        released_by = expected  # "storage fridge 2" is the "Storage fridge 2" holding it
    new = {"at": at, "released_by": released_by, "received_by": received_by,
           "seal_intact": bool(seal_intact)}  # fmt: skip
    candidate = [as_rule_input(e) for e in chain]
    if corrects is not None:
        candidate[position] = new
    else:
        candidate.append(new)
    if position in custody_breaks(candidate):
        raise ValidationError(_refusal(chain, position, new, specimen))
    broken = seal_broken_at_or_before(events, position) if new["seal_intact"] else None
    if broken is not None:
        raise ValidationError(
            {
                "seal_intact": f"Seal intact: the seal was recorded broken at #{broken.seq} "
                f"({_when(broken.at, specimen)}); no correction or later entry can record it "
                "intact."
            }  # fmt: skip
        )
    seq = max((e.seq for e in events), default=0) + 1
    return CustodyEvent.objects.create(
        specimen=specimen,
        seq=seq,
        at=at,
        released_by=released_by,
        released_by_user=None if released_by_client else _staff_named(specimen, released_by),
        received_by=received_by,
        received_by_user=received_by_user or _staff_named(specimen, received_by),
        purpose=purpose,
        seal_intact=bool(seal_intact),
        storage_location=storage_location,
        remarks=remarks,
        corrects=corrects,
        recorded_at=now,
        recorded_by=actor,
    )


def _supersedes(event: CustodyEvent, old: CustodyEvent, events: list) -> bool:
    by_pk = {e.pk: e for e in events}
    current = event
    while current.corrects_id is not None and current.corrects_id in by_pk:
        if current.corrects_id == old.pk:
            return True
        current = by_pk[current.corrects_id]
    return False


@transaction.atomic
def custody_append(
    *,
    actor: User,
    specimen: Specimen,
    at: datetime,
    released_by: str,
    received_by: str,
    purpose: str,
    seal_intact: bool,
    storage_location: str = "",
    remarks: str = "",
    corrects: CustodyEvent | None = None,
    now: datetime | None = None,
) -> CustodyEvent:
    """Record one hand-over of a collected specimen, or a correction of an earlier entry
    (specs/screening.md: no gaps, time never goes backward, a broken seal is never intact again,
    a correction is a new event that references the one it corrects).

    Judged under a lock on the specimen, with the clock read after the lock is held."""
    policy.require(actor, "screening.custody", specimen)
    specimen = (
        Specimen.objects.select_for_update()
        .select_related("admission__facility")
        .get(pk=specimen.pk)
    )
    now = now or timezone.now()
    if specimen.status != SpecimenStatus.COLLECTED:
        raise ValidationError(
            f"Specimen {specimen.specimen_id} is {specimen.get_status_display().lower()}: "
            "only a collected specimen has a chain of custody."
        )
    events = list(specimen.custody.order_by("seq"))
    if corrects is not None and corrects.specimen_id != specimen.pk:
        raise ValidationError({"corrects": "That entry belongs to another specimen."})
    return _append(
        actor=actor,
        specimen=specimen,
        events=events,
        at=at,
        released_by=released_by,
        received_by=received_by,
        purpose=purpose,
        seal_intact=seal_intact,
        storage_location=storage_location,
        remarks=remarks,
        corrects=corrects,
        now=now,
    )


def custody_first_event(*, actor: User, specimen: Specimen, now: datetime) -> CustodyEvent:
    """Event #1 of a collection: released by the client (by name) to the collector. Called by
    specimen_collect inside its transaction, with the specimen locked."""
    client = specimen.admission.client
    return _append(
        actor=actor,
        specimen=specimen,
        events=[],
        at=specimen.collected_at,
        released_by=client.legal_name,
        received_by=specimen.collector.signature,
        received_by_user=specimen.collector,
        released_by_client=True,
        purpose=CustodyPurpose.COLLECTED,
        seal_intact=True,
        storage_location="",
        remarks="",
        corrects=None,
        now=now,
    )
