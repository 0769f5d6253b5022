"""Observation levels, q15 round checks, observer assignments and the facility's code sets
(specs/rounds.md)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from clients.models import Admission
from facility.models import Facility


class Level(models.TextChoices):
    """Least to most restrictive (specs/rounds.md, Levels)."""

    Q60 = "q60", "q60 Routine"
    Q30 = "q30", "q30 Every 30 minutes"
    Q15 = "q15", "q15 Close"
    LOS = "los", "Line of sight"
    ONE_TO_ONE = "one_to_one", "1:1"
    ARMS_LENGTH = "arms_length", "1:1 within arm's length"


LEVEL_RANK = {level.value: rank for rank, level in enumerate(Level)}
# Minutes per block; continuous levels are still documented once per 15-minute block.
LEVEL_INTERVAL = {"q60": 60, "q30": 30, "q15": 15, "los": 15, "one_to_one": 15, "arms_length": 15}
CONTINUOUS_LEVELS = {"los", "one_to_one", "arms_length"}
# One staff member holds at most one of these at a time (specs/rounds.md, issue 10).
EXCLUSIVE_LEVELS = {"one_to_one", "arms_length"}


class CodeKind(models.TextChoices):
    LOCATION = "location", "Location"
    STATUS = "status", "Status"


class RoundCode(models.Model):
    """A location or status code of a facility's round sheet. Retired, never deleted."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="round_codes")
    kind = models.CharField(max_length=10, choices=CodeKind.choices)
    code = models.CharField(max_length=8)
    label = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)
    needs_respirations = models.BooleanField(
        default=False, help_text="Status only: the check must confirm respirations (sleeping)."
    )
    raises_alert = models.BooleanField(
        default=False, help_text="Status only: a check with this status alerts at once (SIB)."
    )

    class Meta:
        ordering = ["facility", "kind", "position", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "kind", "code"], name="observations_roundcode_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class LevelOrderKind(models.TextChoices):
    ORDER = "order", "Clinician order"
    NURSE_RAISE = "nurse_raise", "Raised by nurse, clinician order pending"


class LevelOrder(models.Model):
    """A change of a client's observation level, effective until the next one.

    Before the first order the facility default applies (specs/rounds.md: q15 for the first
    72 hours after admission, then q60). A nurse may raise a level at once; the raise asks for
    a clinician's confirming order by `clinician_order_due_at`.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    admission = models.ForeignKey(Admission, on_delete=models.PROTECT, related_name="level_orders")
    level = models.CharField(max_length=12, choices=Level.choices)
    kind = models.CharField(max_length=12, choices=LevelOrderKind.choices)
    reason = models.TextField()
    effective_from = models.DateTimeField()
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    clinician_order_due_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["admission", "effective_from", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="observations_levelorder_reason"),
            models.CheckConstraint(
                condition=Q(level__in=Level.values), name="observations_levelorder_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind="order") | Q(clinician_order_due_at__isnull=False),
                name="observations_levelorder_raise_has_due",
            ),
        ]
        indexes = [models.Index(fields=["admission", "-effective_from"], name="obs_level_adm_idx")]

    def __str__(self) -> str:
        return f"{self.get_level_display()} from {self.effective_from:%Y-%m-%d %H:%M}"


class CheckSource(models.TextChoices):
    """How a check reached Haven."""

    ROUND = "round", "Round"
    OBSERVER = "observer", "Assigned observer"
    DOWNTIME = "downtime", "Downtime sheet"


class RoundCheck(models.Model):
    """One observation of one client: where, how, seen by whom, when (specs/rounds.md).

    `observed_at` is what the technician says (now, or up to 5 minutes back); `recorded_at` is the
    server's clock and never editable. A round is submitted with one key; the database holds at
    most one check per client per key, so a retried or double-tapped round is recorded once.
    """

    admission = models.ForeignKey(Admission, on_delete=models.PROTECT, related_name="round_checks")
    observed_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    location = models.ForeignKey(RoundCode, on_delete=models.PROTECT, related_name="+")
    status = models.ForeignKey(RoundCode, on_delete=models.PROTECT, related_name="+")
    respirations_observed = models.BooleanField(default=False)
    safety_concern = models.BooleanField(default=False)
    remark = models.CharField(max_length=500, blank=True)
    late_reason = models.CharField(max_length=200, blank=True)
    submission_key = models.UUIDField()
    # Where the entry came from: a round tap, the assigned observer's "My 1:1" screen, or a paper
    # downtime sheet entered afterwards (late, with the original server time in `recorded_at`).
    source = models.CharField(max_length=10, choices=CheckSource.choices, default="round")

    class Meta:
        ordering = ["admission", "observed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission_key", "admission"], name="observations_roundcheck_once_per_key"
            ),
            models.CheckConstraint(
                condition=Q(recorded_at__gte=F("observed_at")),
                name="observations_roundcheck_not_observed_in_future",
            ),
            models.CheckConstraint(
                condition=Q(source__in=CheckSource.values),
                name="observations_roundcheck_source_valid",
            ),
            models.CheckConstraint(
                condition=~Q(source="downtime") | ~Q(late_reason=""),
                name="observations_roundcheck_downtime_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["admission", "-observed_at"], name="obs_check_adm_time_idx"),
            models.Index(fields=["observed_at"], name="obs_check_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.observed_at:%H:%M} {self.location.code}/{self.status.code}"


class ObserverAssignment(models.Model):
    """Who holds a client on a continuous level, from when to when (hand-offs).

    `exclusive` is set while the client is on 1:1 or 1:1 within arm's length: a staff member holds
    at most one exclusive assignment at a time (the database refuses a second). Line of sight may
    be shared. A hand-off (ObserverHandoff) ends this row only when the incoming observer accepts.
    """

    admission = models.ForeignKey(
        Admission, on_delete=models.PROTECT, related_name="observer_assignments"
    )
    observer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Server time of the hand-off entry (DESIGN.md §2); `started_at` is the time it gives.
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    exclusive = models.BooleanField(default=False)

    class Meta:
        ordering = ["admission", "started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["admission"],
                condition=Q(ended_at__isnull=True),
                name="observations_observer_one_current",
            ),
            models.UniqueConstraint(
                fields=["observer"],
                condition=Q(ended_at__isnull=True, exclusive=True),
                name="observations_observer_one_exclusive",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="observations_observer_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.observer} from {self.started_at:%H:%M}"


class ObserverHandoff(models.Model):
    """An offer to take over (or start) the watch of a client on a continuous level.

    The current observer keeps the client until the incoming observer accepts; the acceptance
    ends the old assignment and starts the new one at the same instant. An offer is accepted,
    declined by the incoming observer or withdrawn (`closed_at` without `accepted_at`).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    admission = models.ForeignKey(Admission, on_delete=models.PROTECT, related_name="handoffs")
    from_assignment = models.ForeignKey(
        ObserverAssignment, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    to_observer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    offered_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    close_note = models.CharField(max_length=200, blank=True)
    assignment = models.OneToOneField(
        ObserverAssignment, on_delete=models.PROTECT, related_name="handoff", null=True, blank=True
    )

    class Meta:
        ordering = ["admission", "offered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["admission"],
                condition=Q(closed_at__isnull=True),
                name="observations_handoff_one_pending",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True)
                | (Q(closed_at=F("accepted_at")) & Q(assignment__isnull=False)),
                name="observations_handoff_accepted_complete",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("offered_at")),
                name="observations_handoff_closed_after_offer",
            ),
        ]

    def __str__(self) -> str:
        return f"Hand-off to {self.to_observer} at {self.offered_at:%H:%M}"


