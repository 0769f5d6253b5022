"""Breath alcohol tests (issue 13 item 6; specs/screening.md, "Breath alcohol").

The device's serial and calibration date are copied onto the test; a calibration older than
the device's interval warns on the form but does not block (the reading is still a fact). The
client is watched for 15 minutes first (no eating, drinking, smoking): a test sooner is refused.
The BrAC is kept to three decimals. What a reading asks for is screening.custody.bac_actions:
positive (the nurse is alerted), a repeat after 15 minutes, and vitals with a CIWA-Ar. Withdrawal
risk is a client being scored on CIWA-Ar in this stay, read through facility.registry.readings
(screening never imports observations). A refusal is a result, and alerts the nurse too.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clients.models import Admission
from facility import policy, registry
from facility.models import AlertSeverity, User
from facility.services import alert_raise
from screening.custody import BAC_OBSERVATION, BAC_REPEAT_AFTER, bac_actions
from screening.models import BreathKind, BreathTest, Device, DeviceKind

ALERT_KIND = "breath_alcohol"
THREE_PLACES = Decimal("0.001")


def calibration_warning(device: Device, day: date) -> str:
    """Why the device's calibration is out of date on `day`, or "" (a warning, never a block)."""
    if device.kind != DeviceKind.BREATH:
        return ""
    if device.last_calibrated_on is None:
        return f"{device} (serial {device.serial}) has no calibration date on file."
    if device.calibration_interval_days is None:
        return ""
    age = (day - device.last_calibrated_on).days
    if age > device.calibration_interval_days:
        return (
            f"{device} (serial {device.serial}) was last calibrated on "
            f"{device.last_calibrated_on:%Y-%m-%d}, {age} days ago; the vendor's interval is "
            f"{device.calibration_interval_days} days. Record the result, and have it calibrated."
        )
    return ""


def withdrawal_risk(admission: Admission, at: datetime) -> bool:
    """The client is being scored on CIWA-Ar in this stay (a score at or before `at`)."""
    return "ciwa_ar" in registry.readings([admission.pk], at=at).get(admission.pk, {})


@dataclass(frozen=True)
class BreathOutcome:
    """A test's reading as the pages show it."""

    test: BreathTest
    actions: list[str]
    repeat_due_at: datetime | None  # a screening test ≥ 0.020 with no repeat yet

    @property
    def positive(self) -> bool:
        return "positive" in self.actions

    @property
    def vitals_ciwa(self) -> bool:
        return "vitals_ciwa" in self.actions


def actions_for(test: BreathTest, *, risk: bool) -> list[str]:
    """bac_actions for a test; a confirmation test is itself the repeat, so it asks for none."""
    if test.refused or test.brac is None:
        return []
    actions = bac_actions(test.brac, withdrawal_risk=risk)
    if test.kind == BreathKind.CONFIRMATION:
        actions = [a for a in actions if a != "repeat"]
    return actions


def outcomes(tests: list[BreathTest], *, risk_by_admission: dict[int, bool]) -> list:
    """Each test with what it asks for and, for a screening test asking for a repeat that has
    none, when the repeat is due. `tests` should hold a stay's tests (repeats found among them)."""
    repeated = {t.repeat_of_id for t in tests if t.repeat_of_id}
    out = []
    for t in tests:
        actions = actions_for(t, risk=risk_by_admission.get(t.admission_id, False))
        due = None
        if "repeat" in actions and t.pk not in repeated:
            due = t.tested_at + BAC_REPEAT_AFTER
        out.append(BreathOutcome(t, actions, due))
    return out


def outcome_of(test: BreathTest) -> BreathOutcome:
    tests = list(BreathTest.objects.filter(admission_id=test.admission_id))
    risk = withdrawal_risk(test.admission, test.recorded_at)
    return next(o for o in outcomes(tests, risk_by_admission={test.admission_id: risk})
                if o.test.pk == test.pk)  # fmt: skip


