"""The facility core: where care happens (Facility, Unit, Bed), who gives it (User), what needs
attention (Alert) and who looked at what (AccessEvent)."""

import hashlib
import json
import uuid
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from facility import shifts


def validate_time_zone(value: str) -> None:
    """Reject a time zone name the IANA database does not know."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone.", code="time_zone")


class Facility(models.Model):
    """A residential treatment site with its own time zone; every client record belongs to one."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120, unique=True)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    address = models.TextField(blank=True)
    shift_pattern = models.CharField(
        max_length=8,
        choices=shifts.PATTERN_CHOICES,
        default=shifts.DEFAULT_PATTERN,
        help_text="The MAR shift view, shift-change counts and security rounds follow it.",
    )
    # Technician scope on the MAR (issue 9): facility policy, enforced by facility/policy.py.
    tech_observed_routes = models.CharField(
        max_length=200,
        default="oral,sublingual,topical,inhaled,intranasal",
        help_text="Routes technicians may chart as observed self-administration (route codes).",
    )
    tech_observed_controlled = models.BooleanField(
        default=False, help_text="Technicians may chart observed self-administration of a "
        "controlled substance.",
    )  # fmt: skip
    tech_prn_effect = models.BooleanField(
        default=False, help_text="Technicians may chart a PRN dose's effectiveness."
    )
    # Orders (issue 9): a verbal/telephone order awaits the prescriber's co-signature this long;
    # an order given before its second check alerts when still unverified after this long.
    order_cosign_hours = models.PositiveSmallIntegerField(default=48)
    unverified_order_alert_hours = models.PositiveSmallIntegerField(default=12)
    # Vitals and withdrawal (issue 11, specs/scales.md): the CIWA-Ar band profile, how often a
    # client's vitals are owed when no schedule was ordered, and how old a vital may be for an
    # order's hold parameter to use it instead of asking at the med pass.
    ciwa_profile = models.CharField(
        max_length=12,
        choices=[("default", "0–7 minimal, 8–15 mild, 16–20 moderate, ≥ 21 severe"),
                 ("alternative", "0–9 minimal, 10–15 mild, 16–20 moderate, ≥ 21 severe")],
        default="default",
    )  # fmt: skip
    vitals_default_every_minutes = models.PositiveIntegerField(default=24 * 60)
    hold_vital_max_age_minutes = models.PositiveSmallIntegerField(default=60)
    # Notes, incidents and groups (issue 12, specs/charting.md).
    note_format = models.CharField(
        max_length=10,
        choices=[("birp", "BIRP (Behavior, Intervention, Response, Plan)"),
                 ("dap", "DAP (Data, Assessment, Plan)"),
                 ("soap", "SOAP (Subjective, Objective, Assessment, Plan)"),
                 ("narrative", "Narrative")],
        default="birp",
        help_text="The narrative format of behavior and progress notes.",
    )  # fmt: skip
    cosign_technician_notes = models.BooleanField(
        default=True, help_text="A technician's progress note waits for a nurse's or "
        "clinician's co-signature.",
    )  # fmt: skip
    emergency_holds_permitted = models.BooleanField(
        default=False, help_text="Incident reports may record an emergency hold."
    )
    incident_state_report_hours = models.PositiveSmallIntegerField(
        default=24, help_text="A critical incident is reported to the state licensing agency "
        "within this many hours.",
    )  # fmt: skip
    incident_debrief_hours = models.PositiveSmallIntegerField(default=72)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "facilities"

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    # Shifts on this facility's pattern and clock (facility/shifts.py); instants are UTC.
    def shift_choices(self) -> list[tuple[str, str]]:
        return shifts.shift_choices(self.shift_pattern)

    def shift_bounds(self, day, key: str):
        return shifts.shift_bounds(day, key, self.shift_pattern, self.tz)

    def current_shift(self, now):
        return shifts.current_shift(now, self.shift_pattern, self.tz)

    def shift_changes_between(self, start, end):
        return shifts.shift_changes_between(start, end, self.shift_pattern, self.tz)


class Unit(models.Model):
    """A living unit (hall, house, wing) of a facility."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="units")
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["facility", "name"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "name"], name="facility_unit_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name}"


class Bed(models.Model):
    """A bed in a unit; at most one admitted client at a time (enforced on Admission)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="beds")
    label = models.CharField(max_length=20, help_text="Room and bed, e.g. 104-A")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["unit", "label"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "label"], name="facility_bed_label_unique"),
        ]

    def __str__(self) -> str:
        return self.label