class ScanMark(models.Model):
    """How far a periodic scan has looked: the next run starts here (capped at 24 hours back)."""

    name = models.CharField(max_length=60, unique=True)
    scanned_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} to {self.scanned_until:%Y-%m-%d %H:%M}"


class SecurityArea(models.Model):
    """A place walked on facility security rounds (doors, windows, med room, sharps…)."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="security_areas")
    name = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["facility", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "name"], name="observations_area_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class SecurityRound(models.Model):
    """One completed walk of a facility for one scheduled window (specs/rounds.md)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    completed_at = models.DateTimeField()
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    # True when the walker marked every area OK with the single "all OK" action (recorded as
    # such, so a round marked area by area and one marked in one tap can be told apart).
    all_ok_declared = models.BooleanField(default=False)

    class Meta:
        ordering = ["-window_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "window_start"], name="observations_securityround_once"
            ),
        ]

    def __str__(self) -> str:
        return f"Security round {self.window_start:%Y-%m-%d %H:%M}"


class SecurityCheck(models.Model):
    """One area on one round: OK, or a finding with where, what and the action taken."""

    round = models.ForeignKey(SecurityRound, on_delete=models.PROTECT, related_name="checks")
    area = models.ForeignKey(SecurityArea, on_delete=models.PROTECT, related_name="+")
    ok = models.BooleanField()
    finding = models.CharField(max_length=300, blank=True)
    location_detail = models.CharField(max_length=200, blank=True)
    action_taken = models.CharField(max_length=300, blank=True)
    alert_raised = models.BooleanField(default=False)

    class Meta:
        ordering = ["round", "area__position"]
        constraints = [
            models.UniqueConstraint(fields=["round", "area"], name="observations_seccheck_once"),
            models.CheckConstraint(
                condition=Q(ok=True) | (~Q(finding="") & ~Q(action_taken="")),
                name="observations_seccheck_finding_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area}: {'OK' if self.ok else self.finding}"


class SecurityFinding(models.Model):
    """A finding recorded between security rounds: what, where, when found and the action."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey(SecurityArea, on_delete=models.PROTECT, related_name="+")
    found_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    finding = models.CharField(max_length=300)
    location_detail = models.CharField(max_length=200, blank=True)
    action_taken = models.CharField(max_length=300)
    alert_raised = models.BooleanField(default=False)

    class Meta:
        ordering = ["-found_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(finding="") & ~Q(action_taken=""),
                name="observations_secfinding_complete",
            ),
            models.CheckConstraint(
                condition=Q(recorded_at__gte=F("found_at")),
                name="observations_secfinding_not_future",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area}: {self.finding}"


# --- Vital signs and withdrawal scales (issue 11, specs/scales.md) -----------------------------


class VitalsSource(models.TextChoices):
    """Where a set was entered."""

    CHART = "chart", "Client chart"
    BOARD = "board", "Rounds board"
    ROUND = "round", "Vitals round"
    MED_PASS = "med_pass", "Med pass"


class VitalsSchedule(models.Model):
    """How often a client's vitals are owed, and what NEWS2 must know about the client; the row
    in force is the latest `effective_from` not after the moment asked about (never edited: a
    change is a new row). Before the first row the facility default applies (daily).

    `spo2_scale2`: a clinician documented a target SpO2 of 88–92 % (NEWS2 SpO2 scale 2).
    `pregnant`: NEWS2 is not validated and the screen says so.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    admission = models.ForeignKey(
        Admission, on_delete=models.PROTECT, related_name="vitals_schedules"
    )
    every_minutes = models.PositiveIntegerField()
    spo2_scale2 = models.BooleanField(default=False)
    pregnant = models.BooleanField(default=False)
    reason = models.CharField(max_length=300)
    effective_from = models.DateTimeField()
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["admission", "effective_from", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(every_minutes__gte=15) & Q(every_minutes__lte=7 * 24 * 60),
                name="observations_vitalsschedule_every_range",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""), name="observations_vitalsschedule_reason"
            ),
        ]
        indexes = [models.Index(fields=["admission", "-effective_from"], name="obs_vsched_adm_idx")]

    def __str__(self) -> str:
        return f"vitals every {self.every_minutes} min from {self.effective_from:%Y-%m-%d %H:%M}"


def _between(field: str, low, high) -> Q:
    return Q(**{f"{field}__isnull": True}) | (
        Q(**{f"{field}__gte": low}) & Q(**{f"{field}__lte": high})
    )


