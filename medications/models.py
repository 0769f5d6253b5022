"""The MAR: medication catalog, orders, scheduled doses and their documentation (specs/mar.md)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from clients.models import Admission
from facility.models import Facility


class Schedule(models.TextChoices):
    NONE = "", "Not controlled"
    II = "II", "Schedule II"
    III = "III", "Schedule III"
    IV = "IV", "Schedule IV"
    V = "V", "Schedule V"


class Route(models.TextChoices):
    ORAL = "oral", "Oral (PO)"
    SUBLINGUAL = "sublingual", "Sublingual (SL)"
    TOPICAL = "topical", "Topical"
    TRANSDERMAL = "transdermal", "Transdermal"
    RECTAL = "rectal", "Rectal (PR)"
    IM = "im", "Intramuscular (IM)"
    SC = "sc", "Subcutaneous (SC)"
    IV = "iv", "Intravenous (IV)"
    INHALED = "inhaled", "Inhaled"
    INTRANASAL = "intranasal", "Intranasal"


class Medication(models.Model):
    """A catalog entry of a facility: one drug, strength and form."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="medications")
    name = models.CharField(max_length=120)
    strength = models.CharField(max_length=60)
    form = models.CharField(max_length=40, help_text="tablet, film, capsule, patch, solution…")
    routes = models.CharField(
        max_length=120, help_text="Allowed routes, comma-separated codes (oral, sublingual, im…)"
    )
    controlled_schedule = models.CharField(
        max_length=3, choices=Schedule.choices, blank=True, default=""
    )
    time_critical = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["facility", "name", "strength"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "name", "strength", "form"],
                name="medications_medication_unique",
            ),
            models.CheckConstraint(condition=~Q(routes=""), name="medications_medication_routes"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.strength} {self.form}"

    @property
    def route_list(self) -> list[str]:
        return [r.strip() for r in self.routes.split(",") if r.strip()]

    @property
    def is_controlled(self) -> bool:
        return bool(self.controlled_schedule)


