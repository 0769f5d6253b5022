"""Ordering and collecting specimens, the daily random list, and laboratory results
(specs/screening.md, "Specimen and chain of custody"; issue 13 items 1, 2 and 4).

Who may start a specimen depends on why: a screen for cause or a scheduled one is an order
(`screening.order`: nurses, clinicians, supervisors); the floor starts the ones every client
gets, at admission and on return from a pass (`screening.collect`: technicians too). Random
specimens come only from the day's random list (`screening.random_draw`).
"""

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from clients.models import Admission, Leave
from facility import policy
from facility.models import Facility, User
from screening import draw
from screening.custody import TEMPERATURE_RANGE, TEMPERATURE_READ_WITHIN, temperature_acceptable
from screening.identifiers import new_specimen_id
from screening.models import (
    CustodyEvent,
    CustodyPurpose,
    LabResult,
    PocTest,
    RandomDraw,
    Specimen,
    SpecimenReason,
    SpecimenStatus,
    SpecimenType,
)
from screening.services import results
from screening.services.custody import custody_first_event, judged_chain

ORDERED_REASONS = (SpecimenReason.FOR_CAUSE, SpecimenReason.SCHEDULED)
FLOOR_REASONS = (SpecimenReason.ADMISSION, SpecimenReason.RETURN_FROM_PASS)
RECOLLECTION_REASON = "Recollection after a flagged temperature"
# The client's signature as drawn on the tablet: SVG path data of moves and lines only, in
# canvas pixels (static/js/signature.js), so nothing else can ride along into the page.
SIGNATURE_MAX = 20000
_SIGNATURE = re.compile(r"(?:[ML]\d{1,4}(?:\.\d{1,2})? \d{1,4}(?:\.\d{1,2})? ?)+")


def capability_for(reason: str) -> str:
    """The capability that starts a specimen for this reason."""
    return "screening.order" if reason in ORDERED_REASONS else "screening.collect"


def local_day_bounds(day, tz) -> tuple[datetime, datetime]:
    """The instants a facility's local day starts and ends (23 or 25 hours on a DST day)."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def _new_specimen(**fields) -> Specimen:
    """A specimen with a fresh ID; a taken ID (the unique constraint) is drawn again."""
    for _ in range(5):
        try:
            with transaction.atomic():
                return Specimen.objects.create(specimen_id=new_specimen_id(), **fields)
        except IntegrityError as exc:
            if "specimen_id" not in str(exc):
                raise
    raise RuntimeError("five specimen IDs in a row were taken")  # ~never: 30**8 IDs


def _open_stay(admission: Admission) -> None:
    if admission.discharged_at is not None:
        raise ValidationError("This client has been discharged.")


@transaction.atomic
def specimen_order(
    *,
    actor: User,
    admission: Admission,
    reason: str,
    reason_detail: str = "",
    leave: Leave | None = None,
    specimen_type: str = SpecimenType.URINE,
    now: datetime | None = None,
) -> Specimen:
    """Start a specimen for a client: ordered, to be collected. For cause says why; a return
    from pass names the leave it follows. Random ones come from `random_draw_make`."""
    if reason == SpecimenReason.RANDOM:
        raise ValidationError({"reason": "Random specimens come from the day's random list."})
    if reason not in SpecimenReason.values:
        raise ValidationError({"reason": "Reason: choose one from the list."})
    policy.require(actor, capability_for(reason), admission)
    _open_stay(admission)
    now = now or timezone.now()
    reason_detail = " ".join((reason_detail or "").split())
    errors = {}
    if specimen_type not in SpecimenType.values:
        errors["specimen_type"] = "Specimen type: choose urine or oral fluid."
    if reason == SpecimenReason.FOR_CAUSE and not reason_detail:
        errors["reason_detail"] = "Why: a screen for cause says what prompted it."
    if reason == SpecimenReason.RETURN_FROM_PASS:
        if leave is None:
            errors["leave"] = "Leave: choose the pass the client returned from."
        elif leave.admission_id != admission.pk:
            errors["leave"] = "Leave: that leave belongs to another stay."
        elif leave.returned_at is None:
            errors["leave"] = "Leave: the client's return is not recorded yet; record it first."
    elif leave is not None:
        leave = None  # only a return from pass names a leave
    if errors:
        raise ValidationError(errors)
    return _new_specimen(
        admission=admission,
        specimen_type=specimen_type,
        reason=reason,
        reason_detail=reason_detail[:300],
        leave=leave,
        status=SpecimenStatus.ORDERED,
        ordered_at=now,
        ordered_by=actor,
        recorded_at=now,
        recorded_by=actor,
    )


@transaction.atomic
def specimen_recollect(*, actor: User, specimen: Specimen, now: datetime | None = None) -> Specimen:
    """An observed recollection of a flagged specimen (temperature out of range or read late):
    a new specimen for the same reason that points back with `recollection_of`; its collection
    must be observed (specs/screening.md)."""
    policy.require(actor, "screening.collect", specimen)
    specimen = Specimen.objects.select_for_update().select_related("admission").get(pk=specimen.pk)
    _open_stay(specimen.admission)
    if not specimen.flagged or specimen.status != SpecimenStatus.COLLECTED:
        raise ValidationError("Only a flagged specimen is recollected under observation.")
    pending = specimen.recollections.filter(status=SpecimenStatus.ORDERED).first()
    if pending is not None:
        return pending
    now = now or timezone.now()
    return _new_specimen(
        admission=specimen.admission,
        specimen_type=specimen.specimen_type,
        reason=specimen.reason,
        reason_detail=specimen.reason_detail,
        random_draw=specimen.random_draw,
        leave=specimen.leave,
        recollection_of=specimen,
        status=SpecimenStatus.ORDERED,
        ordered_at=now,
        ordered_by=actor,
        recorded_at=now,
        recorded_by=actor,
    )


# ---------------------------------------------------------------- the daily random list


def tested_on(facility: Facility, day) -> Q:
    """Stays with a specimen collected or refused on the facility's local `day`."""
    start, end = local_day_bounds(day, facility.tz)
    return Q(
        Exists(
            Specimen.objects.filter(
                admission=OuterRef("pk"),
                status__in=[SpecimenStatus.COLLECTED, SpecimenStatus.REFUSED],
                collected_at__gte=start,
                collected_at__lt=end,
            )
        )
    )