class Role(models.TextChoices):
    TECHNICIAN = "technician", "Technician"
    NURSE = "nurse", "Nurse"
    CLINICIAN = "clinician", "Clinician"
    SUPERVISOR = "supervisor", "Supervisor"
    ADMIN = "admin", "Admin"


class StaffManager(UserManager):
    """Kept by name: migration 0001 refers to facility.models.StaffManager."""


class User(AbstractUser):
    """A staff member: one person, one account, one role, one or more facilities."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    full_name = models.CharField(max_length=150)
    credentials = models.CharField(
        max_length=60, blank=True, help_text="e.g. BHT, RN, LPN, LCSW, MD"
    )
    initials = models.CharField(max_length=4)
    role = models.CharField(max_length=20, choices=Role.choices)
    facilities = models.ManyToManyField(Facility, related_name="staff", blank=True)

    objects = StaffManager()

    REQUIRED_FIELDS = ["email", "full_name", "initials", "role"]

    class Meta:
        ordering = ["full_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="facility_user_role_valid"
            ),
            models.UniqueConstraint(
                models.functions.Lower("email"),
                condition=~Q(email=""),
                name="facility_user_email_unique",
            ),
        ]

    def __str__(self) -> str:
        if self.credentials:
            return f"{self.full_name}, {self.credentials}"
        return self.full_name or self.username

    @property
    def signature(self) -> str:
        """How a person signs a chart entry: name, credentials."""
        return str(self)

    def facility_ids(self) -> list[int]:
        """Ids of the facilities this user is assigned to, cached for the request."""
        cached = getattr(self, "_facility_ids", None)
        if cached is None:
            cached = list(self.facilities.values_list("id", flat=True))
            self._facility_ids = cached
        return cached


class AlertSeverity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class AlertQuerySet(models.QuerySet):
    def open(self) -> "AlertQuerySet":
        return self.filter(resolved_at__isnull=True)

    def for_facility(self, facility: Facility) -> "AlertQuerySet":
        return self.filter(facility=facility)

    def for_audience(self, role: str, *, everything: bool = False) -> "AlertQuerySet":
        """The alerts a role sees: the floor's (no audience) and those addressed to it; with
        `everything` (those who resolve alerts: supervisors) every alert."""
        if everything:
            return self
        return self.filter(Q(audience="") | Q(audience__regex=rf"(^|,){role}(,|$)"))

    def for_user(self, user) -> "AlertQuerySet":
        """The alerts `user` sees, on the alerts page and counted on the census (issue 17)."""
        from facility import policy

        return self.for_audience(user.role, everything=policy.allows(user, "alerts.resolve"))


class Alert(models.Model):
    """Something staff must act on, raised by a scan and resolved by a person.

    The dedupe key names the condition (e.g. one missed block for one client); it is unique while
    the alert is open, so a scan that runs twice or late cannot raise it twice (DESIGN.md §4).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="alerts")
    # Points at clients.Client by its public id so the core never imports a domain app.
    client_public_id = models.UUIDField(null=True, blank=True, db_index=True)
    client_label = models.CharField(max_length=120, blank=True)
    kind = models.CharField(max_length=60)
    severity = models.CharField(max_length=10, choices=AlertSeverity.choices)
    message = models.TextField()
    dedupe_key = models.CharField(max_length=200)
    # Where the alert is acted on (a path in Haven, e.g. the rounds board or the order); empty
    # when the client's chart is the place (then `client_public_id` leads there).
    link = models.CharField(max_length=300, blank=True)
    raised_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution_note = models.TextField(blank=True)
    # Whose alert this is (issue 12): role names joined by commas ("nurse,clinician"); empty for
    # the floor's alerts, which everyone who may view alerts sees. Supervisors see every alert.
    audience = models.CharField(max_length=60, blank=True, default="")

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(resolved_at__isnull=True),
                name="facility_alert_dedupe_key_open_unique",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True)
                | (Q(resolved_by__isnull=False) & ~Q(resolution_note="")),
                name="facility_alert_resolution_complete",
            ),
            models.CheckConstraint(
                condition=Q(severity__in=AlertSeverity.values),
                name="facility_alert_severity_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["facility", "-raised_at"],
                condition=Q(resolved_at__isnull=True),
                name="facility_alert_open_idx",
            ),
            models.Index(fields=["dedupe_key"], name="facility_alert_dedupe_idx"),
        ]
        permissions = [("resolve_alert", "Can resolve an alert")]

    def __str__(self) -> str:
        return f"{self.get_severity_display()}: {self.message}"

    @property
    def closed_by_workflow(self) -> str:
        """How this alert closes when a workflow owns it (facility/registry.py), else ""."""
        from facility.registry import registry

        return registry.workflow_alerts.get(self.kind, "")


