"""Belongings searches and what becomes of each item (issue 13 item 7; specs/screening.md,
"Belongings searches").

A search records who searched, the witness (a second staff member: required by default), whether
the client was present, the reason (admission; return from a pass, linked to the leave; as
needed, with why), and each item with its disposition. Medications and sharps go to the nurse;
medications brought in are listed for the nurse to log on the MAR. Every change of an item's
disposition appends an ItemMovement (append-only in the database) with who and when. Items
still held (stored, with the nurse) are reconciled at discharge (screening/discharge.py).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clients.models import Admission, Leave
from facility import policy
from facility.models import AlertSeverity, User
from facility.services import alert_raise
from screening.models import (
    HELD,
    BelongingsSearch,
    Disposition,
    ItemCategory,
    ItemMovement,
    SearchItem,
    SearchReason,
)

# Haven's default (specs/screening.md): a second staff member witnesses every search.
WITNESS_REQUIRED = True
ALERT_KIND = "search_finding"
# Categories that never stay with the client: the nurse takes them (specs/screening.md).
TO_NURSE_CATEGORIES = (ItemCategory.MEDICATION, ItemCategory.SHARPS)
# Where an item ends: nothing moves it again.
FINAL = (
    Disposition.RETURNED_TO_FAMILY,
    Disposition.DESTROYED,
    Disposition.LAW_ENFORCEMENT,
    Disposition.RETURNED_TO_CLIENT,
    Disposition.SENT_AT_DISCHARGE,
)
# What a search may decide on the spot; handing back to the client or sending with them is
# for later (a move, or the discharge).
AT_SEARCH = (
    Disposition.KEPT,
    Disposition.TO_NURSE,
    Disposition.STORED,
    Disposition.RETURNED_TO_FAMILY,
    Disposition.DESTROYED,
    Disposition.LAW_ENFORCEMENT,
)


@dataclass
class ItemEntry:
    """One item as the search form gives it."""

    category: str
    description: str
    quantity: int = 1
    contraband: bool = False
    disposition: str = ""
    location: str = ""
    bag_id: str = ""
    witness: User | None = None
    row: int = 0  # the form's row number, which field names and messages use


def _staff_of(user: User | None, admission: Admission) -> bool:
    return (
        user is not None
        and user.is_active
        and admission.facility_id in set(user.facility_ids())
        and policy.allows(user, "floor.chart")
    )


def _where(location: str, bag_id: str) -> str:
    location, bag_id = location.strip(), bag_id.strip()
    return f"{location} · bag {bag_id}" if bag_id else location


def disposition_errors(
    *,
    prefix: str,
    label: str,
    category: str,
    contraband: bool,
    disposition: str,
    location: str,
    bag_id: str,
    witness: User | None,
    actor: User,
    admission: Admission,
    allowed=AT_SEARCH,
) -> dict[str, str]:
    """The rules of one disposition (specs/screening.md), keyed by the form's field names
    (`prefix` + field): stored needs a location and a sealed bag ID; destroyed a witness who is
    another staff member; medication and sharps go to the nurse; contraband never stays with the
    client."""
    errors: dict[str, str] = {}
    key = f"{prefix}disposition"
    if disposition not in allowed:
        names = ", ".join(str(Disposition(d).label).lower() for d in allowed)
        errors[key] = f"{label}: choose what became of it ({names})."
        return errors
    if category in TO_NURSE_CATEGORIES and disposition == Disposition.KEPT:
        errors[key] = f"{label}: medications and sharps go to the nurse, not with the client."
    elif contraband and disposition == Disposition.KEPT:
        errors[key] = f"{label}: contraband cannot stay with the client."
    if disposition == Disposition.STORED:
        if not location.strip():
            errors[f"{prefix}location"] = f"{label}: stored where? Enter the location."
        if not bag_id.strip():
            errors[f"{prefix}bag_id"] = f"{label}: enter the sealed bag's ID."
    witnessed = witness is not None and witness.pk != actor.pk and _staff_of(witness, admission)
    if disposition == Disposition.DESTROYED and not witnessed:
        errors[f"{prefix}witness"] = (
            f"{label}: destruction is witnessed by another staff member of this facility."
        )
    return errors


def _alert(search: BelongingsSearch, items: list[SearchItem], now: datetime) -> None:
    contraband = [i for i in items if i.contraband]
    meds = [i for i in items if i.category == ItemCategory.MEDICATION]
    if not contraband and not meds:
        return
    admission = search.admission
    name = admission.client.display_name
    parts = []
    if contraband:
        parts.append("contraband found: " + ", ".join(f"{i.quantity} × {i.description}"
                                                       for i in contraband))  # fmt: skip
    if meds:
        parts.append(
            "medication brought in, with the nurse to log for the MAR: "
            + ", ".join(f"{i.quantity} × {i.description}" for i in meds)
        )
    alert_raise(
        facility=admission.facility,
        kind=ALERT_KIND,
        severity=AlertSeverity.WARNING,
        message=f"{name}: belongings search ({search.get_reason_display().lower()}): "
        + "; ".join(parts)
        + ".",
        dedupe_key=f"screen:search:{search.public_id}",
        client_public_id=admission.client.public_id,
        client_label=name,
        link=reverse("screening:search_detail", args=[search.public_id]),
        now=now,
        audience="nurse",
    )


def returned_leaves(admission: Admission):
    """The stay's leaves the client is back from, newest first (a return-from-pass search
    names one)."""
    return Leave.objects.filter(admission=admission, returned_at__isnull=False).order_by(
        "-returned_at"
    )


@transaction.atomic
def search_record(
    *,
    actor: User,
    admission: Admission,
    reason: str,
    searched_at: datetime,
    client_present: bool,
    items: list[ItemEntry],
    witness: User | None = None,
    reason_detail: str = "",
    leave: Leave | None = None,
    remarks: str = "",
    now: datetime | None = None,
) -> BelongingsSearch:
    """Record a belongings search with its items, each with its first disposition (an
    ItemMovement). Contraband and medications brought in alert the nurse."""
    policy.require(actor, "screening.search", admission)
    admission = (
        Admission.objects.select_for_update()
        .select_related("client", "facility")
        .get(pk=admission.pk)
    )
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if reason not in SearchReason.values:
        errors["reason"] = "Reason: choose admission, return from pass, or as needed."
    if reason == SearchReason.AS_NEEDED and not reason_detail.strip():
        errors["reason_detail"] = "Why: say why the search was needed."
    if reason == SearchReason.RETURN_FROM_PASS:
        if leave is None:
            errors["leave"] = "Pass: choose the leave the client came back from."
        elif leave.admission_id != admission.pk or leave.returned_at is None:
            errors["leave"] = "Pass: choose a leave of this stay the client is back from."
    else:
        leave = None
    if searched_at > now + timedelta(minutes=1):
        errors["searched_at"] = "Searched at: cannot be in the future."
    elif searched_at < admission.admitted_at - timedelta(hours=2):
        errors["searched_at"] = "Searched at: before the client arrived."
    if witness is None and WITNESS_REQUIRED:
        errors["witness"] = "Witness: a second staff member witnesses the search."
    elif witness is not None and (witness.pk == actor.pk or not _staff_of(witness, admission)):
        errors["witness"] = "Witness: another staff member of this facility, not the searcher."
    for index, item in enumerate(items, start=1):
        n = item.row or index
        label = f"Item {n} ({item.description.strip() or 'no description'})"
        if item.category not in ItemCategory.values:
            errors[f"item-{n}-category"] = f"Item {n}: choose a category."
        if not item.description.strip():
            errors[f"item-{n}-description"] = f"Item {n}: describe it."
        if not 1 <= item.quantity <= 999:
            errors[f"item-{n}-quantity"] = f"Item {n}: quantity from 1 to 999."
        errors |= disposition_errors(
            prefix=f"item-{n}-", label=label, category=item.category,
            contraband=item.contraband, disposition=item.disposition, location=item.location,
            bag_id=item.bag_id, witness=item.witness, actor=actor, admission=admission,
        )  # fmt: skip
    if errors:
        raise ValidationError(errors)

    search = BelongingsSearch.objects.create(
        admission=admission,
        reason=reason,
        reason_detail=reason_detail.strip(),
        leave=leave,
        searched_at=searched_at,
        searched_by=actor,
        witness=witness,
        client_present=client_present,
        contraband_found=any(i.contraband for i in items),
        remarks=remarks.strip(),
        recorded_at=max(now, searched_at),
    )
    rows = SearchItem.objects.bulk_create(
        [
            SearchItem(
                search=search,
                category=i.category,
                description=i.description.strip(),
                quantity=i.quantity,
                contraband=i.contraband,
                disposition=i.disposition,
                location=i.location.strip() if i.disposition == Disposition.STORED else "",
                bag_id=i.bag_id.strip() if i.disposition == Disposition.STORED else "",
                disposed_at=searched_at,
                disposed_by=actor,
                witness=i.witness if i.disposition == Disposition.DESTROYED else None,
            )
            for i in items
        ]
    )
    ItemMovement.objects.bulk_create(
        [
            ItemMovement(
                item=row,
                disposition=row.disposition,
                location=_where(row.location, row.bag_id),
                at=searched_at,
                by=actor,
                witness=row.witness,
                recorded_at=now,
            )  # fmt: skip
            for row in rows
        ]
    )
    _alert(search, rows, now)
    return search


@transaction.atomic
def item_move(
    *,
    actor: User,
    item: SearchItem,
    disposition: str,
    location: str = "",
    bag_id: str = "",
    witness: User | None = None,
    client_signature: str = "",
    override_reason: str = "",
    at: datetime | None = None,
    allowed=None,
    now: datetime | None = None,
) -> SearchItem:
    """Change what became of an item, with who and when: the item holds its latest disposition
    and an ItemMovement is appended. An item returned, destroyed, handed over or sent is done.
    Returned to the client needs the client's signature."""
    item = (
        SearchItem.objects.select_for_update()
        .select_related("search__admission__client", "search__admission__facility")
        .get(pk=item.pk)
    )
    admission = item.search.admission
    # Property outlives the stay (left behind at discharge, collected by family later): the
    # capability and the facility, without the open-stay rule that charting has.
    policy.require(actor, "screening.search")
    if not policy.in_scope(actor, item.search):
        raise policy.OutOfScope("This record belongs to another facility.")
    now = now or timezone.now()
    at = at or now
    label = f"{item.description}"
    if item.disposition in FINAL:
        raise ValidationError(
            {"disposition": f"{label}: already {item.get_disposition_display().lower()}."}
        )
    allowed = allowed or tuple(d for d in Disposition.values if d != Disposition.SENT_AT_DISCHARGE)
    errors = disposition_errors(
        prefix="", label=label, category=item.category, contraband=item.contraband,
        disposition=disposition, location=location, bag_id=bag_id, witness=witness, actor=actor,
        admission=admission, allowed=allowed,
    )  # fmt: skip
    if disposition == Disposition.RETURNED_TO_CLIENT and not client_signature.strip():
        errors["client_signature"] = f"{label}: the client signs for what is returned to them."
    if disposition == Disposition.RETURNED_TO_CLIENT and item.contraband:
        errors["disposition"] = f"{label}: contraband is not handed back to the client on site."
    if at > now + timedelta(minutes=1):
        errors["at"] = "When: cannot be in the future."
    elif at < item.disposed_at - timedelta(minutes=1):
        errors["at"] = "When: before its last move."
    # A time typed to the minute may fall in the minute of the last move: never before it.
    at = max(at, item.disposed_at)
    if errors:
        raise ValidationError(errors)
    stored = disposition == Disposition.STORED
    item.disposition = disposition
    item.location = location.strip() if stored else ""
    item.bag_id = bag_id.strip() if stored else ""
    item.disposed_at = at
    item.disposed_by = actor
    item.witness = witness if disposition == Disposition.DESTROYED else None
    item.save(
        update_fields=["disposition", "location", "bag_id", "disposed_at", "disposed_by", "witness"]
    )
    ItemMovement.objects.create(
        item=item, disposition=disposition, location=_where(item.location, item.bag_id), at=at,
        by=actor, witness=item.witness, client_signature=client_signature.strip(),
        override_reason=override_reason.strip(), recorded_at=now,
    )  # fmt: skip
    return item


def held_items(admission: Admission):
    """The stay's items still in the facility's keeping (stored, with the nurse)."""
    return (
        SearchItem.objects.filter(search__admission=admission, disposition__in=HELD)
        .select_related("search")
        .order_by("search__searched_at", "pk")
    )


def item_override(*, actor: User, item: SearchItem, reason: str, at: datetime) -> ItemMovement:
    """A supervisor leaves an item unsettled at discharge (property.override): the item stays
    where it is, and a movement records who overrode, when and why."""
    policy.require(actor, "property.override", item.search)
    return ItemMovement.objects.create(
        item=item, disposition=item.disposition, location=_where(item.location, item.bag_id),
        at=at, by=actor, override_reason=reason.strip()[:300], recorded_at=timezone.now(),
    )  # fmt: skip