def random_pool(facility: Facility, now: datetime) -> list[str]:
    """Who can be drawn now: the facility's current stays, less those tested today on its
    clock, as sorted admission public ids. A client on leave stays in the pool (the safer
    reading: a pass is no exemption; a drawn client is collected on return)."""
    day = timezone.localtime(now, facility.tz).date()
    stays = (
        Admission.objects.current()
        .filter(facility=facility, admitted_at__lte=now)
        .exclude(tested_on(facility, day))
    )
    return sorted(str(pid) for pid in stays.values_list("public_id", flat=True))


@transaction.atomic
def random_draw_make(
    *, actor: User, facility: Facility, percent: int = draw.DEFAULT_RANDOM_PERCENT, now=None
) -> RandomDraw:
    """Draw today's random list (issue 13 item 1): `percent` of the pool, with a recorded seed,
    one draw per facility per local day (a database constraint). Each client drawn gets a random
    specimen to collect. The pool is fixed before the seed is chosen."""
    policy.require(actor, "screening.random_draw", facility)
    Facility.objects.select_for_update().get(pk=facility.pk)  # one draw at a time, per facility
    now = now or timezone.now()
    if not isinstance(percent, int) or not 1 <= percent <= 100:
        raise ValidationError({"percent": "Percent: a whole number from 1 to 100."})
    day = timezone.localtime(now, facility.tz).date()
    earlier = RandomDraw.objects.filter(facility=facility, day=day).select_related("drawn_by")
    if earlier.exists():
        first = earlier.get()
        at = timezone.localtime(first.drawn_at, facility.tz)
        raise ValidationError(
            f"Today's random list was already drawn at {at:%H:%M} by {first.drawn_by.signature}."
        )
    pool = random_pool(facility, now)
    if not pool:
        raise ValidationError(
            {"percent": "Nobody can be drawn: every current client was already tested today."}
        )
    seed = secrets.token_hex(16)
    chosen = draw.select(pool, seed=seed, percent=percent)
    try:
        with transaction.atomic():
            made = RandomDraw.objects.create(
                facility=facility, day=day, percent=percent, seed=seed, pool=pool,
                drawn_at=now, drawn_by=actor,
            )  # fmt: skip
    except IntegrityError:
        raise ValidationError("Today's random list was already drawn.") from None
    stays = Admission.objects.in_bulk([uuid.UUID(c) for c in chosen], field_name="public_id")
    for public_id in chosen:
        _new_specimen(
            admission=stays[uuid.UUID(public_id)],
            reason=SpecimenReason.RANDOM,
            random_draw=made,
            status=SpecimenStatus.ORDERED,
            ordered_at=now,
            ordered_by=actor,
            recorded_at=now,
            recorded_by=actor,
        )
    return made