def _alert(test: BreathTest, actions: list[str], now: datetime) -> None:
    admission = test.admission
    name = admission.client.display_name
    tz = admission.facility.tz
    at = timezone.localtime(test.tested_at, tz)
    if test.refused:
        text = f"{name}: refused a breath alcohol test at {at:%H:%M}."
        severity = AlertSeverity.WARNING
    else:
        text = f"{name}: breath alcohol {test.brac:.3f} (positive) at {at:%H:%M}."
        if "repeat" in actions:
            text += f" Repeat due at {at + BAC_REPEAT_AFTER:%H:%M}."
        if "vitals_ciwa" in actions:
            text += " Take vitals and score a CIWA-Ar."
        severity = AlertSeverity.CRITICAL if "vitals_ciwa" in actions else AlertSeverity.WARNING
    alert_raise(
        facility=admission.facility,
        kind=ALERT_KIND,
        severity=severity,
        message=text,
        dedupe_key=f"screen:breath:{test.public_id}",
        client_public_id=admission.client.public_id,
        client_label=name,
        link=reverse("screening:breath_result", args=[test.public_id]),
        now=now,
        audience="nurse",
    )


@transaction.atomic
def breath_test_record(
    *,
    actor: User,
    admission: Admission,
    device: Device,
    tested_at: datetime,
    observation_started_at: datetime | None = None,
    brac: Decimal | None = None,
    refused: bool = False,
    kind: str = BreathKind.SCREENING,
    repeat_of: BreathTest | None = None,
    client_signature: str = "",
    client_declined_to_sign: bool = False,
    remarks: str = "",
    now: datetime | None = None,
) -> BreathTest:
    """Record a breath alcohol test or the client's refusal (specs/screening.md)."""
    policy.require(actor, "screening.breath", admission)
    admission = (
        Admission.objects.select_for_update()
        .select_related("client", "facility")
        .get(pk=admission.pk)
    )
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if device.facility_id != admission.facility_id or device.kind != DeviceKind.BREATH:
        errors["device"] = "Device: choose one of this facility's breath alcohol devices."
    elif not device.active:
        errors["device"] = f"Device: the {device} (serial {device.serial}) is no longer in use."
    if tested_at > now + timedelta(minutes=1):
        errors["tested_at"] = "Tested at: cannot be in the future."
    elif tested_at < admission.admitted_at:
        errors["tested_at"] = "Tested at: before the client was admitted."
    if kind not in BreathKind.values:
        errors["kind"] = "Kind: choose screening or confirmation."
    if repeat_of is not None:
        if repeat_of.admission_id != admission.pk:
            errors["kind"] = "Repeat of: a test of this client."
        elif tested_at < repeat_of.tested_at + BAC_REPEAT_AFTER:
            due = timezone.localtime(repeat_of.tested_at + BAC_REPEAT_AFTER, admission.facility.tz)
            errors["tested_at"] = (
                f"Tested at: the repeat is due 15 minutes after the first test, at {due:%H:%M}."
            )
    if refused:
        brac = None
    else:
        if brac is None:
            errors["brac"] = "BrAC: enter the reading, or record that the client refused."
        elif brac < 0 or brac > Decimal("0.600"):
            errors["brac"] = "BrAC: the reading must be between 0.000 and 0.600."
        elif brac != brac.quantize(THREE_PLACES):
            errors["brac"] = "BrAC: three decimals, as the device shows it (e.g. 0.023)."
        if observation_started_at is None:
            errors["observation_started_at"] = (
                "Observation started: enter when the 15-minute observation began."
            )
        elif observation_started_at > tested_at:
            errors["observation_started_at"] = (
                "Observation started: after the test time; the observation comes first."
            )
        elif tested_at - observation_started_at < BAC_OBSERVATION:
            watched = int((tested_at - observation_started_at).total_seconds() // 60)
            errors["tested_at"] = (
                f"Tested at: only {watched} minutes after the observation started; the client "
                "is watched for 15 minutes (no eating, drinking or smoking) before the test."
            )
        if not client_signature.strip() and not client_declined_to_sign:
            errors["client_signature"] = (
                "Client's signature: the client signs, or tick that they declined to sign."
            )
    if errors:
        raise ValidationError(errors)
    test = BreathTest.objects.create(
        admission=admission,
        device=device,
        calibrated_on=device.last_calibrated_on,
        operator=actor,
        observation_started_at=observation_started_at,
        tested_at=tested_at,
        kind=kind,
        repeat_of=repeat_of,
        brac=None if brac is None else brac.quantize(THREE_PLACES),
        refused=refused,
        client_signature=client_signature.strip(),
        client_declined_to_sign=client_declined_to_sign,
        remarks=remarks.strip(),
        recorded_at=max(now, tested_at),
        recorded_by=actor,
    )
    # Scored by the time of charting: a test typed to the minute may precede a score seconds old.
    risk = not refused and withdrawal_risk(admission, test.recorded_at)
    actions = actions_for(test, risk=risk)
    if refused or "positive" in actions:
        _alert(test, actions, now)
    return test