class Handoff(models.Model):
    """The hand-over of one unit (or the whole facility, `unit` null) at one shift (issue 15;
    specs/shift-report.md): the outgoing charge staff marks the report given, the oncoming marks
    it received. At "received" the report is frozen as printed: `pdf` holds the PDF the
    oncoming staff acknowledged and `sha256` its hash, so what was handed over can be shown
    later, unchanged (a database trigger refuses changes to a frozen row)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="handoffs")
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="handoffs"
    )
    day = models.DateField()  # the facility-local date the shift starts on
    shift_key = models.CharField(max_length=12)
    shift_start = models.DateTimeField()
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    given_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(null=True, blank=True)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    sha256 = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-shift_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "unit", "day", "shift_key"],
                nulls_distinct=False,
                name="facility_handoff_once_per_shift",
            ),
            models.CheckConstraint(
                condition=Q(received_at__isnull=True) | (Q(pdf__isnull=False) & ~Q(sha256="")),
                name="facility_handoff_received_is_frozen",
            ),
        ]

    def __str__(self) -> str:
        return f"Handoff {self.unit or self.facility} {self.day} {self.shift_key}"


class AccessAction(models.TextChoices):
    VIEW = "view", "Viewed chart"
    PRINT = "print", "Printed"
    EXPORT = "export", "Exported"
    LOGIN = "login", "Logged in"
    LOGOUT = "logout", "Logged out"
    LOGIN_FAILED = "login_failed", "Failed login"
    ROLE_CHANGE = "role_change", "Changed role or facilities"
    DEACTIVATE = "deactivate", "Deactivated account"
    MFA_RESET = "mfa_reset", "Reset MFA"
    BREAK_GLASS = "break_glass", "Break the glass"
    EMAIL_PROVEN = "email_proven", "Proved e-mail address"
    COSIGN_FAILED = "cosign_failed", "Failed second-person password"
    # Issue 16.
    BREAK_GLASS_REVIEW = "glass_review", "Reviewed a break-the-glass access"
    DISCLOSURE = "disclosure", "Disclosed outside the program"
    DATA_SEAL = "data_seal", "Sealed data changes into the chain"
    CHAIN_VERIFY = "chain_verify", "Verified the audit chain"
    PASSWORD_CHANGE = "password_change", "Changed own password"
    # Issue 17: what was typed is logged (the query may name a client; the log is PHI-protected).
    CLIENT_SEARCH = "client_search", "Searched for a client"


class AccessEvent(models.Model):
    """One read, print, export or security event, append-only and hash-chained.

    Each row's digest covers the previous row's digest and its own content, so a changed or
    removed row breaks the chain (privacy.md, audit controls); `verify_audit_chain` finds it.
    A database trigger refuses UPDATE and DELETE.
    """

    at = models.DateTimeField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, blank=True)
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    client_public_id = models.UUIDField(null=True, blank=True)
    client_label = models.CharField(max_length=120, blank=True)
    action = models.CharField(max_length=20, choices=AccessAction.choices)
    what = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    outcome = models.CharField(max_length=20, default="ok")
    prev_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["facility", "-at"], name="facility_access_fac_at_idx"),
            models.Index(fields=["client_public_id", "-at"], name="facility_access_client_idx"),
        ]
        permissions = [("view_audit_trail", "Can view the facility's audit trail")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.what}"

    def content_digest(self, prev_hash: str) -> str:
        """SHA-256 over the previous digest and this row's content."""
        payload = {
            "prev": prev_hash,
            "at": self.at.isoformat(),
            "user": self.user_id,
            "username": self.username,
            "role": self.role,
            "facility": self.facility_id,
            "client": str(self.client_public_id) if self.client_public_id else None,
            "client_label": self.client_label,
            "action": self.action,
            "what": self.what,
            "ip": self.ip,
            "outcome": self.outcome,
        }
        encoded = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(encoded).hexdigest()


