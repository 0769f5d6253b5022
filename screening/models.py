"""Urine drug screens with their chain of custody, point-of-care and lab results, breath alcohol,
and belongings searches (specs/screening.md; issue 13). Rules that need no database are in
screening/custody.py."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from clients.models import Admission, Leave
from facility.models import Facility


class SpecimenType(models.TextChoices):
    URINE = "urine", "Urine"
    ORAL_FLUID = "oral_fluid", "Oral fluid"


class SpecimenReason(models.TextChoices):
    ADMISSION = "admission", "Admission"
    RANDOM = "random", "Random"
    FOR_CAUSE = "for_cause", "For cause"
    RETURN_FROM_PASS = "return_from_pass", "Return from pass"
    SCHEDULED = "scheduled", "Scheduled"


class SpecimenStatus(models.TextChoices):
    ORDERED = "ordered", "Ordered, not collected"
    COLLECTED = "collected", "Collected"
    REFUSED = "refused", "Refused by the client"
    CANCELLED = "cancelled", "Cancelled"


class TemperatureUnit(models.TextChoices):
    C = "C", "°C"
    F = "F", "°F"


class RandomDraw(models.Model):
    """A facility's daily random list: `percent` of the census drawn with a recorded `seed`, so
    anyone can redraw it from the same census list and seed and get the same names. Clients
    already tested that day are left out of the pool (`pool` keeps who was in it, in order)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="random_draws")
    day = models.DateField()
    percent = models.PositiveSmallIntegerField(default=10)
    seed = models.CharField(max_length=64)
    # The admission public ids in the pool, in the order the draw read them.
    pool = models.JSONField()
    drawn_at = models.DateTimeField()
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "day"], name="screening_draw_once_a_day"),
            models.CheckConstraint(
                condition=Q(percent__gte=1) & Q(percent__lte=100), name="screening_draw_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"Random list {self.day}"


class Specimen(models.Model):
    """One specimen, from order to result (specs/screening.md, "Specimen and chain of custody").

    `specimen_id` is what the label prints as a Code 128 barcode and a QR code, and what a
    scanner types. A refusal is a result (status refused), never a missing row. A flagged
    specimen (temperature out of range or read late) offers an observed recollection: the new
    specimen points back with `recollection_of`."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    specimen_id = models.CharField(max_length=20, unique=True)
    admission = models.ForeignKey(Admission, on_delete=models.PROTECT, related_name="specimens")
    specimen_type = models.CharField(
        max_length=12, choices=SpecimenType.choices, default=SpecimenType.URINE
    )
    reason = models.CharField(max_length=20, choices=SpecimenReason.choices)
    reason_detail = models.CharField(max_length=300, blank=True)  # for cause: why
    random_draw = models.ForeignKey(
        RandomDraw, on_delete=models.PROTECT, null=True, blank=True, related_name="specimens"
    )
    leave = models.ForeignKey(  # the pass this return-from-pass specimen follows
        Leave, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recollection_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="recollections"
    )
    status = models.CharField(
        max_length=10, choices=SpecimenStatus.choices, default=SpecimenStatus.ORDERED
    )
    ordered_at = models.DateTimeField()
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Collection.
    collected_at = models.DateTimeField(null=True, blank=True)
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    observed = models.BooleanField(null=True, blank=True)
    observer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    observed_reason = models.CharField(max_length=200, blank=True)
    temperature = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    temperature_unit = models.CharField(max_length=1, choices=TemperatureUnit.choices, blank=True)
    temperature_read_at = models.DateTimeField(null=True, blank=True)
    # Out of range or read late (screening.custody.temperature_acceptable said no).
    flagged = models.BooleanField(default=False)
    flag_reason = models.CharField(max_length=200, blank=True)
    volume_adequate = models.BooleanField(null=True, blank=True)
    split = models.BooleanField(null=True, blank=True)
    seal_applied = models.BooleanField(default=False)
    seal_initialed = models.BooleanField(default=False)
    # The client's signature drawn on the tablet (SVG path data) or their refusal to sign.
    client_signature = models.TextField(blank=True)
    client_declined_to_sign = models.BooleanField(default=False)
    refusal_note = models.CharField(max_length=300, blank=True)  # a refusal to give a specimen
    remarks = models.CharField(max_length=500, blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancel_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-ordered_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reason__in=SpecimenReason.values), name="screening_specimen_reason"
            ),
            models.CheckConstraint(
                condition=Q(status__in=SpecimenStatus.values), name="screening_specimen_status"
            ),
            models.CheckConstraint(
                condition=~Q(reason="random") | Q(random_draw__isnull=False),
                name="screening_specimen_random_has_draw",
            ),
            models.CheckConstraint(
                condition=~Q(reason="for_cause") | ~Q(reason_detail=""),
                name="screening_specimen_for_cause_has_reason",
            ),
            # Collected: who, when, and the chain's first facts.
            models.CheckConstraint(
                condition=~Q(status="collected")
                | (
                    Q(collected_at__isnull=False)
                    & Q(collector__isnull=False)
                    & Q(observed__isnull=False)
                    & Q(seal_applied=True)
                    & (~Q(client_signature="") | Q(client_declined_to_sign=True))
                ),
                name="screening_specimen_collected_complete",
            ),  # fmt: skip
            models.CheckConstraint(
                condition=~Q(observed=True) | (Q(observer__isnull=False) & ~Q(observed_reason="")),
                name="screening_specimen_observed_complete",
            ),
            models.CheckConstraint(
                condition=~Q(specimen_type="urine")
                | ~Q(status="collected")
                | (
                    Q(temperature__isnull=False)
                    & ~Q(temperature_unit="")
                    & Q(temperature_read_at__isnull=False)
                ),
                name="screening_specimen_urine_temperature",
            ),  # fmt: skip
            models.CheckConstraint(
                condition=Q(temperature_read_at__isnull=True)
                | Q(temperature_read_at__gte=F("collected_at")),
                name="screening_specimen_temperature_after_collection",
            ),
            models.CheckConstraint(
                condition=~Q(flagged=True) | ~Q(flag_reason=""),
                name="screening_specimen_flag_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | (Q(collector__isnull=False) & ~Q(refusal_note="")),
                name="screening_specimen_refusal_complete",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled")
                | (
                    Q(cancelled_at__isnull=False)
                    & Q(cancelled_by__isnull=False)
                    & ~Q(cancel_reason="")
                ),
                name="screening_specimen_cancel_complete",
            ),  # fmt: skip
        ]
        indexes = [
            models.Index(fields=["admission", "-ordered_at"], name="screening_specimen_adm_idx"),
        ]

    def __str__(self) -> str:
        return self.specimen_id


class CustodyPurpose(models.TextChoices):
    COLLECTED = "collected", "Collected"
    TO_STORAGE = "to_storage", "To storage"
    TO_COURIER = "to_courier", "To courier"
    LAB_RECEIVED = "lab_received", "Received by the lab"
    RETURNED = "returned", "Returned"
    DESTROYED = "destroyed", "Destroyed"


class CustodyEvent(models.Model):
    """One hand-over of a specimen. Append-only: a database trigger (migration 0001) refuses any
    UPDATE or DELETE; a correction is a new event pointing at the one it corrects. `seq` numbers
    a specimen's events from 1, unique, so two people appending at once cannot both be "next".

    Holders are names as the CCF writes them (staff, or an outside person and organization);
    for staff the user is kept too. The service judges the chain with
    screening.custody.custody_breaks before appending, under a lock on the specimen."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    specimen = models.ForeignKey(Specimen, on_delete=models.PROTECT, related_name="custody")
    seq = models.PositiveIntegerField()
    at = models.DateTimeField()
    released_by = models.CharField(max_length=160)
    released_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    received_by = models.CharField(max_length=160)
    received_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    purpose = models.CharField(max_length=14, choices=CustodyPurpose.choices)
    seal_intact = models.BooleanField()
    storage_location = models.CharField(max_length=120, blank=True)
    remarks = models.CharField(max_length=300, blank=True)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["specimen", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["specimen", "seq"], name="screening_custody_seq"),
            models.CheckConstraint(condition=Q(seq__gte=1), name="screening_custody_seq_from_1"),
            models.CheckConstraint(
                condition=Q(purpose__in=CustodyPurpose.values), name="screening_custody_purpose"
            ),
            models.CheckConstraint(
                condition=~Q(released_by="") & ~Q(received_by=""),
                name="screening_custody_holders_named",
            ),
            models.CheckConstraint(
                condition=Q(recorded_at__gte=F("at")), name="screening_custody_not_in_future"
            ),
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(remarks=""),
                name="screening_custody_correction_says_why",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.specimen_id} #{self.seq} {self.purpose}"