class VitalSigns(models.Model):
    """One set of vital signs (specs/scales.md). Any subset may be taken; NEWS2 is stored when
    the set is complete. Never edited: a wrong set is struck (entered in error, reason kept).

    The plausible ranges of the spec are database constraints too, so a value no form should
    let through cannot be stored by any path.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    admission = models.ForeignKey(Admission, on_delete=models.PROTECT, related_name="vital_signs")
    taken_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    late_reason = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=10, choices=VitalsSource.choices, default="chart")
    sbp = models.PositiveSmallIntegerField("systolic BP", null=True, blank=True)
    dbp = models.PositiveSmallIntegerField("diastolic BP", null=True, blank=True)
    hr = models.PositiveSmallIntegerField("heart rate", null=True, blank=True)
    rr = models.PositiveSmallIntegerField("respiratory rate", null=True, blank=True)
    temp_c = models.DecimalField("temperature", max_digits=3, decimal_places=1, null=True,
                                 blank=True)  # fmt: skip
    # What was typed, when in °F (the chart shows both).
    temp_f_entered = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField("SpO2", null=True, blank=True)
    on_oxygen = models.BooleanField(null=True, blank=True)
    spo2_scale = models.PositiveSmallIntegerField(default=1)
    pain = models.PositiveSmallIntegerField(null=True, blank=True)
    weight_kg = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    acvpu = models.CharField(
        "consciousness (ACVPU)",
        max_length=1,
        blank=True,
        choices=[("A", "Alert"), ("C", "New confusion"), ("V", "Voice"), ("P", "Pain"),
                 ("U", "Unresponsive")],
    )  # fmt: skip
    news2_total = models.PositiveSmallIntegerField(null=True, blank=True)
    news2_band = models.CharField(max_length=12, blank=True)
    news2_red = models.BooleanField(default=False)
    # Comma-separated keys meeting the notify-the-nurse thresholds (scales.flags), e.g. "hr,sbp".
    flags = models.CharField(max_length=80, blank=True)
    remark = models.CharField(max_length=300, blank=True)
    struck_at = models.DateTimeField(null=True, blank=True)
    struck_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    struck_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["admission", "taken_at"]
        constraints = [
            models.CheckConstraint(condition=_between("hr", 20, 250), name="obs_vitals_hr"),
            models.CheckConstraint(condition=_between("rr", 4, 60), name="obs_vitals_rr"),
            models.CheckConstraint(condition=_between("sbp", 50, 300), name="obs_vitals_sbp"),
            models.CheckConstraint(condition=_between("dbp", 20, 200), name="obs_vitals_dbp"),
            models.CheckConstraint(
                condition=Q(sbp__isnull=True) | Q(dbp__isnull=True) | Q(dbp__lt=F("sbp")),
                name="obs_vitals_dbp_below_sbp",
            ),
            models.CheckConstraint(condition=_between("temp_c", 30, 43), name="obs_vitals_temp"),
            models.CheckConstraint(condition=_between("spo2", 50, 100), name="obs_vitals_spo2"),
            models.CheckConstraint(condition=_between("pain", 0, 10), name="obs_vitals_pain"),
            models.CheckConstraint(
                condition=_between("weight_kg", 20, 400), name="obs_vitals_weight"
            ),
            models.CheckConstraint(
                condition=Q(spo2_scale__in=[1, 2]), name="obs_vitals_spo2_scale"
            ),
            models.CheckConstraint(
                condition=Q(acvpu__in=["", "A", "C", "V", "P", "U"]), name="obs_vitals_acvpu"
            ),
            models.CheckConstraint(
                condition=Q(source__in=VitalsSource.values), name="obs_vitals_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(recorded_at__gte=F("taken_at")), name="obs_vitals_not_in_future"
            ),
            models.CheckConstraint(
                condition=~(
                    Q(sbp__isnull=True)
                    & Q(dbp__isnull=True)
                    & Q(hr__isnull=True)
                    & Q(rr__isnull=True)
                    & Q(temp_c__isnull=True)
                    & Q(spo2__isnull=True)
                    & Q(pain__isnull=True)
                    & Q(weight_kg__isnull=True)
                    & Q(acvpu="")
                ),
                name="obs_vitals_not_empty",
            ),  # fmt: skip
            models.CheckConstraint(
                condition=Q(news2_total__isnull=True) | Q(news2_total__lte=20),
                name="obs_vitals_news2_range",
            ),
            models.CheckConstraint(
                condition=Q(struck_at__isnull=True)
                | (Q(struck_by__isnull=False) & ~Q(struck_reason="")),
                name="obs_vitals_strike_complete",
            ),
        ]
        indexes = [models.Index(fields=["admission", "-taken_at"], name="obs_vitals_adm_idx")]

    def __str__(self) -> str:
        return f"vitals {self.taken_at:%Y-%m-%d %H:%M}"


class Scale(models.TextChoices):
    CIWA_AR = "ciwa_ar", "CIWA-Ar (alcohol)"
    COWS = "cows", "COWS (opioids)"


class WithdrawalProtocol(models.Model):
    """A client on withdrawal monitoring with one scale: reassessed every `every_hours`, or every
    `tight_hours` after a score at or above `tight_from` (specs/scales.md; CIWA-Ar default 4 h,
    1 h from 8). Open until ended, with who and why."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    admission = models.ForeignKey(
        Admission, on_delete=models.PROTECT, related_name="withdrawal_protocols"
    )
    scale = models.CharField(max_length=8, choices=Scale.choices)
    every_hours = models.PositiveSmallIntegerField(default=4)
    tight_from = models.PositiveSmallIntegerField(null=True, blank=True, default=8)
    tight_hours = models.PositiveSmallIntegerField(default=1)
    started_at = models.DateTimeField()
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=300)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    end_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["admission", "started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["admission", "scale"],
                condition=Q(ended_at__isnull=True),
                name="obs_protocol_one_open_per_scale",
            ),
            models.CheckConstraint(
                condition=Q(scale__in=Scale.values), name="obs_protocol_scale_valid"
            ),
            models.CheckConstraint(
                condition=Q(every_hours__gte=1)
                & Q(every_hours__lte=24)
                & Q(tight_hours__gte=1)
                & Q(tight_hours__lte=F("every_hours")),
                name="obs_protocol_hours_range",
            ),  # fmt: skip
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True)
                | (
                    Q(ended_at__gte=F("started_at")) & Q(ended_by__isnull=False) & ~Q(end_reason="")
                ),
                name="obs_protocol_end_complete",
            ),  # fmt: skip
            models.CheckConstraint(condition=~Q(reason=""), name="obs_protocol_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.get_scale_display()} protocol from {self.started_at:%Y-%m-%d %H:%M}"


class ScaleAssessment(models.Model):
    """One CIWA-Ar or COWS assessment: each item's value, and the total and band the facility's
    profile gave at the time (stored, so a later profile change does not rewrite history).
    Never edited; struck with a reason when entered in error."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    admission = models.ForeignKey(
        Admission, on_delete=models.PROTECT, related_name="scale_assessments"
    )
    protocol = models.ForeignKey(
        WithdrawalProtocol,
        on_delete=models.PROTECT,
        related_name="assessments",
        null=True,
        blank=True,
    )
    scale = models.CharField(max_length=8, choices=Scale.choices)
    items = models.JSONField()
    total = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=20)
    profile = models.CharField(max_length=20, default="default")
    # COWS: the pulse the resting-pulse item was derived from, when it was.
    pulse_bpm = models.PositiveSmallIntegerField(null=True, blank=True)
    assessed_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    late_reason = models.CharField(max_length=200, blank=True)
    remark = models.CharField(max_length=300, blank=True)
    struck_at = models.DateTimeField(null=True, blank=True)
    struck_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    struck_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["admission", "assessed_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scale__in=Scale.values), name="obs_assessment_scale_valid"
            ),
            models.CheckConstraint(
                condition=(Q(scale="ciwa_ar") & Q(total__lte=67))
                | (Q(scale="cows") & Q(total__lte=48)),
                name="obs_assessment_total_range",
            ),
            models.CheckConstraint(
                condition=Q(recorded_at__gte=F("assessed_at")),
                name="obs_assessment_not_in_future",
            ),
            models.CheckConstraint(
                condition=Q(struck_at__isnull=True)
                | (Q(struck_by__isnull=False) & ~Q(struck_reason="")),
                name="obs_assessment_strike_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["admission", "scale", "-assessed_at"], name="obs_scale_adm_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_scale_display()} {self.total} at {self.assessed_at:%Y-%m-%d %H:%M}"


# ---------------------------------------------------------------------------------------------
# Issue 12 (specs/charting.md): behavior and mood notes, progress notes, the C-SSRS screen,
# incidents and groups.
# ---------------------------------------------------------------------------------------------


class Mood(models.TextChoices):
    EUTHYMIC = "euthymic", "Euthymic"
    ANXIOUS = "anxious", "Anxious"
    DEPRESSED = "depressed", "Depressed"
    IRRITABLE = "irritable", "Irritable"
    ANGRY = "angry", "Angry"
    EUPHORIC = "euphoric", "Euphoric"
    LABILE = "labile", "Labile"


class Affect(models.TextChoices):
    FULL = "full", "Full"
    RESTRICTED = "restricted", "Restricted"
    BLUNTED = "blunted", "Blunted"
    FLAT = "flat", "Flat"
    LABILE = "labile", "Labile"


class Behavior(models.TextChoices):
    CALM = "calm", "Calm"
    COOPERATIVE = "cooperative", "Cooperative"
    WITHDRAWN = "withdrawn", "Withdrawn"
    ISOLATIVE = "isolative", "Isolative"
    AGITATED = "agitated", "Agitated"
    HOSTILE = "hostile", "Hostile"
    INTRUSIVE = "intrusive", "Intrusive"
    DISORGANIZED = "disorganized", "Disorganized"
    INTERNAL_STIMULI = "internal_stimuli", "Responding to internal stimuli"
    TEARFUL = "tearful", "Tearful"
    GUARDED = "guarded", "Guarded"


class Participation(models.TextChoices):
    FULL = "full", "Full"
    PARTIAL = "partial", "Partial"
    NONE = "none", "None"
    REFUSED = "refused", "Refused"


class SleepQuality(models.TextChoices):
    GOOD = "good", "Good"
    FAIR = "fair", "Fair"
    POOR = "poor", "Poor"


class RiskFlag(models.TextChoices):
    SUICIDAL = "suicidal", "Suicidal thoughts"
    SELF_HARM = "self_harm", "Self-harm urges"
    HOMICIDAL = "homicidal", "Homicidal thoughts"
    LEAVING = "leaving", "Talk of leaving against advice (AWOL/AMA risk)"
    CONTRABAND = "contraband", "Contraband suspected"


class NoteFormat(models.TextChoices):
    """Narrative formats; each is its sections in order (observations/notes.py)."""

    BIRP = "birp", "BIRP (Behavior, Intervention, Response, Plan)"
    DAP = "dap", "DAP (Data, Assessment, Plan)"
    SOAP = "soap", "SOAP (Subjective, Objective, Assessment, Plan)"
    NARRATIVE = "narrative", "Narrative"


MEAL_PERCENTS = (0, 25, 50, 75, 100)


def _struck_complete(prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(struck_at__isnull=True) | (Q(struck_by__isnull=False) & ~Q(struck_reason="")),
        name=f"{prefix}_strike_complete",
    )


class BehaviorNote(models.Model):
    """A technician's or nurse's behavior and mood note: the structured fields of the spec (each
    optional, at least one given, checked by the service) and a narrative in the facility's
    format. Saved is signed: never edited, struck with a reason when entered in error."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    admission = models.ForeignKey(
        Admission, on_delete=models.PROTECT, related_name="behavior_notes"
    )
    observed_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    mood_words = models.CharField(max_length=200, blank=True)
    mood = models.CharField(max_length=12, choices=Mood.choices, blank=True)
    affect = models.CharField(max_length=12, choices=Affect.choices, blank=True)
    affect_congruent = models.BooleanField(null=True, blank=True)
    behaviors = models.JSONField(default=list, blank=True)  # Behavior values
    participation = models.CharField(max_length=10, choices=Participation.choices, blank=True)
    sleep_hours = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    sleep_quality = models.CharField(max_length=6, choices=SleepQuality.choices, blank=True)
    meal_breakfast = models.PositiveSmallIntegerField(null=True, blank=True)
    meal_lunch = models.PositiveSmallIntegerField(null=True, blank=True)
    meal_dinner = models.PositiveSmallIntegerField(null=True, blank=True)
    cravings = models.PositiveSmallIntegerField(null=True, blank=True)
    risk_flags = models.JSONField(default=list, blank=True)  # RiskFlag values
    narrative_format = models.CharField(max_length=10, choices=NoteFormat.choices)
    narrative = models.JSONField(default=dict, blank=True)  # {section key: text}
    handoff = models.BooleanField(default=False)
    # The round check the note was started from (quick entry on the board), if any.
    round_check = models.ForeignKey(
        RoundCheck, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    late_entry = models.BooleanField(default=False)
    struck_at = models.DateTimeField(null=True, blank=True)
    struck_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    struck_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["admission", "observed_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(recorded_at__gte=F("observed_at")),
                name="obs_behaviornote_not_in_future",
            ),
            models.CheckConstraint(
                condition=Q(cravings__isnull=True) | Q(cravings__lte=10),
                name="obs_behaviornote_cravings_range",
            ),
            models.CheckConstraint(
                condition=Q(sleep_hours__isnull=True)
                | (Q(sleep_hours__gte=0) & Q(sleep_hours__lte=24)),
                name="obs_behaviornote_sleep_range",
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{meal}__isnull": True}) | Q(**{f"{meal}__in": MEAL_PERCENTS}),
                    name=f"obs_behaviornote_{meal}_percent",
                )
                for meal in ("meal_breakfast", "meal_lunch", "meal_dinner")
            ],
            _struck_complete("obs_behaviornote"),
        ]
        indexes = [
            models.Index(fields=["admission", "-observed_at"], name="obs_bnote_adm_idx"),
            models.Index(
                fields=["observed_at"], condition=Q(handoff=True), name="obs_bnote_handoff_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Behavior note {self.observed_at:%Y-%m-%d %H:%M}"


class ProgressNote(models.Model):
    """A progress note by any clinical role (specs/charting.md).

    A draft (`signed_at` empty) is autosaved and visible only to its author; signing fixes it for
    good: a database trigger (migration 0007) refuses any change to a signed note's text, times,
    author or client. After signing only an addendum (`NoteAddendum`), an entered-in-error strike
    (reason kept, struck but visible) or a co-signature changes what the chart shows.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    admission = models.ForeignKey(
        Admission, on_delete=models.PROTECT, related_name="progress_notes"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note_format = models.CharField(max_length=10, choices=NoteFormat.choices)
    sections = models.JSONField(default=dict, blank=True)  # {section key: text}
    event_at = models.DateTimeField()
    created_at = models.DateTimeField()
    # Autosave: every save bumps `version`; a save carrying an older version is refused, so two
    # tabs cannot overwrite each other's text.
    saved_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)
    signed_at = models.DateTimeField(null=True, blank=True)
    # Recorded after the shift that holds `event_at` had ended (judged when signed).
    late_entry = models.BooleanField(default=False)
    cosign_required = models.BooleanField(default=False)
    cosigned_at = models.DateTimeField(null=True, blank=True)
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    struck_at = models.DateTimeField(null=True, blank=True)
    struck_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    struck_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["admission", "event_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True) | Q(signed_at__gte=F("event_at")),
                name="obs_progressnote_event_not_after_signing",
            ),
            models.CheckConstraint(
                condition=Q(cosigned_at__isnull=True)
                | (
                    Q(signed_at__isnull=False)
                    & Q(cosign_required=True)
                    & Q(cosigned_by__isnull=False)
                    & ~Q(cosigned_by=F("author"))
                    & Q(cosigned_at__gte=F("signed_at"))
                ),
                name="obs_progressnote_cosign_complete",
            ),  # fmt: skip
            models.CheckConstraint(
                condition=Q(struck_at__isnull=True) | Q(signed_at__isnull=False),
                name="obs_progressnote_strike_only_signed",
            ),
            _struck_complete("obs_progressnote"),
        ]
        indexes = [
            models.Index(fields=["admission", "-event_at"], name="obs_pnote_adm_idx"),
            models.Index(
                fields=["signed_at"],
                condition=Q(cosign_required=True, cosigned_at__isnull=True, struck_at__isnull=True)
                & Q(signed_at__isnull=False),
                name="obs_pnote_cosign_queue_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Progress note {self.event_at:%Y-%m-%d %H:%M}"


class NoteAddendum(models.Model):
    """Text added to a signed progress note: its own author and time, signed when saved."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    note = models.ForeignKey(ProgressNote, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["note", "recorded_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="obs_noteaddendum_text"),
        ]

    def __str__(self) -> str:
        return f"Addendum {self.recorded_at:%Y-%m-%d %H:%M}"


