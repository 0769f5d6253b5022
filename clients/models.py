"""Clients and their stays: admission, bed moves, leaves off site, orientation checklist."""

import uuid
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from facility import policy
from facility.models import Bed, Facility, Unit


class ClientQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ClientQuerySet":
        """The one scope for reading clients: those of the user's assigned facilities.

        Admins administer and do not read charts (DESIGN.md §3), so they see none. Break-the-glass
        (facility/glass.py) adds the one client of each active emergency access, in this query
        (a subquery: no query of its own), until it expires; writes stay refused by the policy's
        facility scope.
        """
        from facility.glass import granted_client_ids

        if not getattr(user, "is_authenticated", False):
            return self.none()
        granted = Q(public_id__in=granted_client_ids(user))
        if not policy.allows(user, "census.view"):
            if not policy.allows(user, "break_glass"):
                return self.none()
            return self.filter(granted)
        return self.filter(Q(facility_id__in=user.facility_ids()) | granted)

    def admitted(self) -> "ClientQuerySet":
        return self.filter(admissions__discharged_at__isnull=True).distinct()

    def with_allergies(self) -> "ClientQuerySet":
        """For a page listing clients with their allergies: one query for all of them (from
        admissions, `prefetch_related("client__allergy_rows")` does the same)."""
        return self.prefetch_related("allergy_rows")


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"
    INTERSEX = "X", "Intersex"
    UNKNOWN = "U", "Unknown"


PHOTO_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}


def photo_storage_name(instance, filename: str) -> str:
    """A random name for an uploaded photo: the client's name or MRN never reaches the disk,
    and the name cannot be guessed (issue 7). Photos are served only by the scoped view."""
    suffix = Path(filename).suffix.lower()
    return f"client-photos/{uuid.uuid4().hex}{suffix if suffix in PHOTO_TYPES else '.jpg'}"


class AllergyStatus(models.TextChoices):
    """Whether the drug-allergy history has been taken: "none known" is a finding, not a blank."""

    NOT_RECORDED = "not_recorded", "Not yet recorded"
    NKDA = "nkda", "No known drug allergies"
    LISTED = "listed", "Drug allergies listed"


class Client(models.Model):
    """A person in treatment at a facility. Every record about them is a 42 CFR Part 2 record."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="clients")
    mrn = models.CharField("MRN", max_length=20, editable=False)
    legal_first_name = models.CharField(max_length=80)
    legal_last_name = models.CharField(max_length=80)
    preferred_name = models.CharField(max_length=80, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices)
    pronouns = models.CharField(max_length=30, blank=True)
    photo = models.ImageField(upload_to=photo_storage_name, blank=True)
    allergy_status = models.CharField(
        max_length=12, choices=AllergyStatus.choices, default=AllergyStatus.NOT_RECORDED
    )
    emergency_contact_name = models.CharField(max_length=120, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    emergency_contact_phone = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["legal_last_name", "legal_first_name"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "mrn"], name="clients_client_mrn_unique"),
            models.CheckConstraint(
                condition=Q(date_of_birth__gte=date(1900, 1, 1)),
                name="clients_client_dob_plausible",
            ),
        ]
        indexes = [
            models.Index(
                models.functions.Lower("legal_last_name"),
                "date_of_birth",
                name="clients_client_dup_check_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.mrn})"

    @property
    def legal_name(self) -> str:
        return f"{self.legal_first_name} {self.legal_last_name}"

    @property
    def display_name(self) -> str:
        """Preferred first name with legal last name: what staff call the person."""
        return f"{self.preferred_name or self.legal_first_name} {self.legal_last_name}"

    @property
    def initials(self) -> str:
        first = (self.preferred_name or self.legal_first_name)[:1]
        return f"{first}{self.legal_last_name[:1]}".upper()

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @property
    def live_allergies(self) -> list["Allergy"]:
        """Allergies not removed in error. A page listing clients prefetches them
        (`prefetch_related("allergy_rows")`); otherwise the first use fetches them once for this
        instance (`refresh_from_db` forgets them)."""
        if "allergy_rows" not in getattr(self, "_prefetched_objects_cache", {}):
            models.prefetch_related_objects([self], "allergy_rows")
        return [a for a in self.allergy_rows.all() if a.removed_at is None]

    @property
    def allergy_list(self) -> list[str]:
        """Known allergies by name (every kind); "NKDA" is a status, never an allergy."""
        return [a.label for a in self.live_allergies]

    @property
    def allergy_flag(self) -> bool:
        """The identity band shows red unless the answer is a clean NKDA: an allergy, or no
        answer yet, is what a nurse must see before giving anything."""
        return self.allergy_status != AllergyStatus.NKDA or bool(self.live_allergies)

    @property
    def allergy_summary(self) -> str:
        """What the identity band and the printed MAR say: the list, "NKDA", or "Not recorded"
        (non-drug allergies follow NKDA or "Not recorded" after a semicolon)."""
        names = self.allergy_list
        if self.allergy_status == AllergyStatus.LISTED and names:
            return ", ".join(names)
        head = "NKDA" if self.allergy_status == AllergyStatus.NKDA else "Not recorded"
        return f"{head}; {', '.join(names)}" if names else head


class AllergenKind(models.TextChoices):
    DRUG = "drug", "Drug"
    FOOD = "food", "Food"
    ENVIRONMENTAL = "environmental", "Environmental"


class AllergySeverity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe (anaphylaxis)"
    UNKNOWN = "unknown", "Unknown"


class Allergy(models.Model):
    """One allergy of a client, as data the order check reads (issue 9). Never deleted: removed
    in error keeps who, when and why."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="allergy_rows")
    allergen = models.CharField(max_length=120)
    kind = models.CharField(max_length=14, choices=AllergenKind.choices)
    reaction = models.CharField(max_length=200, blank=True)
    severity = models.CharField(
        max_length=10, choices=AllergySeverity.choices, default=AllergySeverity.UNKNOWN
    )
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    removed_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["client", "allergen"]
        verbose_name_plural = "allergies"
        constraints = [
            models.CheckConstraint(condition=~Q(allergen=""), name="clients_allergy_allergen"),
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True) | ~Q(removed_reason=""),
                name="clients_allergy_removed_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.allergen} ({self.get_kind_display().lower()})"

    @property
    def label(self) -> str:
        """The allergen, with its kind when it is not a drug: "Peanuts (food)"."""
        return self.allergen if self.kind == AllergenKind.DRUG else str(self)