class DeviceKind(models.TextChoices):
    CUP = "cup", "Point-of-care test cup / dip card"
    BREATH = "breath", "Breath alcohol device"


class Device(models.Model):
    """A test device model the facility uses: a cup with its per-analyte cutoffs (ng/mL) and
    adulterant pads, or a breath alcohol device with its serial and calibration."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="test_devices")
    kind = models.CharField(max_length=6, choices=DeviceKind.choices)
    make = models.CharField(max_length=80)
    model = models.CharField(max_length=80)
    # Cups: {"AMP": 1000, ...} (ng/mL) and the adulterant pads the cup carries.
    cutoffs = models.JSONField(default=dict, blank=True)
    adulterant_pads = models.JSONField(default=list, blank=True)
    # Breath devices.
    serial = models.CharField(max_length=60, blank=True)
    last_calibrated_on = models.DateField(null=True, blank=True)
    calibration_interval_days = models.PositiveSmallIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["facility", "kind", "make", "model"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=DeviceKind.values), name="screening_device_kind"
            ),
            models.CheckConstraint(
                condition=~Q(kind="breath") | ~Q(serial=""), name="screening_device_breath_serial"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.make} {self.model}"


class DeviceLot(models.Model):
    """A lot of cups: an expired lot is refused for a new test."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="lots")
    lot = models.CharField(max_length=40)
    expires_on = models.DateField()

    class Meta:
        ordering = ["device", "expires_on"]
        constraints = [
            models.UniqueConstraint(fields=["device", "lot"], name="screening_lot_unique"),
        ]

    def __str__(self) -> str:
        return f"Lot {self.lot} (exp. {self.expires_on})"