class CssrsResult(models.TextChoices):
    NONE = "none", "No risk identified"
    LOW = "low", "Low risk"
    MODERATE = "moderate", "Moderate risk"
    HIGH = "high", "High risk"


class CssrsReason(models.TextChoices):
    ADMISSION = "admission", "At admission"
    RISK_FLAG = "risk_flag", "After a risk flag"
    ORDERED = "ordered", "Ordered by a clinician"
    OTHER = "other", "Other concern"


class CssrsRequest(models.Model):
    """A C-SSRS screen owed: after a risk flag in a behavior note, or ordered by a clinician
    (the screen owed at admission needs no row: a stay with no screen owes one). Open until a
    screen answers it or it is cancelled with a reason."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    admission = models.ForeignKey(
        Admission, on_delete=models.PROTECT, related_name="cssrs_requests"
    )
    reason = models.CharField(max_length=10, choices=CssrsReason.choices)
    detail = models.CharField(max_length=300, blank=True)
    behavior_note = models.ForeignKey(
        BehaviorNote, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    due_at = models.DateTimeField()
    answered_by = models.ForeignKey(
        "CssrsScreen", on_delete=models.PROTECT, null=True, blank=True, related_name="requests"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    cancel_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["admission", "requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reason__in=CssrsReason.values), name="obs_cssrsrequest_reason_valid"
            ),
            models.CheckConstraint(
                condition=Q(cancelled_at__isnull=True)
                | (Q(cancelled_by__isnull=False) & ~Q(cancel_reason="")),
                name="obs_cssrsrequest_cancel_complete",
            ),
            models.CheckConstraint(
                condition=Q(due_at__gte=F("requested_at")), name="obs_cssrsrequest_due_after"
            ),
        ]
        indexes = [
            models.Index(
                fields=["admission"],
                condition=Q(answered_by__isnull=True, cancelled_at__isnull=True),
                name="obs_cssrsrequest_open_idx",
            )
        ]

    def __str__(self) -> str:
        return f"C-SSRS owed ({self.get_reason_display()})"


class CssrsScreen(models.Model):
    """One C-SSRS screen version: the answers as asked (3-5 only after a yes to 2) and the triage
    `observations.scales.cssrs_screen` gave. Never edited; struck with a reason."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    admission = models.ForeignKey(Admission, on_delete=models.PROTECT, related_name="cssrs_screens")
    reason = models.CharField(max_length=10, choices=CssrsReason.choices)
    answers = models.JSONField()  # {"q1": bool, ..., "q6": bool, "q6_recent": bool}
    result = models.CharField(max_length=10, choices=CssrsResult.choices)
    screened_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    remark = models.CharField(max_length=500, blank=True)
    # High: was a safety plan started or reviewed (the screen prompts it).
    safety_plan = models.BooleanField(null=True, blank=True)
    struck_at = models.DateTimeField(null=True, blank=True)
    struck_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    struck_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["admission", "screened_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(result__in=CssrsResult.values), name="obs_cssrsscreen_result_valid"
            ),
            models.CheckConstraint(
                condition=Q(reason__in=CssrsReason.values), name="obs_cssrsscreen_reason_valid"
            ),
            models.CheckConstraint(
                condition=Q(recorded_at__gte=F("screened_at")),
                name="obs_cssrsscreen_not_in_future",
            ),
            _struck_complete("obs_cssrsscreen"),
        ]
        indexes = [
            models.Index(fields=["admission", "-screened_at"], name="obs_cssrs_adm_idx"),
        ]

    def __str__(self) -> str:
        return f"C-SSRS {self.result} at {self.screened_at:%Y-%m-%d %H:%M}"


