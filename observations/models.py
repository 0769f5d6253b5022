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