class Reading(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    PRESUMPTIVE_POSITIVE = "presumptive_positive", "Presumptive positive"
    INVALID = "invalid", "Invalid (no control line)"


class PocTest(models.Model):
    """A point-of-care cup read for one specimen: device, lot (not expired on the test day),
    adulterant pads, and a reading per analyte (`AnalyteResult`). Never edited; struck with a
    reason."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    specimen = models.ForeignKey(Specimen, on_delete=models.PROTECT, related_name="poc_tests")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(DeviceLot, on_delete=models.PROTECT, related_name="+")
    tested_at = models.DateTimeField()
    tested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    adulterants = models.JSONField(default=dict, blank=True)  # {"creatinine": "normal", ...}
    sent_to_lab = models.BooleanField(default=False)
    recorded_at = models.DateTimeField()
    struck_at = models.DateTimeField(null=True, blank=True)
    struck_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    struck_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["specimen", "tested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(recorded_at__gte=F("tested_at")), name="screening_poc_not_in_future"
            ),
            models.CheckConstraint(
                condition=Q(struck_at__isnull=True)
                | (Q(struck_by__isnull=False) & ~Q(struck_reason="")),
                name="screening_poc_strike_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"POC test of {self.specimen_id}"


class AnalyteResult(models.Model):
    """One analyte of a point-of-care test: the device's cutoff and the reading. `expected`
    names the active order that explains a presumptive positive (BUP with buprenorphine on the
    MAR), as found when recorded, through the expected-analytes registry."""

    test = models.ForeignKey(PocTest, on_delete=models.PROTECT, related_name="analytes")
    analyte = models.CharField(max_length=8)
    cutoff_ng_ml = models.PositiveIntegerField()
    reading = models.CharField(max_length=20, choices=Reading.choices)
    expected_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["test", "analyte"]
        constraints = [
            models.UniqueConstraint(fields=["test", "analyte"], name="screening_analyte_once"),
            models.CheckConstraint(
                condition=Q(reading__in=Reading.values), name="screening_analyte_reading"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.analyte} {self.reading}"


class LabResult(models.Model):
    """A laboratory's confirmation, per analyte, with the lab's own cutoff and value."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    specimen = models.ForeignKey(Specimen, on_delete=models.PROTECT, related_name="lab_results")
    lab_name = models.CharField(max_length=120)
    analyte = models.CharField(max_length=20)
    cutoff_ng_ml = models.DecimalField(max_digits=9, decimal_places=2)
    value_ng_ml = models.DecimalField(max_digits=11, decimal_places=2, null=True, blank=True)
    positive = models.BooleanField()
    reported_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["specimen", "analyte"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cutoff_ng_ml__gte=0)
                & (Q(value_ng_ml__isnull=True) | Q(value_ng_ml__gte=0)),
                name="screening_lab_values_not_negative",
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        return f"{self.analyte} {'positive' if self.positive else 'negative'} ({self.lab_name})"


class BreathKind(models.TextChoices):
    SCREENING = "screening", "Screening"
    CONFIRMATION = "confirmation", "Confirmation"


class BreathTest(models.Model):
    """A breath alcohol test: the device (serial and calibration as they were), the 15-minute
    observation, BrAC to three decimals, screening or confirmation (a repeat points at the first),
    the client's signature or refusal (a refusal is a result: `refused`, no BrAC)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    admission = models.ForeignKey(Admission, on_delete=models.PROTECT, related_name="breath_tests")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="+")
    calibrated_on = models.DateField(null=True, blank=True)  # as the device said at the test
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    observation_started_at = models.DateTimeField(null=True, blank=True)
    tested_at = models.DateTimeField()
    kind = models.CharField(max_length=12, choices=BreathKind.choices)
    repeat_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="repeats"
    )
    brac = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    refused = models.BooleanField(default=False)
    client_signature = models.TextField(blank=True)
    client_declined_to_sign = models.BooleanField(default=False)
    remarks = models.CharField(max_length=300, blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["admission", "tested_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(refused=True) & Q(brac__isnull=True))
                | (
                    Q(refused=False)
                    & Q(brac__isnull=False)
                    & Q(brac__gte=0)
                    & Q(brac__lte="0.600")
                    & Q(observation_started_at__isnull=False)
                    & Q(observation_started_at__lte=F("tested_at"))
                ),
                name="screening_breath_result_or_refusal",
            ),  # fmt: skip
            models.CheckConstraint(
                condition=Q(recorded_at__gte=F("tested_at")),
                name="screening_breath_not_in_future",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=BreathKind.values), name="screening_breath_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"BrAC {self.brac} at {self.tested_at:%Y-%m-%d %H:%M}"


class SearchReason(models.TextChoices):
    ADMISSION = "admission", "Admission"
    RETURN_FROM_PASS = "return_from_pass", "Return from pass or outing"
    AS_NEEDED = "as_needed", "As needed"


class BelongingsSearch(models.Model):
    """A search of a client's belongings: who searched, the witness (a second staff member,
    required by default), whether the client was present, and the items found."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    admission = models.ForeignKey(Admission, on_delete=models.PROTECT, related_name="searches")
    reason = models.CharField(max_length=20, choices=SearchReason.choices)
    reason_detail = models.CharField(max_length=300, blank=True)
    leave = models.ForeignKey(Leave, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")  # fmt: skip
    searched_at = models.DateTimeField()
    searched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    client_present = models.BooleanField()
    contraband_found = models.BooleanField(default=False)
    remarks = models.CharField(max_length=500, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["admission", "-searched_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reason__in=SearchReason.values), name="screening_search_reason"
            ),
            models.CheckConstraint(
                condition=~Q(reason="as_needed") | ~Q(reason_detail=""),
                name="screening_search_as_needed_says_why",
            ),
            models.CheckConstraint(
                condition=Q(witness__isnull=True) | ~Q(witness=F("searched_by")),
                name="screening_search_witness_is_another",
            ),
            models.CheckConstraint(
                condition=Q(recorded_at__gte=F("searched_at")),
                name="screening_search_not_in_future",
            ),
        ]

    def __str__(self) -> str:
        return f"Search {self.searched_at:%Y-%m-%d %H:%M}"


class ItemCategory(models.TextChoices):
    CLOTHING = "clothing", "Clothing"
    TOILETRIES = "toiletries", "Toiletries"
    ELECTRONICS = "electronics", "Electronics"
    MONEY = "money", "Money and cards"
    DOCUMENTS = "documents", "Documents"
    MEDICATION = "medication", "Medication"
    SHARPS = "sharps", "Sharps"
    TOBACCO = "tobacco", "Tobacco / vaping"
    ALCOHOL = "alcohol", "Alcohol"
    DRUGS = "drugs", "Drugs or paraphernalia"
    WEAPON = "weapon", "Weapon"
    OTHER = "other", "Other"


class Disposition(models.TextChoices):
    KEPT = "kept", "Kept by the client"
    TO_NURSE = "to_nurse", "To the nurse"
    STORED = "stored", "Stored"
    RETURNED_TO_FAMILY = "returned_to_family", "Returned to family"
    DESTROYED = "destroyed", "Destroyed (witnessed)"
    LAW_ENFORCEMENT = "law_enforcement", "Handed to law enforcement"
    RETURNED_TO_CLIENT = "returned_to_client", "Returned to the client"
    SENT_AT_DISCHARGE = "sent_at_discharge", "Sent with the client at discharge"


# Dispositions that still hold the item in the facility's keeping: reconciled at discharge.
HELD = ("stored", "to_nurse")


class SearchItem(models.Model):
    """An item found in a search and what became of it. `disposition` changes only through the
    service, each time with who and when (an `ItemMovement` row keeps the history)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    search = models.ForeignKey(BelongingsSearch, on_delete=models.PROTECT, related_name="items")
    category = models.CharField(max_length=12, choices=ItemCategory.choices)
    description = models.CharField(max_length=200)
    quantity = models.PositiveSmallIntegerField(default=1)
    contraband = models.BooleanField(default=False)
    disposition = models.CharField(max_length=20, choices=Disposition.choices)
    location = models.CharField(max_length=120, blank=True)  # stored: where
    bag_id = models.CharField(max_length=40, blank=True)  # stored: sealed bag
    disposed_at = models.DateTimeField()
    disposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["search", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1) & Q(quantity__lte=999),
                name="screening_item_quantity",
            ),
            models.CheckConstraint(
                condition=Q(disposition__in=Disposition.values),
                name="screening_item_disposition",
            ),
            models.CheckConstraint(
                condition=~Q(disposition="stored") | ~Q(location=""),
                name="screening_item_stored_has_location",
            ),
            models.CheckConstraint(
                condition=~Q(disposition="destroyed") | Q(witness__isnull=False),
                name="screening_item_destroyed_witnessed",
            ),
            models.CheckConstraint(
                condition=~Q(category__in=["medication", "sharps"]) | ~Q(disposition="kept"),
                name="screening_item_meds_and_sharps_not_kept",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.description}"


class ItemMovement(models.Model):
    """One change of an item's disposition, with who and when (append-only)."""

    item = models.ForeignKey(SearchItem, on_delete=models.PROTECT, related_name="movements")
    disposition = models.CharField(max_length=20, choices=Disposition.choices)
    location = models.CharField(max_length=120, blank=True)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The client's signature when the item is returned to them (discharge reconciliation).
    client_signature = models.TextField(blank=True)
    # A supervisor's override at discharge for an item that cannot be settled.
    override_reason = models.CharField(max_length=300, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["item", "at"]

    def __str__(self) -> str:
        return f"{self.disposition} at {self.at:%Y-%m-%d %H:%M}"