class LevelOfCare(models.TextChoices):
    """ASAM levels of care offered in residential programs."""

    WITHDRAWAL = "3.7-WM", "3.7-WM Medically monitored withdrawal management"
    HIGH_INTENSITY = "3.5", "3.5 High-intensity residential"
    MEDICALLY_MONITORED = "3.7", "3.7 Medically monitored intensive inpatient"
    CLINICALLY_MANAGED = "3.1", "3.1 Clinically managed low-intensity residential"
    MENTAL_HEALTH = "MH-RES", "Mental-health residential"


class DischargeType(models.TextChoices):
    COMPLETED = "completed", "Completed treatment"
    TRANSFER = "transfer", "Transferred to another level of care"
    AMA = "ama", "Left against medical advice"
    ADMINISTRATIVE = "administrative", "Administrative discharge"
    HOSPITAL = "hospital", "Admitted to hospital"
    OTHER = "other", "Other"


class AdmissionQuerySet(models.QuerySet):
    def current(self) -> "AdmissionQuerySet":
        return self.filter(discharged_at__isnull=True)


class Admission(models.Model):
    """One stay of a client at a facility. One open stay per client, one client per bed."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="admissions")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="admissions")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="admissions")
    bed = models.ForeignKey(
        Bed, on_delete=models.PROTECT, related_name="admissions", null=True, blank=True
    )
    level_of_care = models.CharField(max_length=10, choices=LevelOfCare.choices)
    admitted_at = models.DateTimeField()
    admitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Server time of charting; `admitted_at` and `discharged_at` may be back-dated (DESIGN.md §2).
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharge_type = models.CharField(max_length=20, choices=DischargeType.choices, blank=True)
    discharge_note = models.TextField(blank=True)
    discharged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    discharge_recorded_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = AdmissionQuerySet.as_manager()

    class Meta:
        ordering = ["-admitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["bed"],
                condition=Q(discharged_at__isnull=True),
                name="clients_admission_one_client_per_bed",
            ),
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(discharged_at__isnull=True),
                name="clients_admission_one_open_stay",
            ),
            models.CheckConstraint(
                condition=Q(discharged_at__isnull=True) | Q(discharged_at__gt=F("admitted_at")),
                name="clients_admission_discharge_after_admit",
            ),
            models.CheckConstraint(
                condition=(Q(discharged_at__isnull=True) & Q(discharge_type=""))
                | (Q(discharged_at__isnull=False) & ~Q(discharge_type="")),
                name="clients_admission_discharge_type_with_date",
            ),
            models.CheckConstraint(
                condition=Q(discharged_at__isnull=False) | Q(bed__isnull=False),
                name="clients_admission_open_stay_has_bed",
            ),
        ]
        indexes = [
            models.Index(
                fields=["facility", "unit"],
                condition=Q(discharged_at__isnull=True),
                name="clients_admission_current_idx",
            ),
        ]
        permissions = [("view_chart", "Can view a client chart")]

    def __str__(self) -> str:
        return f"{self.client} admitted {self.admitted_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.discharged_at is None

    def stay_days(self) -> tuple[date, date]:
        """The first and last local day of the stay (today while it is open): the days a MAR or
        an observation sheet of it can be printed for."""
        tz = self.facility.tz
        last = self.discharged_at or timezone.now()
        return timezone.localtime(self.admitted_at, tz).date(), timezone.localtime(last, tz).date()


class BedMove(models.Model):
    """A bed assignment in an admission's history; the first row is the admitting bed."""

    admission = models.ForeignKey(Admission, on_delete=models.PROTECT, related_name="bed_moves")
    from_bed = models.ForeignKey(
        Bed, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    to_bed = models.ForeignKey(Bed, on_delete=models.PROTECT, related_name="+")
    moved_at = models.DateTimeField()
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["moved_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_bed or 'admission'} → {self.to_bed} at {self.moved_at:%Y-%m-%d %H:%M}"


class LeaveKind(models.TextChoices):
    PASS = "pass", "Pass"
    APPOINTMENT = "appointment", "Appointment"
    OUTING = "outing", "Outing"
    TRIP = "trip", "Trip"
    HOSPITAL = "hospital", "Hospital"


class LeaveQuerySet(models.QuerySet):
    def open(self) -> "LeaveQuerySet":
        return self.filter(returned_at__isnull=True)


class Leave(models.Model):
    """Time a client spends off site. Rounds and the MAR do not count time on leave as missed."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    admission = models.ForeignKey(Admission, on_delete=models.PROTECT, related_name="leaves")
    kind = models.CharField(max_length=20, choices=LeaveKind.choices)
    destination = models.CharField(max_length=200, blank=True)
    left_at = models.DateTimeField()
    expected_back_at = models.DateTimeField()
    returned_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    returned_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    returned_recorded_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Why the leave is recorded as starting earlier than it was entered (issue 10: a back-dated
    # leave must not silently erase checks already owed).
    backdate_reason = models.CharField(max_length=200, blank=True)

    objects = LeaveQuerySet.as_manager()

    class Meta:
        ordering = ["-left_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["admission"],
                condition=Q(returned_at__isnull=True),
                name="clients_leave_one_open_per_admission",
            ),
            models.CheckConstraint(
                condition=Q(expected_back_at__gt=F("left_at")),
                name="clients_leave_expected_after_left",
            ),
            models.CheckConstraint(
                condition=Q(returned_at__isnull=True) | Q(returned_at__gte=F("left_at")),
                name="clients_leave_returned_after_left",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.left_at:%Y-%m-%d %H:%M}"


class OutingRestriction(models.Model):
    """A clinical restriction on leaving the site for trips and outings (issue 14), set by a nurse
    or clinician with a reason and lifted the same way. One in force per admission; lifted ones
    stay as history."""

    admission = models.ForeignKey(
        Admission, on_delete=models.PROTECT, related_name="outing_restrictions"
    )
    reason = models.CharField(max_length=300)
    set_at = models.DateTimeField()
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lift_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-set_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["admission"],
                condition=Q(lifted_at__isnull=True),
                name="clients_one_outing_restriction_in_force",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="clients_restriction_reason"),
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True) | ~Q(lift_reason=""),
                name="clients_restriction_lift_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"No outings: {self.reason}"


class OrientationItem(models.Model):
    """One item of a facility's admission orientation checklist (configured by admins)."""

    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="orientation_items"
    )
    label = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["facility", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "label"], name="clients_orientationitem_label_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.label


class OrientationTick(models.Model):
    """Who went through one checklist item with the client, and when."""

    admission = models.ForeignKey(
        Admission, on_delete=models.PROTECT, related_name="orientation_ticks"
    )
    item = models.ForeignKey(OrientationItem, on_delete=models.PROTECT, related_name="ticks")
    ticked_at = models.DateTimeField()
    ticked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["item__position", "item_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["admission", "item"], name="clients_orientationtick_once_per_item"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} by {self.ticked_by} at {self.ticked_at:%Y-%m-%d %H:%M}"


class MrnSequence(models.Model):
    """The last MRN number issued per facility; a row lock makes numbers unique and gapless."""

    facility = models.OneToOneField(Facility, on_delete=models.PROTECT, related_name="+")
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.facility}: {self.last_number}"


# ---------------------------------------------------------------- 42 CFR Part 2 (issue 16)
# The rules are in specs/privacy.md; clients/consent_rules.py says when a consent is complete
# and usable. Rows here are never deleted: a consent is revoked or expires, a disclosure is
# logged once (the database refuses any change), an amendment request is decided once.


class ConsentType(models.TextChoices):
    SINGLE = "single", "Single purpose"
    TPO = "tpo", "Treatment, payment and health care operations"
    COUNSELING = "counseling", "SUD counseling notes (separate consent)"
    RESEARCH = "research", "Research"


class ConsentExpiry(models.TextChoices):
    DATE = "date", "On a date"
    END_OF_TREATMENT = "end_of_treatment", "At the end of treatment (discharge)"


class SignatureKind(models.TextChoices):
    DRAWN = "drawn", "Signed on the tablet"
    PAPER = "paper", "Signed paper copy uploaded"


class Consent(models.Model):
    """A written consent to disclose (42 CFR 2.31), holding the ten elements of specs/privacy.md.

    Element 1 `client_name`, 2 `program_name`, 3 `categories` + `information_detail`,
    4 `recipient_name` (+ `recipient_address`), 5 `purpose`, 6 `revocation_explained`,
    7 `expiry` with `expires_on` (a date) or the end of the stay `admission`, 8 the signature
    (`signature_svg` drawn on the tablet, or `signed_copy` uploaded) by `signed_by_name`
    (`signer_role` when a representative signs), 9 `signed_on`, 10 for a TPO consent
    `consequences_explained` and `redisclosure_explained`.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="consents")
    # The stay during which it was signed; "end of treatment" ends with this stay's discharge.
    admission = models.ForeignKey(
        Admission, on_delete=models.PROTECT, related_name="consents", null=True, blank=True
    )
    consent_type = models.CharField(max_length=12, choices=ConsentType.choices)
    client_name = models.CharField(max_length=170)
    program_name = models.CharField(max_length=200)
    # Record category keys (facility/registry.py RecordCategory), at least one.
    categories = models.JSONField(default=list)
    information_detail = models.TextField(blank=True, max_length=2000)
    recipient_name = models.CharField(max_length=200)
    recipient_address = models.CharField(max_length=300, blank=True)
    # Element 4 names a class of recipients (a TPO consent: "my treating providers, ..."): each
    # disclosure on it then names, and logs, the actual recipient.
    recipient_is_class = models.BooleanField(default=False)
    purpose = models.CharField(max_length=300)
    revocation_explained = models.BooleanField(default=False)
    expiry = models.CharField(max_length=20, choices=ConsentExpiry.choices)
    expires_on = models.DateField(null=True, blank=True)
    signature_kind = models.CharField(max_length=10, choices=SignatureKind.choices)
    signature_svg = models.TextField(blank=True)
    signed_copy = models.BinaryField(null=True, blank=True, editable=False)
    signed_copy_type = models.CharField(max_length=40, blank=True)
    signed_copy_sha256 = models.CharField(max_length=64, blank=True)
    signed_by_name = models.CharField(max_length=170)
    # Blank when the client signs; otherwise the representative's role ("legal guardian").
    signer_role = models.CharField(max_length=80, blank=True)
    signed_on = models.DateField()
    consequences_explained = models.BooleanField(default=False)
    redisclosure_explained = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Revocation (in writing or orally, as the consent says): effective when received.
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    revocation_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-signed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(consent_type__in=ConsentType.values), name="clients_consent_type_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(expiry=ConsentExpiry.DATE, expires_on__isnull=False)
                    | Q(expiry=ConsentExpiry.END_OF_TREATMENT, admission__isnull=False)
                ),
                name="clients_consent_expiry_given",
            ),
            models.CheckConstraint(
                condition=(
                    Q(signature_kind=SignatureKind.DRAWN) & ~Q(signature_svg="")
                    | Q(signature_kind=SignatureKind.PAPER, signed_copy__isnull=False)
                ),
                name="clients_consent_signed",
            ),
            models.CheckConstraint(
                condition=~Q(client_name="")
                & ~Q(program_name="")
                & ~Q(recipient_name="")
                & ~Q(purpose="")
                & ~Q(signed_by_name="")
                & Q(revocation_explained=True),
                name="clients_consent_elements_present",
            ),
            models.CheckConstraint(
                condition=~Q(consent_type=ConsentType.TPO)
                | Q(consequences_explained=True, redisclosure_explained=True),
                name="clients_consent_tpo_statements",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revocation_received_by__isnull=False),
                name="clients_consent_revocation_received_by",
            ),
            models.CheckConstraint(
                condition=~Q(categories=[]), name="clients_consent_categories_present"
            ),
        ]
        indexes = [models.Index(fields=["client", "-signed_on"], name="clients_consent_client_idx")]

    def __str__(self) -> str:
        return f"{self.get_consent_type_display()} consent for {self.recipient_name}"


class LegalBasis(models.TextChoices):
    CONSENT = "consent", "Written consent (§2.31)"
    MEDICAL_EMERGENCY = "medical_emergency", "Medical emergency (§2.51)"
    COURT_ORDER = "court_order", "Court order (§2.64 / §2.65)"
    RESEARCH = "research", "Research (§2.52)"
    AUDIT = "audit", "Audit or evaluation (§2.53)"
    QSO = "qso", "Qualified service organization (§2.11)"
    CHILD_ABUSE = "child_abuse", "Child abuse report (§2.12(c)(6))"
    CRIME_ON_PREMISES = "crime_on_premises", "Crime on premises (§2.12(c)(5))"
    CLIENT_REQUEST = "client_request", "The client's own request (right of access)"


class DisclosureMethod(models.TextChoices):
    PRINT = "print", "Printed"
    FAX = "fax", "Fax"
    EMAIL = "email", "E-mail"
    PORTAL = "portal", "Portal"
    API = "api", "API"
    PHONE = "phone", "Telephone"
    IN_PERSON = "in_person", "In person"


class Disclosure(models.Model):
    """One disclosure outside the program, append-only (specs/privacy.md, §2.25 and 164.528).

    The database refuses UPDATE and DELETE (clients/migrations). `sha256` is the digest of the
    file sent; `categories` and the period say what it held; `consent` is set when the legal basis
    is a consent. An emergency disclosure names the recipient's affiliation and the emergency.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="disclosures")
    consent = models.ForeignKey(
        Consent, on_delete=models.PROTECT, related_name="disclosures", null=True, blank=True
    )
    disclosed_at = models.DateTimeField()
    recipient_name = models.CharField(max_length=200)
    recipient_address = models.CharField(max_length=300, blank=True)
    recipient_affiliation = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=1000)
    categories = models.JSONField(default=list)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    purpose = models.CharField(max_length=300)
    legal_basis = models.CharField(max_length=20, choices=LegalBasis.choices)
    # The court order's number, the emergency's nature, the audit's agency: what the basis needs.
    basis_detail = models.CharField(max_length=1000, blank=True)
    method = models.CharField(max_length=10, choices=DisclosureMethod.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    notice = models.CharField(max_length=20, default="statement1")
    file_name = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-disclosed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(legal_basis__in=LegalBasis.values),
                name="clients_disclosure_basis_valid",
            ),
            models.CheckConstraint(
                condition=~Q(legal_basis=LegalBasis.CONSENT) | Q(consent__isnull=False),
                name="clients_disclosure_consent_named",
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_start__lte=F("period_end")),
                name="clients_disclosure_period_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["client", "-disclosed_at"], name="clients_disclosure_client_idx")
        ]

    def __str__(self) -> str:
        return f"Disclosure to {self.recipient_name} on {self.disclosed_at:%Y-%m-%d}"


class AmendmentStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a decision"
    ACCEPTED = "accepted", "Accepted: amendment appended"
    DENIED = "denied", "Denied: request and denial appended"


class AmendmentRequest(models.Model):
    """A client's request to amend their record (ONC (d)(4)), and its decision.

    Accepted: `decision_text` is the amendment appended to the record. Denied: the request and
    `decision_text` (the reason) are appended. Decided once; the record itself is never edited.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="amendments")
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    record_description = models.CharField(max_length=300)
    # The record category (facility/registry.py) the request concerns: the decided amendment goes
    # only into packets holding that category, and into the client's own copy. "" for requests
    # recorded before the field existed: those go into the client's own copy only.
    category = models.CharField(max_length=40, blank=True, default="")
    requested_change = models.TextField(max_length=4000)
    status = models.CharField(
        max_length=10, choices=AmendmentStatus.choices, default=AmendmentStatus.PENDING
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decision_text = models.TextField(blank=True, max_length=4000)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=AmendmentStatus.PENDING, decided_at__isnull=True)
                | (
                    Q(status__in=[AmendmentStatus.ACCEPTED, AmendmentStatus.DENIED])
                    & Q(decided_at__isnull=False, decided_by__isnull=False)
                    & ~Q(decision_text="")
                ),
                name="clients_amendment_decided_fully",
            ),
        ]

    def __str__(self) -> str:
        return f"Amendment request {self.received_at:%Y-%m-%d}: {self.get_status_display()}"