class Ingredient(models.Model):
    """An active ingredient in a facility's catalog, by generic name (lower case), with the
    facility's cap on it over any rolling 24 hours across all of a client's orders (issue 9)."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="ingredients")
    name = models.CharField(max_length=80, help_text="Generic name, e.g. acetaminophen")
    max_mg_per_24h = models.DecimalField(
        max_digits=9, decimal_places=2, null=True, blank=True,
        help_text="Most milligrams of this ingredient in any 24 hours, all orders together.",
    )  # fmt: skip

    class Meta:
        ordering = ["facility", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "name"], name="medications_ingredient_unique"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="medications_ingredient_name"),
            models.CheckConstraint(
                condition=Q(max_mg_per_24h__isnull=True) | Q(max_mg_per_24h__gt=0),
                name="medications_ingredient_max_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MedicationIngredient(models.Model):
    """How much of one ingredient a stock unit (tablet, film, mL) of a medication holds."""

    medication = models.ForeignKey(
        Medication, on_delete=models.CASCADE, related_name="ingredient_rows"
    )
    ingredient = models.ForeignKey(Ingredient, on_delete=models.PROTECT, related_name="+")
    mg_per_unit = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["medication", "ingredient"], name="medications_med_ingredient_unique"
            ),
            models.CheckConstraint(
                condition=Q(mg_per_unit__isnull=True) | Q(mg_per_unit__gt=0),
                name="medications_med_ingredient_mg_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ingredient} {self.mg_per_unit or ''} mg"


class Priority(models.TextChoices):
    ROUTINE = "routine", "Routine"
    STAT = "stat", "STAT (within 30 minutes of the order)"
    NOW = "now", "NOW (within 60 minutes of verification)"


class OrderSource(models.TextChoices):
    WRITTEN = "written", "Written order, transcribed"
    PRESCRIBER = "prescriber", "Entered and signed by the prescriber"
    VERBAL = "verbal", "Verbal order"
    TELEPHONE = "telephone", "Telephone order"


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    BID = "bid", "BID (twice a day)"
    TID = "tid", "TID (three times a day)"
    QID = "qid", "QID (four times a day)"
    Q4H = "q4h", "Every 4 hours"
    Q6H = "q6h", "Every 6 hours"
    Q8H = "q8h", "Every 8 hours"
    Q12H = "q12h", "Every 12 hours"
    WEEKLY = "weekly", "Weekly"
    TIMES = "times", "At specific times"
    PRN = "prn", "PRN (as needed)"
    ONCE = "once", "Once"


class OrderQuerySet(models.QuerySet):
    def active_at(self, moment) -> "OrderQuerySet":
        """Verified (or given before its second check), started, not stopped or discontinued
        at `moment`."""
        return (
            self.filter(Q(verified_at__isnull=False) | Q(released_at__isnull=False))
            .filter(start_at__lte=moment)
            .filter(Q(stop_at__isnull=True) | Q(stop_at__gt=moment))
            .filter(Q(discontinued_at__isnull=True) | Q(discontinued_at__gt=moment))
        )


class Order(models.Model):
    """A medication order, never edited: a change is a discontinuation plus a new order.

    Transcribed by one nurse and verified by another before any dose is due (specs/mar.md).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    admission = models.ForeignKey(Admission, on_delete=models.PROTECT, related_name="orders")
    medication = models.ForeignKey(Medication, on_delete=models.PROTECT, related_name="orders")
    dose = models.CharField(max_length=60, help_text="e.g. 8 mg / 2 mg, 1 tablet")
    dose_units = models.DecimalField(
        max_digits=7, decimal_places=2, help_text="Stock units per dose (tablets, films, mL)"
    )
    route = models.CharField(max_length=20, choices=Route.choices)
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    times = models.CharField(
        max_length=120, blank=True, help_text="Local administration times, e.g. 09:00,21:00"
    )
    start_at = models.DateTimeField()
    stop_at = models.DateTimeField(null=True, blank=True)
    indication = models.CharField(max_length=200, blank=True)
    time_critical = models.BooleanField(default=False)
    hold_parameters = models.CharField(max_length=300, blank=True)
    prescriber_name = models.CharField(max_length=120)
    prescriber_credentials = models.CharField(max_length=40)
    prn_min_interval_minutes = models.PositiveIntegerField(null=True, blank=True)
    prn_max_per_24h = models.PositiveSmallIntegerField(null=True, blank=True)
    # Score-triggered PRN (issue 11): "give if CIWA-Ar ≥ 10". Indicated when the client's latest
    # score on that scale, not older than its reassessment interval, is at or above the value.
    prn_trigger_scale = models.CharField(
        max_length=8,
        blank=True,
        choices=[("", "—"), ("ciwa_ar", "CIWA-Ar"), ("cows", "COWS")],
    )
    prn_trigger_min_score = models.PositiveSmallIntegerField(null=True, blank=True)
    allergy_override_reason = models.CharField(max_length=300, blank=True)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.ROUTINE)
    source = models.CharField(
        max_length=10, choices=OrderSource.choices, default=OrderSource.WRITTEN
    )
    # The prescriber as a Haven user: who signed a prescriber-entered order, or who must co-sign
    # a verbal or telephone order.
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    read_back = models.BooleanField(
        default=False, help_text="Verbal and telephone orders: read back to the prescriber."
    )
    prescriber_signed_at = models.DateTimeField(null=True, blank=True)
    start_with_next_time = models.BooleanField(
        default=False,
        help_text="Verified after one of today's times: the verifying nurse chose to start with "
        "the next time instead of creating the passed dose.",
    )
    # Given before the second check (one nurse on shift, STAT or PRN): shows "unverified".
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    release_reason = models.CharField(max_length=300, blank=True)
    transcribed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    transcribed_at = models.DateTimeField()
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    discontinued_at = models.DateTimeField(null=True, blank=True)
    discontinued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    discontinue_reason = models.CharField(max_length=300, blank=True)
    # Doses exist up to here; the beat task tops up orders that fall behind the horizon.
    materialized_until = models.DateTimeField(null=True, blank=True, editable=False)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["admission", "medication__name", "start_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(verified_by__isnull=True) | ~Q(verified_by=F("transcribed_by")),
                name="medications_order_two_nurses",
            ),
            models.CheckConstraint(
                condition=Q(stop_at__isnull=True) | Q(stop_at__gt=F("start_at")),
                name="medications_order_stop_after_start",
            ),
            models.CheckConstraint(condition=~Q(route=""), name="medications_order_route"),
            models.CheckConstraint(condition=Q(dose_units__gt=0), name="medications_order_units"),
            models.CheckConstraint(
                condition=~Q(frequency="prn")
                | (Q(prn_min_interval_minutes__gt=0) & Q(prn_max_per_24h__gt=0)),
                name="medications_order_prn_limits",
            ),
            models.CheckConstraint(
                condition=(Q(prn_trigger_scale="") & Q(prn_trigger_min_score__isnull=True))
                | (
                    Q(frequency="prn")
                    & Q(prn_trigger_scale="ciwa_ar")
                    & Q(prn_trigger_min_score__lte=67)
                )
                | (
                    Q(frequency="prn")
                    & Q(prn_trigger_scale="cows")
                    & Q(prn_trigger_min_score__lte=48)
                ),
                name="medications_order_prn_trigger_valid",
            ),  # fmt: skip
            models.CheckConstraint(
                condition=Q(discontinued_at__isnull=True) | ~Q(discontinue_reason=""),
                name="medications_order_discontinue_reason",
            ),
            models.CheckConstraint(
                condition=Q(priority="routine") | Q(frequency="once"),
                name="medications_order_stat_now_once",
            ),
            models.CheckConstraint(
                condition=~Q(source__in=["verbal", "telephone"]) | Q(read_back=True),
                name="medications_order_verbal_read_back",
            ),
            models.CheckConstraint(
                condition=Q(released_at__isnull=True)
                | (Q(released_by__isnull=False) & ~Q(release_reason="")),
                name="medications_order_release_reason",
            ),
        ]
        permissions = [("view_mar", "Can view the MAR")]

    def __str__(self) -> str:
        return f"{self.medication} {self.dose} {self.get_route_display()} {self.frequency}"

    @property
    def is_prn(self) -> bool:
        return self.frequency == Frequency.PRN

    @property
    def status(self) -> str:
        if self.discontinued_at:
            return "discontinued"
        if self.verified_at is None and self.released_at is not None:
            return "unverified"  # given before the second check (one nurse on shift)
        if self.verified_at is None and self.source == OrderSource.PRESCRIBER:
            return "awaiting acknowledgement"
        if self.verified_at is None:
            return "awaiting verification"
        return "active"


