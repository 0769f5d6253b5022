"""Point-of-care cup results (issue 13 items 4 and 5; specs/screening.md, "Point-of-care cup
results"): the device and its lot (not expired on the test day), a reading per analyte of the
device, the adulterant pads, and whether a presumptive positive is *expected* (explained by an
active order, through the expected-analytes registry: screening never imports medications).

An unexpected presumptive positive, an invalid strip or an abnormal adulterant pad alerts the
nurse. One live result per specimen: another needs the first struck with a reason.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from facility import policy, registry
from facility.models import AlertSeverity, User
from facility.services import alert_raise
from screening.defaults import ANALYTE_NAMES, analyte_sort_key, ordered_analytes
from screening.models import (
    AnalyteResult,
    Device,
    DeviceKind,
    DeviceLot,
    PocTest,
    Reading,
    Specimen,
    SpecimenStatus,
)

PAD_VALUES = ("normal", "abnormal")
ALERT_KIND = "screen_result"


def analyte_label(code: str) -> str:
    name = ANALYTE_NAMES.get(code)
    return f"{code} ({name})" if name else code


def lot_expired(lot: DeviceLot, day) -> bool:
    """Expired on the test day: its expiry date is before that day (a lot is good through its
    expiry date)."""
    return lot.expires_on < day


def _check_device_and_lot(specimen: Specimen, device: Device, lot: DeviceLot, day) -> dict:
    errors: dict[str, str] = {}
    facility_id = specimen.admission.facility_id
    if device.facility_id != facility_id or device.kind != DeviceKind.CUP or not device.active:
        errors["device"] = "Device: choose one of this facility's cups in use."
    elif lot.device_id != device.pk:
        errors["lot"] = f"Lot: lot {lot.lot} is not a lot of the {device}."
    elif lot_expired(lot, day):
        errors["lot"] = (
            f"Lot: lot {lot.lot} expired on {lot.expires_on:%Y-%m-%d}; read the specimen with "
            "a cup from an unexpired lot."
        )
    return errors


def _check_readings(device: Device, readings: dict, adulterants: dict) -> dict:
    errors: dict[str, list[str]] = {}
    analytes = ordered_analytes(device.cutoffs)
    unknown = sorted(set(readings) - set(analytes))
    if unknown:
        errors.setdefault("readings", []).append(
            f"Readings: {', '.join(unknown)} is not on the {device}."
        )
    missing = [a for a in analytes if readings.get(a) not in Reading.values]
    if missing:
        errors.setdefault("readings", []).append(
            f"Readings: {', '.join(missing)} not read; mark each negative, positive or invalid, "
            "or tap “All negative” first and then mark the exceptions."
        )
    pads = list(device.adulterant_pads or [])
    unknown_pads = sorted(set(adulterants) - set(pads))
    if unknown_pads:
        errors.setdefault("adulterants", []).append(
            f"Adulterant pads: {', '.join(unknown_pads)} is not on the {device}."
        )
    unread = [p for p in pads if adulterants.get(p) not in PAD_VALUES]
    if unread:
        errors.setdefault("adulterants", []).append(
            f"Adulterant pads: {', '.join(unread)} not read; mark each normal or abnormal."
        )
    return errors


@dataclass(frozen=True)
class Finding:
    """What the nurse is told about one result."""

    unexpected: list[str]
    expected: list[str]
    invalid: list[str]
    abnormal_pads: list[str]

    @property
    def needs_nurse(self) -> bool:
        return bool(self.unexpected or self.invalid or self.abnormal_pads)


def finding_of(test: PocTest, rows: list[AnalyteResult]) -> Finding:
    rows = sorted(rows, key=lambda r: analyte_sort_key(r.analyte))
    positives = [r for r in rows if r.reading == Reading.PRESUMPTIVE_POSITIVE]
    return Finding(
        unexpected=[r.analyte for r in positives if not r.expected_by],
        expected=[r.analyte for r in positives if r.expected_by],
        invalid=[r.analyte for r in rows if r.reading == Reading.INVALID],
        abnormal_pads=[p for p, v in sorted((test.adulterants or {}).items()) if v == "abnormal"],
    )


def _alert(test: PocTest, specimen: Specimen, finding: Finding, now: datetime) -> None:
    admission = specimen.admission
    name = admission.client.display_name
    parts = []
    if finding.unexpected:
        parts.append(f"unexpected presumptive positive {', '.join(finding.unexpected)}")
    if finding.invalid:
        parts.append(f"invalid strip {', '.join(finding.invalid)}")
    if finding.abnormal_pads:
        parts.append(f"abnormal adulterant pad {', '.join(finding.abnormal_pads)}")
    expected = f" (expected: {', '.join(finding.expected)})" if finding.expected else ""
    nurse_alert(
        specimen=specimen,
        message=f"{name}: drug screen {specimen.specimen_id}: {'; '.join(parts)}{expected}.",
        dedupe_key=f"screen:poc:{test.public_id}",
        link=reverse("screening:poc_result", args=[test.public_id]),
        now=now,
    )


def nurse_alert(
    *, specimen: Specimen, message: str, dedupe_key: str, link: str, now: datetime
) -> None:
    """A drug-screen result the nurse must see (a warning for the nurse's audience): an
    unexpected cup positive, a refusal, a lab-confirmed unexpected positive."""
    admission = specimen.admission
    alert_raise(
        facility=admission.facility,
        kind=ALERT_KIND,
        severity=AlertSeverity.WARNING,
        message=message,
        dedupe_key=dedupe_key,
        client_public_id=admission.client.public_id,
        client_label=admission.client.display_name,
        link=link,
        now=now,
        audience="nurse",
    )


def analytes_explained_for(specimen: Specimen, at: datetime) -> dict[str, str]:
    """The analytes an active order of the client explains at `at`, with the order's words
    (the expected-analytes registry: screening never imports medications)."""
    admission_id = specimen.admission_id
    return registry.analytes_explained([admission_id], at=at).get(admission_id, {})


def live_test(specimen: Specimen) -> PocTest | None:
    return specimen.poc_tests.filter(struck_at__isnull=True).first()


@transaction.atomic
def poc_test_record(
    *,
    actor: User,
    specimen: Specimen,
    device: Device,
    lot: DeviceLot,
    readings: dict[str, str],
    adulterants: dict[str, str],
    tested_at: datetime | None = None,
    now: datetime | None = None,
) -> PocTest:
    """Record the cup read of a collected specimen (specs/screening.md): each analyte of the
    device with the device's cutoff, each adulterant pad, and the expected analytes found at the
    test time. Refuses an expired lot (by the facility's calendar), a specimen not collected,
    and a second live result."""
    policy.require(actor, "screening.poc", specimen)
    specimen = (
        Specimen.objects.select_for_update()
        .select_related("admission__client", "admission__facility")
        .get(pk=specimen.pk)
    )
    now = now or timezone.now()
    tested_at = tested_at or now
    tz = specimen.admission.facility.tz
    errors: dict = {}
    if specimen.status != SpecimenStatus.COLLECTED:
        raise ValidationError(
            f"Specimen {specimen.specimen_id} is {specimen.get_status_display().lower()}: only a "
            "collected specimen has a cup result."
        )
    if live_test(specimen) is not None:
        raise ValidationError(
            f"Specimen {specimen.specimen_id} already has a result; strike it (entered in error) "
            "to record another."
        )
    if tested_at > now:
        errors["tested_at"] = "Read at: cannot be in the future."
    elif specimen.collected_at and tested_at < specimen.collected_at:
        errors["tested_at"] = (
            f"Read at: before the specimen was collected "
            f"({timezone.localtime(specimen.collected_at, tz):%H:%M})."
        )
    errors |= _check_device_and_lot(specimen, device, lot, timezone.localtime(tested_at, tz).date())
    if "device" not in errors:
        errors |= _check_readings(device, readings, adulterants)
    if errors:
        raise ValidationError(errors)

    explained = analytes_explained_for(specimen, tested_at)
    test = PocTest.objects.create(
        specimen=specimen,
        device=device,
        lot=lot,
        tested_at=tested_at,
        tested_by=actor,
        adulterants={p: adulterants[p] for p in device.adulterant_pads or []},
        recorded_at=now,
    )
    positive = Reading.PRESUMPTIVE_POSITIVE
    rows = [
        AnalyteResult(
            test=test,
            analyte=code,
            cutoff_ng_ml=int(device.cutoffs[code]),
            reading=readings[code],
            # Only a positive is explained; the order's words as found at the test time.
            expected_by=explained.get(code, "")[:200] if readings[code] == positive else "",
        )
        for code in ordered_analytes(device.cutoffs)
    ]
    AnalyteResult.objects.bulk_create(rows)
    finding = finding_of(test, rows)
    if finding.needs_nurse:
        _alert(test, specimen, finding, now)
    return test


@transaction.atomic
def poc_test_strike(*, actor: User, test: PocTest, reason: str, now: datetime | None = None):
    """Entered in error: the result stays visible, struck, with who, when and why."""
    policy.require(actor, "screening.poc", test.specimen)
    test = PocTest.objects.select_for_update().get(pk=test.pk)
    if test.struck_at is not None:
        raise ValidationError("This result is already struck.")
    if not reason.strip():
        raise ValidationError({"reason": "Reason: say why the result is entered in error."})
    test.struck_at = now or timezone.now()
    test.struck_by = actor
    test.struck_reason = reason.strip()
    test.save(update_fields=["struck_at", "struck_by", "struck_reason"])
    return test


def lab_worthy(test: PocTest) -> bool:
    """Something to confirm: a presumptive positive, an invalid strip or an abnormal pad."""
    if any(v == "abnormal" for v in (test.adulterants or {}).values()):
        return True
    return test.analytes.exclude(reading=Reading.NEGATIVE).exists()


@transaction.atomic
def poc_send_to_lab(*, actor: User, test: PocTest) -> PocTest:
    """Mark a result sent for laboratory confirmation (specs/screening.md): the specimen's
    custody continues with the custody events (courier, lab received)."""
    policy.require(actor, "screening.poc", test.specimen)
    test = PocTest.objects.select_for_update().select_related("specimen").get(pk=test.pk)
    if test.struck_at is not None:
        raise ValidationError("This result is struck: nothing to send.")
    if test.sent_to_lab:
        raise ValidationError("Already sent to the lab.")
    if not lab_worthy(test):
        raise ValidationError(
            "Every analyte is negative and every pad normal: nothing to confirm at the lab."
        )
    test.sent_to_lab = True
    test.save(update_fields=["sent_to_lab"])
    return test