class BreakGlassAccess(models.Model):
    """Emergency access to one client's chart outside the user's scope (specs/privacy.md,
    164.312(a)(2)(ii)): a reason, `expires_at` (60 minutes by default) after `opened_at`, a
    supervisor alerted at once, and a review signed off by a supervisor of `facility`.

    The core does not import the clients app: the client is named by `client_public_id` and
    `client_label` (the MRN), like the access log. `facility` is the client's facility.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    client_public_id = models.UUIDField()
    client_label = models.CharField(max_length=120)
    reason = models.CharField(max_length=500)
    opened_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    review_note = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("opened_at")), name="facility_glass_expires_after"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="facility_glass_reason_given"),
            models.CheckConstraint(
                condition=Q(reviewed_at__isnull=True, reviewed_by__isnull=True)
                | Q(reviewed_at__isnull=False, reviewed_by__isnull=False),
                name="facility_glass_reviewed_by_someone",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-expires_at"], name="facility_glass_user_idx"),
            models.Index(fields=["facility", "reviewed_at"], name="facility_glass_review_idx"),
        ]

    def __str__(self) -> str:
        return f"Break the glass {self.client_label} at {self.opened_at:%Y-%m-%d %H:%M}"


class SignInFailureKind(models.TextChoices):
    SIGN_IN = "sign_in", "Sign-in (password or authenticator code)"
    COSIGN = "cosign", "Second-person password"


class SignInFailure(models.Model):
    """One failed password or authenticator code, kept while it counts towards a lock-out.

    Stored in PostgreSQL, not the cache, so a Redis restart does not lift a lock-out (privacy.md:
    lockout after 5 failures in 15 minutes). `facility/throttle.py` reads and prunes it.
    """

    kind = models.CharField(max_length=10, choices=SignInFailureKind.choices)
    # "user:<pk>" for a known account, else a hash of what was typed (it may be a password).
    username_key = models.CharField(max_length=80)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # Sign-in from a browser whose device cookie trusts the account: its id; "" from any other.
    device = models.CharField(max_length=40, blank=True, default="")
    # Co-signing: the key of the signed-in person who asked for the second person's password.
    actor_key = models.CharField(max_length=80, blank=True, default="")
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=SignInFailureKind.values),
                name="facility_signinfailure_kind_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["kind", "username_key", "at"], name="facility_signin_fail_acct_idx"
            ),
            models.Index(fields=["kind", "ip", "at"], name="facility_signin_fail_ip_idx"),
            models.Index(fields=["at"], name="facility_signin_fail_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.username_key} {self.ip}"


class ClinicalPermission(models.Model):  # noqa: DJ008 (never instantiated)
    """Holds the custom permissions for clinical actions that have no model of their own yet.

    Permissions need a content type; this unmanaged model gives them one without a table.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [  # noqa: RUF012
            ("view_census", "Can view the census and client charts"),
            ("chart_floor", "Can chart rounds, notes, vitals, scales, searches, screens"),
            ("write_progress_note", "Can write progress notes"),
            ("order_observation_level", "Can order an observation level"),
            ("raise_observation_level", "Can raise an observation level now, order to follow"),
            ("use_mar", "Can open the MAR and the med pass"),
            ("record_administration", "Can document observed self-administration of a dose"),
            ("give_medication", "Can give medications: any route and outcome, PRN doses"),
            ("cosign_prn_override", "Can co-sign a PRN given past its limits"),
            ("strike_administration", "Can strike anyone's administration entered in error"),
            ("receive_controlled_stock", "Can receive controlled stock from the pharmacy"),
            ("sign_off_discrepancy", "Can sign off a controlled-count discrepancy"),
            ("transcribe_order", "Can transcribe a medication order"),
            ("verify_order", "Can verify a medication order"),
            ("discontinue_order", "Can discontinue a medication order"),
            ("prescribe_order", "Can enter and sign orders, co-sign verbal and telephone orders"),
            ("view_medication_orders", "Can view medication orders"),
            ("sign_controlled_count", "Can sign a controlled-substance count or waste"),
            ("manage_consents", "Can manage consents and disclosures"),
            ("print_shift_report", "Can print a shift report"),
            ("view_alerts", "Can view alerts"),
            ("admit_client", "Can admit, move and discharge clients"),
            ("manage_staff", "Can manage staff accounts"),
            ("manage_code_lists", "Can manage facilities, units, beds and code lists"),
            ("break_glass", "Can break the glass"),
            ("order_monitoring", "Can order vitals schedules and withdrawal protocols"),
            ("assess_withdrawal", "Can score CIWA-Ar and COWS"),
            ("cosign_note", "Can co-sign another staff member's progress note"),
            ("review_incident", "Can review and sign off incident reports"),
            ("document_group", "Can hold groups and document attendance"),
            ("order_screen", "Can order drug screens and draw the random list"),
            ("record_lab_result", "Can enter a laboratory's drug-screen result"),
            ("manage_fleet", "Can manage vehicles and drivers and read the transport reports"),
            # Issue 16.
            ("review_access", "Can review break-the-glass accesses and who opened a chart"),
            ("write_counseling_note", "Can write SUD counseling notes"),
        ]