class HoldVital(models.TextChoices):
    SBP = "sbp", "Systolic BP"
    DBP = "dbp", "Diastolic BP"
    HR = "hr", "Heart rate"
    RR = "rr", "Respiratory rate"
    TEMP_C = "temp_c", "Temperature (°C)"
    SPO2 = "spo2", "SpO2"


class Comparator(models.TextChoices):
    LT = "lt", "<"
    LE = "le", "≤"
    GT = "gt", ">"
    GE = "ge", "≥"


class HoldParameter(models.Model):
    """A structured hold condition of an order (issue 11): hold if `vital` `comparator` `value`,
    e.g. hold clonidine if SBP < 90. An order may carry several; any one met offers "held"."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="holds")
    vital = models.CharField(max_length=8, choices=HoldVital.choices)
    comparator = models.CharField(max_length=2, choices=Comparator.choices)
    value = models.DecimalField(max_digits=4, decimal_places=1)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(vital__in=HoldVital.values), name="medications_hold_vital_valid"
            ),
            models.CheckConstraint(
                condition=Q(comparator__in=Comparator.values),
                name="medications_hold_comparator_valid",
            ),
            models.CheckConstraint(
                condition=Q(value__gt=0) & Q(value__lte=300), name="medications_hold_value_range"
            ),
        ]

    def __str__(self) -> str:
        return f"hold if {self.get_vital_display()} {self.get_comparator_display()} {self.value}"


class DoseKind(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    FIRST = "first", "First dose"
    ONCE = "once", "One-time"
    STAT = "stat", "STAT"
    NOW = "now", "NOW"


class ScheduledDose(models.Model):
    """One due time of a scheduled order, materialized ahead so MAR, scans and reports share it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # No index of its own: the unique (order, scheduled_at) index serves every lookup by order
    # and, unlike a plain order index, lets PostgreSQL bound the time range too.
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="doses", db_index=False)
    scheduled_at = models.DateTimeField()
    window_minutes = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=DoseKind.choices, default=DoseKind.SCHEDULED)
    # STAT, NOW and a first dose verified after its time: missed once this passes (specs/mar.md).
    deadline_at = models.DateTimeField(null=True, blank=True)
    marked_missed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(
        null=True, blank=True, help_text="The order was discontinued before this dose was due."
    )

    class Meta:
        ordering = ["scheduled_at"]
        constraints = [
            # Covering: the MAR board reads its doses from this index alone (index-only range
            # scans per order), which also keeps the planner off a scan of every facility's
            # doses in the shift (bench/README.md, MAR).
            models.UniqueConstraint(
                fields=["order", "scheduled_at"],
                include=["id", "window_minutes", "cancelled_at", "deadline_at", "kind"],
                name="medications_dose_once_per_time",
            ),
        ]
        indexes = [
            models.Index(fields=["scheduled_at"], name="med_dose_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order.medication} at {self.scheduled_at:%Y-%m-%d %H:%M}"


class Outcome(models.TextChoices):
    GIVEN = "given", "Given"
    REFUSED = "refused", "Refused"
    HELD = "held", "Held"
    UNAVAILABLE = "unavailable", "Unavailable"
    OFF_UNIT = "off_unit", "Client off unit"
    # Issue 14: a dose due during a trip or appointment handed to the client or escort to take
    # there; never counted as given (specs/transport.md).
    SENT = "sent", "Sent with client"
    OMITTED = "omitted", "Omitted per order"
    NOT_GIVEN = "not_given", "Not given (missed)"


class Timing(models.TextChoices):
    ON_TIME = "on_time", "On time"
    EARLY = "early", "Given early"
    LATE = "late", "Given late"
    NONE = "", "—"


class Administration(models.Model):
    """The documentation of a dose: what happened, when, by whom.

    One live documentation per scheduled dose, enforced by a partial unique index; a correction
    strikes the entry (entered in error, with a reason) and the original stays visible.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Covered by med_admin_order_given_idx (order, -given_at).
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="administrations", db_index=False
    )
    dose = models.ForeignKey(
        ScheduledDose,
        on_delete=models.PROTECT,
        related_name="administrations",
        null=True,
        blank=True,
    )
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    given_at = models.DateTimeField(null=True, blank=True)
    timing = models.CharField(max_length=8, choices=Timing.choices, blank=True, default="")
    reason = models.CharField(max_length=300, blank=True)
    self_administered = models.BooleanField(
        default=False, help_text="Observed self-administration (technician, where policy allows)"
    )
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # PRN: why it was given, what was assessed first, and a second nurse for an override.
    prn_indication = models.CharField(max_length=200, blank=True)
    pre_assessment = models.CharField(max_length=200, blank=True)
    override_reason = models.CharField(max_length=300, blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # Refusals and holds (issue 9): was the prescriber told (who and when, or why not), and the
    # order's hold parameter that was met.
    prescriber_notified = models.CharField(
        max_length=3, choices=[("", "—"), ("yes", "Yes"), ("no", "No")], blank=True, default=""
    )
    prescriber_notified_name = models.CharField(max_length=120, blank=True)
    prescriber_notified_at = models.DateTimeField(null=True, blank=True)
    prescriber_not_notified_reason = models.CharField(max_length=300, blank=True)
    hold_parameter = models.CharField(max_length=300, blank=True)
    # Issue 11: the score a score-triggered PRN relied on (observations' ScaleAssessment, by its
    # public id: medications does not import observations), and the vital a hold parameter was
    # judged on, with when it was taken and whether it was typed at the med pass.
    trigger_scale = models.CharField(max_length=8, blank=True)
    trigger_score = models.PositiveSmallIntegerField(null=True, blank=True)
    trigger_assessed_at = models.DateTimeField(null=True, blank=True)
    trigger_assessment_id = models.UUIDField(null=True, blank=True)
    hold_vital = models.CharField(max_length=8, blank=True)
    hold_vital_value = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    hold_vital_taken_at = models.DateTimeField(null=True, blank=True)
    hold_vital_entered = models.BooleanField(
        default=False, help_text="Typed at the med pass rather than taken from a recent set."
    )
    struck_at = models.DateTimeField(null=True, blank=True)
    struck_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    struck_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["recorded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dose"],
                condition=Q(struck_at__isnull=True) & Q(dose__isnull=False),
                name="medications_administration_one_per_dose",
            ),
            models.CheckConstraint(
                condition=Q(outcome="given") | ~Q(reason=""),
                name="medications_administration_reason_unless_given",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="given") | Q(given_at__isnull=False),
                name="medications_administration_given_has_time",
            ),
            models.CheckConstraint(
                condition=Q(timing__in=["", "on_time"]) | ~Q(reason=""),
                name="medications_administration_early_late_reason",
            ),
            models.CheckConstraint(
                condition=Q(struck_at__isnull=True) | ~Q(struck_reason=""),
                name="medications_administration_strike_reason",
            ),
            models.CheckConstraint(
                condition=Q(given_at__isnull=True) | Q(given_at__lte=F("recorded_at")),
                name="medications_administration_not_in_future",
            ),
            models.CheckConstraint(
                condition=Q(override_by__isnull=True)
                | (~Q(override_by=F("recorded_by")) & ~Q(override_reason="")),
                name="medications_administration_override_second_nurse",
            ),
        ]
        indexes = [
            models.Index(fields=["order", "-given_at"], name="med_admin_order_given_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} {self.order.medication}"


class Effect(models.TextChoices):
    EFFECTIVE = "effective", "Effective"
    PARTIAL = "partial", "Partially effective"
    NOT_EFFECTIVE = "not_effective", "Not effective"


class PrnFollowUp(models.Model):
    """The effectiveness reassessment of one PRN dose (specs/mar.md, PRN)."""

    administration = models.OneToOneField(
        Administration, on_delete=models.PROTECT, related_name="follow_up"
    )
    result = models.CharField(max_length=14, choices=Effect.choices)
    post_assessment = models.CharField(max_length=200, blank=True)
    score = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Pain or symptom score after the dose, 0-10."
    )
    early_reason = models.CharField(
        max_length=300, blank=True, help_text="Why it was assessed before the reassessment time."
    )
    note = models.CharField(max_length=500, blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.get_result_display()} ({self.administration})"


class Disposition(models.TextChoices):
    NONE = "", "—"
    RETURNED = "returned", "Returned to the client"
    DESTROYED = "destroyed", "Destroyed with a witness"
    SENT = "sent", "Sent with the client"


class ControlledStock(models.Model):
    """A declining count of one controlled medication, for one client or the house."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    medication = models.ForeignKey(Medication, on_delete=models.PROTECT, related_name="stocks")
    admission = models.ForeignKey(
        Admission, on_delete=models.PROTECT, related_name="stocks", null=True, blank=True,
        help_text="Empty for house stock",
    )  # fmt: skip
    quantity = models.DecimalField(max_digits=9, decimal_places=2, default=0)
    # At discharge, a client's own stock is returned, destroyed (witnessed) or sent with them;
    # a disposed stock owes no more counts.
    disposition = models.CharField(
        max_length=10, choices=Disposition.choices, blank=True, default=""
    )
    disposed_at = models.DateTimeField(null=True, blank=True)
    disposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    disposition_witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    disposition_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["medication__name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=0), name="medications_stock_not_negative"
            ),
            models.UniqueConstraint(
                fields=["facility", "medication", "admission"],
                name="medications_stock_unique",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        owner = self.admission.client.mrn if self.admission_id else "house"
        return f"{self.medication} ({owner})"


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    ADMINISTRATION = "administration", "Administration"
    WASTE = "waste", "Waste"
    ADJUSTMENT = "adjustment", "Adjustment after a signed-off discrepancy"
    DISPOSITION = "disposition", "Disposition at discharge"


class StockMovement(models.Model):
    """Every change to a controlled count, signed (specs/mar.md, Controlled substances)."""

    stock = models.ForeignKey(ControlledStock, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    change = models.DecimalField(max_digits=9, decimal_places=2)
    balance = models.DecimalField(max_digits=9, decimal_places=2)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    administration = models.ForeignKey(
        Administration, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    note = models.CharField(max_length=300, blank=True)
    source_document = models.CharField(
        max_length=60, blank=True, help_text="Receipts: pharmacy invoice, DEA 222 or packing slip"
    )

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="waste") | (Q(witness__isnull=False) & ~Q(witness=F("by"))),
                name="medications_movement_waste_witness",
            ),
            models.CheckConstraint(condition=Q(balance__gte=0), name="medications_movement_bal"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.change:+} = {self.balance}"


class ControlledCount(models.Model):
    """A shift count by two distinct staff, the counted quantity entered blind."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    stock = models.ForeignKey(ControlledStock, on_delete=models.PROTECT, related_name="counts")
    counted_at = models.DateTimeField()
    first_signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    second_signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    counted_quantity = models.DecimalField(max_digits=9, decimal_places=2)
    expected_quantity = models.DecimalField(max_digits=9, decimal_places=2)
    completed_at = models.DateTimeField(null=True, blank=True)
    discrepancy_explanation = models.TextField(blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    # A recount by two people before sign-off: the first count is kept, closed by the recount.
    recount_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, related_name="recounts", null=True, blank=True
    )
    superseded_at = models.DateTimeField(null=True, blank=True)
    significant_loss = models.BooleanField(default=False)
    dea_106_filed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-counted_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(first_signer=F("second_signer")),
                name="medications_count_two_signers",
            ),
            models.CheckConstraint(
                condition=Q(counted_quantity__gte=0), name="medications_count_not_negative"
            ),
            # A variance completes only with a signed-off discrepancy record.
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True)
                | Q(counted_quantity=F("expected_quantity"))
                | (Q(signed_off_by__isnull=False) & ~Q(discrepancy_explanation="")),
                name="medications_count_variance_signed_off",
            ),
            # Nobody who counted signs off that count's variance.
            models.CheckConstraint(
                condition=Q(signed_off_by__isnull=True)
                | (~Q(signed_off_by=F("first_signer")) & ~Q(signed_off_by=F("second_signer"))),
                name="medications_count_sign_off_not_counter",
            ),
        ]

    def __str__(self) -> str:
        return f"Count of {self.stock} at {self.counted_at:%Y-%m-%d %H:%M}"

    @property
    def variance(self):
        return self.counted_quantity - self.expected_quantity