class IncidentType(models.TextChoices):
    AGGRESSION_STAFF = "aggression_staff", "Aggression toward staff"
    AGGRESSION_PEER = "aggression_peer", "Aggression toward a peer"
    SELF_HARM = "self_harm", "Self-harm"
    SUICIDE_ATTEMPT = "suicide_attempt", "Suicide attempt"
    ELOPEMENT = "elopement", "Elopement / AWOL"
    FALL = "fall", "Fall"
    MEDICAL_EMERGENCY = "medical_emergency", "Medical emergency"
    OVERDOSE = "overdose", "Overdose (naloxone given)"
    MEDICATION_ERROR = "medication_error", "Medication error"
    CONTRABAND = "contraband", "Contraband found"
    PROPERTY_DAMAGE = "property_damage", "Property damage"
    SEXUAL_MISCONDUCT = "sexual_misconduct", "Sexual misconduct"
    ABUSE_ALLEGATION = "abuse_allegation", "Allegation of abuse"
    CONTROLLED_LOSS = "controlled_loss", "Controlled-substance loss"
    OTHER = "other", "Other"


class IncidentSeverity(models.TextChoices):
    NO_HARM = "no_harm", "No harm"
    MINOR = "minor", "Minor"
    MODERATE = "moderate", "Moderate"
    MAJOR = "major", "Major"
    DEATH = "death", "Death"


class IncidentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted, awaiting review"
    REVIEWED = "reviewed", "Reviewed and signed off"


class IncidentSource(models.TextChoices):
    MANUAL = "manual", "Reported by staff"
    ROUND = "round", "A round check (self-harm or safety concern)"
    NALOXONE = "naloxone", "A naloxone administration"
    COUNT = "count", "A controlled-count variance (significant loss)"
    TRIP = "trip", "A transport head count"


class Incident(models.Model):
    """An incident report: an administrative quality record, NOT part of the chart
    (specs/charting.md). Visible only to supervisors, its reporter and the staff it names;
    never in chart prints or disclosures. The chart gets an objective behavior note instead.

    Opened as a draft (by staff, or prefilled from a round, a naloxone dose or a count variance:
    `source` and `source_ref`, unique, so a retried hook opens one), submitted by the reporter,
    then reviewed and signed off by a supervisor. A submitted report is not edited; what is
    learnt later is a follow-up (`IncidentFollowUp`)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="incidents")
    incident_type = models.CharField(max_length=20, choices=IncidentType.choices)
    severity = models.CharField(max_length=10, choices=IncidentSeverity.choices, blank=True)
    status = models.CharField(
        max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.DRAFT
    )
    occurred_at = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True)
    visitors = models.CharField(max_length=300, blank=True)  # names of visitors involved
    description = models.TextField(blank=True)  # what happened, objectively
    antecedents = models.TextField(blank=True)
    interventions = models.JSONField(default=list, blank=True)  # Intervention values
    hold_started_at = models.DateTimeField(null=True, blank=True)  # emergency hold, if permitted
    hold_ended_at = models.DateTimeField(null=True, blank=True)
    injuries = models.TextField(blank=True)  # who, what, first aid given
    ems_called_at = models.DateTimeField(null=True, blank=True)
    ems_agency = models.CharField(max_length=120, blank=True)
    ems_outcome = models.CharField(max_length=300, blank=True)
    source = models.CharField(
        max_length=10, choices=IncidentSource.choices, default=IncidentSource.MANUAL
    )
    source_ref = models.CharField(max_length=100, null=True, blank=True, unique=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    debrief_at = models.DateTimeField(null=True, blank=True)
    debrief_note = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    review_note = models.TextField(blank=True)
    # The objective chart note written when the report was submitted.
    chart_note_text = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(incident_type__in=IncidentType.values),
                name="obs_incident_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=IncidentStatus.values), name="obs_incident_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="draft")
                | (Q(submitted_at__isnull=False) & ~Q(severity="") & ~Q(description="")),
                name="obs_incident_submitted_complete",
            ),
            models.CheckConstraint(
                condition=~Q(status="reviewed")
                | (
                    Q(reviewed_at__isnull=False)
                    & Q(reviewed_by__isnull=False)
                    & ~Q(reviewed_by=F("reported_by"))
                    & ~Q(review_note="")
                ),
                name="obs_incident_review_complete",
            ),  # fmt: skip
            models.CheckConstraint(
                condition=Q(hold_ended_at__isnull=True)
                | (Q(hold_started_at__isnull=False) & Q(hold_ended_at__gte=F("hold_started_at"))),
                name="obs_incident_hold_times",
            ),
        ]
        indexes = [
            models.Index(fields=["facility", "status", "-occurred_at"], name="obs_incident_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_incident_type_display()} at {self.occurred_at:%Y-%m-%d %H:%M}"


class Intervention(models.TextChoices):
    VERBAL = "verbal", "Verbal de-escalation"
    REDIRECTION = "redirection", "Redirection"
    SPACE = "space", "Space offered"
    PRN = "prn", "PRN offered"
    HOLD = "hold", "Emergency hold"
    FIRST_AID = "first_aid", "First aid"
    NALOXONE = "naloxone", "Naloxone given"
    EMS = "ems", "Emergency services called"
    OTHER = "other", "Other"


class IncidentClient(models.Model):
    """A client named in an incident (their chart gets the objective note)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="client_links")
    admission = models.ForeignKey(Admission, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=60, blank=True)  # e.g. "involved", "injured", "witness"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "admission"], name="obs_incidentclient_once"
            ),
        ]

    def __str__(self) -> str:
        return f"Client in incident {self.incident_id}"