def draw_check(made: RandomDraw) -> bool:
    """The draw's specimens are exactly the ones its record selects (pool, seed, percent)."""
    chosen = draw.select(made.pool, seed=made.seed, percent=made.percent)
    drawn = made.specimens.filter(recollection_of__isnull=True)
    return sorted(chosen) == sorted(str(p) for p in drawn.values_list("admission__public_id",
                                                                       flat=True))  # fmt: skip


# ---------------------------------------------------------------- collection


@dataclass(frozen=True)
class Collection:
    """What the collector records (specs/screening.md, "Specimen and chain of custody")."""

    collected_at: datetime
    observed: bool | None
    observer: User | None = None
    observed_reason: str = ""
    temperature: Decimal | None = None
    temperature_unit: str = ""
    temperature_read_at: datetime | None = None
    volume_adequate: bool | None = None
    split: bool | None = None
    seal_applied: bool = False
    seal_initialed: bool = False
    client_signature: str = ""
    client_declined_to_sign: bool = False
    remarks: str = ""


def flag_reasons(*, value: Decimal, unit: str, read_after: timedelta) -> str:
    """Why a temperature is not acceptable, in words ("" when it is)."""
    if temperature_acceptable(value=value, unit=unit, read_after=read_after):
        return ""
    low, high = TEMPERATURE_RANGE[unit]
    reasons = []
    if not low <= value <= high:
        reasons.append(f"Temperature {value} °{unit} is outside {low}–{high} °{unit}.")
    minutes = int(TEMPERATURE_READ_WITHIN.total_seconds() // 60)
    if read_after > TEMPERATURE_READ_WITHIN:
        late = int(read_after.total_seconds() // 60)
        reasons.append(f"Read {late} minutes after collection (within {minutes} minutes required).")
    if read_after < timedelta(0):
        reasons.append("Read before the collection time.")
    return " ".join(reasons)


def signature_valid(data: str) -> bool:
    """Path data the signature pad makes: moves and lines, at least one stroke."""
    return (
        bool(data)
        and len(data) <= SIGNATURE_MAX
        and _SIGNATURE.fullmatch(data.strip()) is not None
        and "L" in data
    )


def _lock_ordered(specimen: Specimen) -> Specimen:
    specimen = (
        Specimen.objects.select_for_update()
        .select_related("admission__client", "admission__facility")
        .get(pk=specimen.pk)
    )
    if specimen.status != SpecimenStatus.ORDERED:
        raise ValidationError(
            f"Specimen {specimen.specimen_id} is already {specimen.get_status_display().lower()}."
        )
    _open_stay(specimen.admission)
    return specimen


def _check_collection(specimen: Specimen, c: Collection, now: datetime) -> dict:
    errors: dict[str, str] = {}
    if c.collected_at > now:
        errors["collected_at"] = "Collected at: cannot be in the future."
    elif c.collected_at < specimen.admission.admitted_at:
        errors["collected_at"] = "Collected at: before the client was admitted."
    if c.observed is None:
        errors["observed"] = "Observed: say whether the collection was observed."
    elif c.observed:
        if c.observer is None:
            errors["observer"] = "Observer: choose who observed the collection."
        elif not policy.in_scope(c.observer, specimen.admission.facility):
            errors["observer"] = "Observer: choose a staff member of this facility."
        if not c.observed_reason.strip():
            errors["observed_reason"] = "Reason observed: say why the collection was observed."
    elif specimen.recollection_of_id is not None:
        errors["observed"] = "Observed: a recollection after a flagged specimen is observed."
    if specimen.specimen_type == SpecimenType.URINE:
        if c.temperature is None:
            errors["temperature"] = "Temperature: read it from the strip on the cup."
        if c.temperature_unit not in ("C", "F"):
            errors["temperature_unit"] = "Temperature unit: choose °C or °F."
        if c.temperature_read_at is None:
            errors["temperature_read_at"] = "Temperature read at: when was it read?"
        elif c.temperature_read_at > now:
            errors["temperature_read_at"] = "Temperature read at: cannot be in the future."
        elif c.temperature_read_at < c.collected_at:
            errors["temperature_read_at"] = "Temperature read at: before the collection time."
    if c.volume_adequate is None:
        errors["volume_adequate"] = "Volume: say whether it is adequate."
    if c.split is None:
        errors["split"] = "Split or single: choose one."
    if not c.seal_applied:
        errors["seal_applied"] = "Seal: apply the tamper-evident seal and tick it here."
    elif not c.seal_initialed and not c.remarks.strip():
        errors["remarks"] = "Remarks: say why the client did not initial the seal."
    if c.client_signature and c.client_declined_to_sign:
        errors["client_signature"] = "Signature: either the client signs or declines, not both."
    elif c.client_signature and not signature_valid(c.client_signature):
        errors["client_signature"] = "Signature: draw it again on the pad."
    elif not c.client_signature and not c.client_declined_to_sign:
        errors["client_signature"] = (
            "Signature: the client signs on the pad, or tick that they declined to sign."
        )
    return errors


@transaction.atomic
def specimen_collect(
    *, actor: User, specimen: Specimen, collection: Collection, now: datetime | None = None
) -> Specimen:
    """Record a collection and open its chain of custody with event #1 (collected: released by
    the client, received by the collector). A temperature out of 32–38 °C / 90–100 °F, or read
    more than 4 minutes after collection, flags the specimen; the page then offers an observed
    recollection."""
    policy.require(actor, "screening.collect", specimen)
    specimen = _lock_ordered(specimen)
    now = now or timezone.now()
    c = collection
    errors = _check_collection(specimen, c, now)
    if errors:
        raise ValidationError(errors)
    flag = ""
    if specimen.specimen_type == SpecimenType.URINE:
        flag = flag_reasons(
            value=c.temperature,
            unit=c.temperature_unit,
            read_after=c.temperature_read_at - c.collected_at,
        )
    specimen.status = SpecimenStatus.COLLECTED
    specimen.collected_at = c.collected_at
    specimen.collector = actor
    specimen.observed = c.observed
    specimen.observer = c.observer if c.observed else None
    specimen.observed_reason = c.observed_reason.strip() if c.observed else ""
    urine = specimen.specimen_type == SpecimenType.URINE
    specimen.temperature = c.temperature if urine else None
    specimen.temperature_unit = c.temperature_unit if urine else ""
    specimen.temperature_read_at = c.temperature_read_at if urine else None
    specimen.flagged = bool(flag)
    specimen.flag_reason = flag[:200]
    specimen.volume_adequate = c.volume_adequate
    specimen.split = c.split
    specimen.seal_applied = True
    specimen.seal_initialed = c.seal_initialed
    specimen.client_signature = "" if c.client_declined_to_sign else c.client_signature.strip()
    specimen.client_declined_to_sign = c.client_declined_to_sign
    specimen.remarks = c.remarks.strip()
    specimen.recorded_at = now
    specimen.recorded_by = actor
    specimen.save()
    custody_first_event(actor=actor, specimen=specimen, now=now)
    return specimen


@transaction.atomic
def specimen_refuse(
    *, actor: User, specimen: Specimen, at: datetime, note: str, now: datetime | None = None
) -> Specimen:
    """The client refuses to provide a specimen: a result in its own right (status refused,
    with who, when and what was said), never a missing row."""
    policy.require(actor, "screening.collect", specimen)
    specimen = _lock_ordered(specimen)
    now = now or timezone.now()
    note = " ".join((note or "").split())
    errors = {}
    if not note:
        errors["refusal_note"] = "Refusal: record what the client said or did."
    if at > now:
        errors["refused_at"] = "Refused at: cannot be in the future."
    elif at < specimen.admission.admitted_at:
        errors["refused_at"] = "Refused at: before the client was admitted."
    if errors:
        raise ValidationError(errors)
    specimen.status = SpecimenStatus.REFUSED
    specimen.collected_at = at
    specimen.collector = actor
    specimen.refusal_note = note[:300]
    specimen.recorded_at = now
    specimen.recorded_by = actor
    specimen.save()
    local = timezone.localtime(at, specimen.admission.facility.tz)
    results.nurse_alert(
        specimen=specimen,
        message=f"{specimen.admission.client.display_name}: refused a drug screen "
        f"({specimen.get_specimen_type_display().lower()}, {specimen.specimen_id}) at "
        f"{local:%H:%M}.",
        dedupe_key=f"screen:refused:{specimen.public_id}",
        link=reverse("screening:specimen", args=[specimen.public_id]),
        now=now,
    )
    return specimen


# ---------------------------------------------------------------- laboratory results


@dataclass(frozen=True)
class LabRow:
    analyte: str
    cutoff_ng_ml: Decimal
    value_ng_ml: Decimal | None
    positive: bool


def lab_receipt(specimen: Specimen) -> CustodyEvent | None:
    """The custody event in which a laboratory received the specimen, if the chain has one."""
    chain = judged_chain(list(specimen.custody.all()))
    return next((e for e in reversed(chain) if e.purpose == CustodyPurpose.LAB_RECEIVED), None)


@transaction.atomic
def lab_result_record(
    *,
    actor: User,
    specimen: Specimen,
    lab_name: str,
    reported_at: datetime,
    rows: list[LabRow],
    now: datetime | None = None,
) -> list[LabResult]:
    """A laboratory's report, per analyte, with the lab's own cutoff and value (specs/screening.md,
    "Point-of-care cup results"). The chain must show the lab's receipt first: a result is only
    as good as the custody behind it."""
    policy.require(actor, "screening.lab_result", specimen)
    specimen = (
        Specimen.objects.select_for_update()
        .select_related("admission__client", "admission__facility")
        .get(pk=specimen.pk)
    )
    now = now or timezone.now()
    if specimen.status != SpecimenStatus.COLLECTED:
        raise ValidationError("Only a collected specimen has a laboratory result.")
    receipt = lab_receipt(specimen)
    if receipt is None:
        raise ValidationError(
            "The chain of custody shows no receipt by a laboratory: record it on the custody "
            "page first."
        )
    errors: dict[str, str] = {}
    lab_name = " ".join((lab_name or "").split())
    if not lab_name:
        errors["lab_name"] = "Laboratory: name the lab that reported."
    if reported_at > now:
        errors["reported_at"] = "Reported at: cannot be in the future."
    elif reported_at < receipt.at:
        errors["reported_at"] = "Reported at: before the lab received the specimen."
    if not rows:
        errors["analyte_1"] = "Enter at least one analyte."
    seen = set(specimen.lab_results.values_list("analyte", flat=True))
    for n, row in enumerate(rows, start=1):
        if row.analyte in seen:
            errors[f"analyte_{n}"] = f"{row.analyte}: already recorded for this specimen."
        seen.add(row.analyte)
    if errors:
        raise ValidationError(errors)
    recorded = [
        LabResult.objects.create(
            specimen=specimen,
            lab_name=lab_name,
            analyte=row.analyte,
            cutoff_ng_ml=row.cutoff_ng_ml,
            value_ng_ml=row.value_ng_ml,
            positive=row.positive,
            reported_at=reported_at,
            recorded_at=now,
            recorded_by=actor,
        )  # fmt: skip
        for row in rows
    ]
    _alert_lab_positives(specimen, lab_name, [r for r in rows if r.positive], now)
    return recorded


def _alert_lab_positives(specimen: Specimen, lab_name: str, positives: list, now) -> None:
    """A lab-confirmed positive alerts the nurse, unless every positive analyte is explained by
    an order active when the specimen was collected (the same expected-analytes lookup as the
    cup result; what was in the body then is what the order may explain)."""
    if not positives:
        return
    explained = results.analytes_explained_for(specimen, specimen.collected_at)
    unexpected = [r.analyte for r in positives if r.analyte not in explained]
    if not unexpected:
        return
    expected = [r.analyte for r in positives if r.analyte in explained]
    also = f" (expected: {', '.join(expected)})" if expected else ""
    results.nurse_alert(
        specimen=specimen,
        message=f"{specimen.admission.client.display_name}: drug screen {specimen.specimen_id}: "
        f"{lab_name} confirmed positive {', '.join(unexpected)}{also}.",
        dedupe_key=f"screen:lab:{specimen.public_id}:{','.join(unexpected)}",
        link=reverse("screening:specimen", args=[specimen.public_id]),
        now=now,
    )


# ---------------------------------------------------------------- lists


def facility_specimens(facility: Facility):
    return Specimen.objects.filter(admission__facility=facility).select_related(
        "admission__client", "admission__unit"
    )


def awaiting_lab_result(facility: Facility):
    """Collected specimens sent to a laboratory (a courier or lab hand-over on the chain, or a
    cup result marked for confirmation) with no laboratory result yet, oldest first."""
    sent = Q(
        Exists(
            CustodyEvent.objects.filter(
                specimen=OuterRef("pk"),
                purpose__in=[CustodyPurpose.TO_COURIER, CustodyPurpose.LAB_RECEIVED],
            )
        )
    ) | Q(Exists(PocTest.objects.filter(specimen=OuterRef("pk"), sent_to_lab=True, struck_at=None)))
    return (
        facility_specimens(facility)
        .filter(status=SpecimenStatus.COLLECTED)
        .filter(sent)
        .exclude(Exists(LabResult.objects.filter(specimen=OuterRef("pk"))))
        .order_by("collected_at")
    )


def to_collect(facility: Facility):
    """Specimens ordered and not yet collected or refused, oldest first."""
    return facility_specimens(facility).filter(status=SpecimenStatus.ORDERED).order_by("ordered_at")
