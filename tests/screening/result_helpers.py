"""Objects the results, breath and search tests share: a collected specimen (made directly, as
the collection pages would leave it), the default cup's lots, a breath device, orders that
explain analytes, and a client back from a pass."""

import itertools
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from screening.models import Device, DeviceKind, DeviceLot, Specimen, SpecimenStatus
from tests.clock import local_today
from tests.conftest import make_user

_ids = itertools.count(1)


def collected_specimen(admission, collector, *, at=None, reason="admission", leave=None):
    """A urine specimen collected `at` (default 10 minutes ago), sealed, temperature in range."""
    at = at or timezone.now() - timedelta(minutes=10)
    return Specimen.objects.create(
        specimen_id=f"T{next(_ids):07d}",
        admission=admission,
        reason=reason,
        leave=leave,
        status=SpecimenStatus.COLLECTED,
        ordered_at=at - timedelta(minutes=5),
        ordered_by=collector,
        collected_at=at,
        collector=collector,
        observed=False,
        temperature=Decimal("34.5"),
        temperature_unit="C",
        temperature_read_at=at + timedelta(minutes=1),
        volume_adequate=True,
        split=False,
        seal_applied=True,
        seal_initialed=True,
        client_declined_to_sign=True,
        recorded_at=at + timedelta(minutes=2),
        recorded_by=collector,
    )


def default_cup(facility) -> Device:
    return Device.objects.get(facility=facility, kind=DeviceKind.CUP)


def a_lot(facility, *, expires_on=None, lot="L-2291") -> DeviceLot:
    found, _ = DeviceLot.objects.get_or_create(
        device=default_cup(facility), lot=lot,
        defaults={"expires_on": expires_on or date(2099, 12, 31)},
    )  # fmt: skip
    return found


def breath_device(facility, *, calibrated_on=None, every_days=180, serial="AL-55812") -> Device:
    return Device.objects.create(
        facility=facility,
        kind=DeviceKind.BREATH,
        make="Lifeloc",
        model="FC10",
        serial=serial,
        last_calibrated_on=calibrated_on or local_today(facility) - timedelta(days=10),
        calibration_interval_days=every_days,
    )


def verified_order(cast, admission, name, strength="8 mg", *, ingredients=(), **extra):
    """A verified order of a new catalog medication `name` with these ingredient names."""
    from medications.models import Medication
    from medications.services import order_verify
    from tests.facility.world import transcribe, with_ingredients

    med = Medication.objects.create(
        facility=admission.facility, name=name, strength=strength, form="tablet", routes="oral"
    )
    if ingredients:
        with_ingredients(med, dict.fromkeys(ingredients))
    order = transcribe(cast["nurse"], admission, med, **extra)
    second = make_user(f"second_{med.pk}", "nurse", admission.facility, mfa=False)
    return order_verify(actor=second, order=order)


def back_from_pass(nurse, admission, *, minutes_ago=5):
    """A pass that started 40 minutes ago and ended `minutes_ago`."""
    from clients.services import leave_return, leave_start

    now = timezone.now()
    leave = leave_start(
        actor=nurse, admission=admission, kind="pass", destination="Family visit",
        left_at=now - timedelta(minutes=40), expected_back_at=now,
        backdate_reason="Entered at the return",
    )  # fmt: skip
    return leave_return(actor=nurse, leave=leave, returned_at=now - timedelta(minutes=minutes_ago))


def poc_body(specimen, lot, *, all_negative=True, all_normal=True, **readings) -> dict:
    """The result form as a reader submits it: "All negative" and the exceptions."""
    body = {"device": str(default_cup(specimen.admission.facility).public_id), "lot": str(lot.pk),
            "tested_at": ""}  # fmt: skip
    if all_negative:
        body["all_negative"] = "on"
    if all_normal:
        body["all_normal"] = "on"
    for code, value in readings.items():
        key = code if code.startswith("pad-") else f"r-{code}"
        body[key] = value
    return body