class IncidentStaff(models.Model):
    """A staff member named in an incident: they may read the report."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="staff_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=60, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "user"], name="obs_incidentstaff_once"),
        ]

    def __str__(self) -> str:
        return f"Staff in incident {self.incident_id}"


class NotifiedParty(models.TextChoices):
    SUPERVISOR = "supervisor", "Supervisor"
    CLINICIAN = "clinician", "On-call clinician or prescriber"
    FAMILY = "family", "Family or guardian"
    STATE = "state", "State licensing agency"
    POLICE = "police", "Police"
    OTHER = "other", "Other"


class NotifyMethod(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    PHONE = "phone", "Phone"
    EMAIL = "email", "E-mail"
    FAX = "fax", "Fax"
    PORTAL = "portal", "Online portal"
    LETTER = "letter", "Letter"


class FamilyBasis(models.TextChoices):
    """Why a family member or guardian may be told (42 CFR Part 2, specs/privacy.md)."""

    CONSENT = "consent", "The client's written consent covers this person"
    EMERGENCY = "emergency", "Medical emergency (§2.51)"


class IncidentNotification(models.Model):
    """Who was told about an incident, how and when. Family is told only with the client's
    consent or in a medical emergency: the basis is required (database constraint)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="notifications")
    party = models.CharField(max_length=12, choices=NotifiedParty.choices)
    person = models.CharField(max_length=120)  # name, agency or badge as told
    method = models.CharField(max_length=10, choices=NotifyMethod.choices)
    notified_at = models.DateTimeField()
    family_basis = models.CharField(max_length=10, choices=FamilyBasis.choices, blank=True)
    # The consent relied on (its reference, until consents are records: issue 16).
    consent_reference = models.CharField(max_length=120, blank=True)
    note = models.CharField(max_length=300, blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["incident", "notified_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(party__in=NotifiedParty.values), name="obs_notification_party_valid"
            ),
            models.CheckConstraint(
                condition=~Q(party="family")
                | Q(family_basis="emergency")
                | (Q(family_basis="consent") & ~Q(consent_reference="")),
                name="obs_notification_family_basis",
            ),
            models.CheckConstraint(
                condition=Q(recorded_at__gte=F("notified_at")),
                name="obs_notification_not_in_future",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_party_display()} notified {self.notified_at:%Y-%m-%d %H:%M}"


class IncidentFollowUp(models.Model):
    """Something learnt or done after an incident was submitted (append-only)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="follow_ups")
    text = models.TextField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["incident", "recorded_at"]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="obs_followup_text")]

    def __str__(self) -> str:
        return f"Follow-up {self.recorded_at:%Y-%m-%d %H:%M}"


class GroupType(models.TextChoices):
    PSYCHOEDUCATION = "psychoeducation", "Psychoeducation"
    PROCESS = "process", "Process"
    SKILLS = "skills", "Skills"
    RELAPSE_PREVENTION = "relapse_prevention", "Relapse prevention"
    MUTUAL_HELP = "mutual_help", "Mutual-help / 12-step"
    LIFE_SKILLS = "life_skills", "Life skills"
    RECREATION = "recreation", "Recreation"
    FAMILY = "family", "Family"


class GroupTopic(models.Model):
    """A topic of the facility's group curriculum; sessions are chosen from it."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="group_topics")
    group_type = models.CharField(max_length=20, choices=GroupType.choices)
    title = models.CharField(max_length=120)
    description = models.CharField(max_length=500, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["facility", "group_type", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "group_type", "title"], name="obs_grouptopic_unique"
            ),
            models.CheckConstraint(
                condition=Q(group_type__in=GroupType.values), name="obs_grouptopic_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_group_type_display()}: {self.title}"


class GroupSession(models.Model):
    """One group held: its curriculum topic, facilitators, times, place, and for one unit or the
    whole facility. Attendance is documented once for everyone eligible."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="group_sessions")
    unit = models.ForeignKey(
        "facility.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    topic = models.ForeignKey(GroupTopic, on_delete=models.PROTECT, related_name="sessions")
    group_type = models.CharField(max_length=20, choices=GroupType.choices)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    co_facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    location = models.CharField(max_length=120, blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Attendance documented (the roster saved): when and by whom.
    documented_at = models.DateTimeField(null=True, blank=True)
    documented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="obs_groupsession_ends_after"
            ),
            models.CheckConstraint(
                condition=Q(co_facilitator__isnull=True) | ~Q(co_facilitator=F("facilitator")),
                name="obs_groupsession_two_facilitators",
            ),
            models.CheckConstraint(
                condition=Q(group_type__in=GroupType.values),
                name="obs_groupsession_type_valid",
            ),
        ]
        indexes = [models.Index(fields=["facility", "-starts_at"], name="obs_groupsession_idx")]

    def __str__(self) -> str:
        return f"{self.topic} {self.starts_at:%Y-%m-%d %H:%M}"


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", "Present"
    PARTIAL = "partial", "Partial"
    ABSENT = "absent", "Absent"
    REFUSED = "refused", "Refused"
    EXCUSED = "excused", "Excused"


class GroupParticipation(models.TextChoices):
    ACTIVE = "active", "Active"
    MINIMAL = "minimal", "Minimal"
    NONE = "none", "None"
    DISRUPTIVE = "disruptive", "Disruptive"


class GroupAttendance(models.Model):
    """One client's attendance at one session; it shows in their chart."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(GroupSession, on_delete=models.PROTECT, related_name="attendance")
    admission = models.ForeignKey(
        Admission, on_delete=models.PROTECT, related_name="group_attendance"
    )
    status = models.CharField(max_length=10, choices=AttendanceStatus.choices)
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)  # partial only
    participation = models.CharField(max_length=10, choices=GroupParticipation.choices, blank=True)
    excuse_reason = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=200, blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    struck_at = models.DateTimeField(null=True, blank=True)
    struck_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    struck_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["session", "admission"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "admission"],
                condition=Q(struck_at__isnull=True),
                name="obs_attendance_once",
            ),
            models.CheckConstraint(
                condition=Q(status__in=AttendanceStatus.values),
                name="obs_attendance_status_valid",
            ),
            models.CheckConstraint(
                condition=(Q(status="partial") & Q(minutes__gte=1))
                | (~Q(status="partial") & Q(minutes__isnull=True)),
                name="obs_attendance_partial_minutes",
            ),
            models.CheckConstraint(
                condition=~Q(status="excused") | ~Q(excuse_reason=""),
                name="obs_attendance_excused_reason",
            ),
            _struck_complete("obs_attendance"),
        ]
        indexes = [models.Index(fields=["admission", "session"], name="obs_attendance_adm_idx")]

    def __str__(self) -> str:
        return f"{self.get_status_display()} at {self.session_id}"


class ClinicalHoursTarget(models.Model):
    """Weekly clinical group hours a client at a level of care should attend, per facility."""

    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="clinical_hours_targets"
    )
    level_of_care = models.CharField(max_length=10)
    hours_per_week = models.DecimalField(max_digits=4, decimal_places=1)

    class Meta:
        ordering = ["facility", "level_of_care"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "level_of_care"], name="obs_hourstarget_unique"
            ),
            models.CheckConstraint(
                condition=Q(hours_per_week__gte=0) & Q(hours_per_week__lte=80),
                name="obs_hourstarget_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.level_of_care}: {self.hours_per_week} h/week"


# ---------------------------------------------------------------- SUD counseling notes (issue 16)

COUNSELING_BODY_MAX = 8000  # characters


class CounselingNote(models.Model):
    """A clinician's SUD counseling note (specs/privacy.md "SUD counseling notes"; issue 16 item
    8). Kept apart from the rest of the chart: never in the timeline, the progress notes, the
    shift report, the survey bundle or any bulk export, and read only by its author and the
    people the author grants (`CounselingNoteGrant`), each read audited.

    Saved is signed (as a behavior note is): a database trigger (migration 0010) refuses any later
    change but the entered-in-error strike (once, reason kept), and every DELETE. After signing
    only an addendum by its author (`CounselingAddendum`) adds to it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    admission = models.ForeignKey(
        Admission, on_delete=models.PROTECT, related_name="counseling_notes"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField()  # when the session took place
    recorded_at = models.DateTimeField()  # when it was saved, and so signed
    body = models.TextField()
    struck_at = models.DateTimeField(null=True, blank=True)
    struck_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    struck_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["admission", "-occurred_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(recorded_at__gte=F("occurred_at")),
                name="obs_counselingnote_not_in_future",
            ),
            models.CheckConstraint(condition=~Q(body=""), name="obs_counselingnote_body"),
            models.CheckConstraint(
                condition=Q(struck_at__isnull=True) | Q(struck_by=F("author")),
                name="obs_counselingnote_struck_by_author",
            ),
            _struck_complete("obs_counselingnote"),
        ]
        indexes = [
            models.Index(fields=["admission", "author", "-occurred_at"], name="obs_cnote_adm_idx"),
        ]

    def __str__(self) -> str:
        return f"Counseling note {self.occurred_at:%Y-%m-%d %H:%M}"

    @property
    def signed_at(self):
        """Saved is signed."""
        return self.recorded_at

    def readable_by(self, user) -> bool:
        """Its author, or a person the author granted (grant not revoked) for this client. The
        grantee's role and facility are the policy's to check (facility/policy.py)."""
        if not (user.is_authenticated and user.is_active):
            return False
        if self.author_id == user.pk:
            return True
        return CounselingNoteGrant.objects.filter(
            client_id=self.admission.client_id,
            author_id=self.author_id,
            grantee_id=user.pk,
            revoked_at__isnull=True,
        ).exists()


class CounselingAddendum(models.Model):
    """Text its author adds to a signed counseling note: its own time, signed when saved, never
    changed (migration 0010)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    note = models.ForeignKey(CounselingNote, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["note", "recorded_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="obs_counselingaddendum_text"),
        ]

    def __str__(self) -> str:
        return f"Counseling addendum {self.recorded_at:%Y-%m-%d %H:%M}"


class CounselingNoteGrant(models.Model):
    """The author lets one colleague read the author's counseling notes of one client, those
    written before and after the grant, until revoked (scope: author + client). Only the author
    grants and revokes; a revoked grant stops the next read at once. The grantee is active staff
    of the client's facility who can see the census (checked when granted, and again by the
    policy at every read). Rows are never deleted: revoking sets `revoked_at` once."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="counseling_grants"
    )
    # Whose notes, and who granted: always the same person.
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    grantee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="counseling_grants"
    )
    granted_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["client", "-granted_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(grantee=F("author")), name="obs_counselinggrant_not_self"
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True)
                | (Q(revoked_by=F("author")) & Q(revoked_at__gte=F("granted_at"))),
                name="obs_counselinggrant_revoke_complete",
            ),
            models.UniqueConstraint(
                fields=["client", "author", "grantee"],
                condition=Q(revoked_at__isnull=True),
                name="obs_counselinggrant_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"Counseling grant {self.granted_at:%Y-%m-%d %H:%M}"

    @property
    def granted_by(self):
        return self.author
