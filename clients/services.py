"""Admission, bed moves, discharge, leaves and orientation: the writes of the clients app.

Every service validates before it writes and runs in one transaction, so a refused request
leaves nothing behind. The database constraints in clients/models.py are the last line: when two
people admit to one bed at once, the second gets a clear error, not a second occupant.
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from clients.models import (
    Admission,
    AllergenKind,
    Allergy,
    AllergySeverity,
    AllergyStatus,
    BedMove,
    Client,
    Leave,
    LeaveKind,
    MrnSequence,
    OrientationItem,
    OrientationTick,
    OutingRestriction,
)
from facility import policy
from facility.models import Alert, AlertSeverity, Bed, Facility, Unit, User
from facility.registry import registry
from facility.services import alert_raise, alerts_close, violated_constraint
from facility.validators import has_unsafe_characters

ORIENTATION_DEADLINE = timedelta(hours=24)
# Entries may be back-dated (a late admission entry); not by more than this.
MAX_BACKDATE = timedelta(days=7)
FUTURE_TOLERANCE = timedelta(minutes=1)


def leave_max() -> timedelta:
    """The longest leave off site; longer than this is a discharge, not a pass (issue 7)."""
    return timedelta(days=settings.HAVEN_LEAVE_MAX_DAYS)


def _mrn_next(facility: Facility) -> str:
    """Issue the facility's next MRN; the sequence row lock makes concurrent admits safe."""
    MrnSequence.objects.get_or_create(facility=facility)
    seq = MrnSequence.objects.select_for_update().get(facility=facility)
    seq.last_number = F("last_number") + 1
    seq.save(update_fields=["last_number"])
    seq.refresh_from_db(fields=["last_number"])
    return f"H{facility.pk:02d}-{seq.last_number:06d}"


def client_possible_duplicates(
    *, facility: Facility, legal_first_name: str, legal_last_name: str, date_of_birth: date
):
    """Clients of this facility with the same date of birth and last name (case-insensitive),
    or the same first name: the people an intake nurse must rule out before making a new MRN."""
    return (
        Client.objects.filter(facility=facility, date_of_birth=date_of_birth)
        .annotate(last_lower=Lower("legal_last_name"), first_lower=Lower("legal_first_name"))
        .filter(
            Q(last_lower=legal_last_name.strip().lower())
            | Q(first_lower=legal_first_name.strip().lower())
        )
        .order_by("legal_last_name")
    )


def _check_time(value: datetime, field: str, *, now: datetime, earliest: datetime | None = None):
    if value > now + FUTURE_TOLERANCE:
        raise ValidationError({field: "This time is in the future."})
    if earliest is not None and value < earliest:
        raise ValidationError({field: "This time is too far in the past."})


def _check_bed(*, bed: Bed, unit: Unit, facility: Facility) -> None:
    if bed.unit_id != unit.pk or unit.facility_id != facility.pk:
        raise ValidationError({"bed": "This bed is not in the chosen unit."})
    if not bed.active:
        raise ValidationError({"bed": "This bed is out of service."})
    occupant = Admission.objects.current().filter(bed=bed).select_related("client").first()
    if occupant is not None:
        raise ValidationError(
            {"bed": f"Bed {bed.label} is occupied by {occupant.client.initials}."}
        )


def _occupied_error(bed: Bed) -> ValidationError:
    return ValidationError({"bed": f"Bed {bed.label} was just taken by another admission."})


@transaction.atomic
def admission_admit(
    *,
    actor: User,
    facility: Facility,
    unit: Unit,
    bed: Bed,
    level_of_care: str,
    admitted_at: datetime,
    client: Client | None = None,
    client_fields: dict | None = None,
    allergies: list[dict] | None = None,
) -> Admission:
    """Admit a new client (client_fields) or readmit a known one (client) to a bed.

    A new client gets the facility's next MRN and must have the allergy answer:
    client_fields["allergy_status"] "nkda" or "listed", with `allergies` (dicts of allergen,
    kind, reaction, severity) naming at least one drug allergy when "listed".
    Refused: a bed that is taken or in another unit, a client already admitted, a time in the
    future or before birth, no allergy answer.
    """
    policy.require(actor, "clients.admit", facility)
    now = timezone.now()
    _check_time(admitted_at, "admitted_at", now=now, earliest=now - MAX_BACKDATE)
    _check_bed(bed=bed, unit=unit, facility=facility)
    if client is None:
        if not client_fields:
            raise ValidationError("Either a known client or the new client's details are needed.")
        client = Client(facility=facility, **client_fields)
        client.mrn = "pending"
        if (
            client.date_of_birth
            and client.date_of_birth > timezone.localtime(now, facility.tz).date()
        ):
            raise ValidationError({"date_of_birth": "Date of birth cannot be in the future."})
        _check_allergy_answer(client.allergy_status, allergies or [])
        client.full_clean(exclude=["mrn"])
        client.mrn = _mrn_next(facility)
        client.save()
    else:
        if client.facility_id != facility.pk:
            raise ValidationError("This client belongs to another facility.")
        if Admission.objects.current().filter(client=client).exists():
            raise ValidationError("This client is already admitted.")
    if admitted_at.date() < client.date_of_birth:
        raise ValidationError({"admitted_at": "Admission cannot be before the date of birth."})
    admission = Admission(
        client=client,
        facility=facility,
        unit=unit,
        bed=bed,
        level_of_care=level_of_care,
        admitted_at=admitted_at,
        admitted_by=actor,
        recorded_at=now,
    )
    admission.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            admission.save()
    except IntegrityError as exc:
        constraint = violated_constraint(exc)
        if constraint == "clients_admission_one_client_per_bed":
            raise _occupied_error(bed) from exc
        if constraint == "clients_admission_one_open_stay":
            raise ValidationError("This client was just admitted by someone else.") from exc
        raise
    BedMove.objects.create(
        admission=admission, to_bed=bed, moved_at=admitted_at, moved_by=actor, recorded_at=now
    )
    for fields in allergies or []:
        _allergy_create(client, actor=actor, now=now, **fields)
    return admission


@transaction.atomic
def admission_move_bed(
    *, actor: User, admission: Admission, bed: Bed, moved_at: datetime, reason: str = ""
) -> Admission:
    """Move an admitted client to another bed of the same facility, keeping the history."""
    admission = Admission.objects.select_for_update().get(pk=admission.pk)
    if not admission.is_open:
        raise ValidationError("This client has been discharged.")
    policy.require(actor, "clients.admit", admission)
    now = timezone.now()
    _check_time(moved_at, "moved_at", now=now, earliest=admission.admitted_at)
    if bed.pk == admission.bed_id:
        raise ValidationError({"bed": "The client is already in this bed."})
    if bed.unit.facility_id != admission.facility_id:
        raise ValidationError({"bed": "This bed is in another facility."})
    _check_bed(bed=bed, unit=bed.unit, facility=admission.facility)
    from_bed = admission.bed
    admission.bed = bed
    admission.unit = bed.unit
    try:
        with transaction.atomic():
            admission.save(update_fields=["bed", "unit"])
    except IntegrityError as exc:
        if violated_constraint(exc) == "clients_admission_one_client_per_bed":
            raise _occupied_error(bed) from exc
        raise
    BedMove.objects.create(
        admission=admission,
        from_bed=from_bed,
        to_bed=bed,
        moved_at=moved_at,
        moved_by=actor,
        recorded_at=now,
        reason=reason,
    )
    return admission


@transaction.atomic
def admission_discharge(
    *,
    actor: User,
    admission: Admission,
    discharged_at: datetime,
    discharge_type: str,
    note: str = "",
    steps: dict | None = None,
) -> Admission:
    """Close the stay and free the bed. An open leave is closed at the discharge time.

    Each app's discharge step (facility/registry.py) runs first, in this transaction: the MAR's
    orders are discontinued and the client's own controlled stock disposed of. `steps` holds
    each step's answers by its key (what its `prepare` returned in the view); a step refuses
    the whole discharge with a ValidationError on its own fields.
    """
    admission = Admission.objects.select_for_update().get(pk=admission.pk)
    if not admission.is_open:
        raise ValidationError("This client has already been discharged.")
    policy.require(actor, "clients.admit", admission)
    now = timezone.now()
    _check_time(discharged_at, "discharged_at", now=now)
    if discharged_at <= admission.admitted_at:
        raise ValidationError({"discharged_at": "Discharge must be after the admission time."})
    if not discharge_type:
        raise ValidationError({"discharge_type": "Choose how the stay ended."})
    for step in registry.discharge_steps:
        answers = (steps or {}).get(step.key, {})
        step.run(actor=actor, admission=admission, at=discharged_at, data=answers)
    admission.discharged_at = discharged_at
    admission.discharge_type = discharge_type
    admission.discharge_note = note
    admission.discharged_by = actor
    admission.discharge_recorded_at = now
    admission.full_clean(validate_constraints=False)
    admission.save(
        update_fields=[
            "discharged_at",
            "discharge_type",
            "discharge_note",
            "discharged_by",
            "discharge_recorded_at",
        ]
    )
    for leave in admission.leaves.open():
        leave.returned_at = max(discharged_at, leave.left_at)
        leave.returned_recorded_by = actor
        leave.returned_recorded_at = now
        leave.note = (leave.note + "\nClosed at discharge.").strip()
        leave.save(
            update_fields=["returned_at", "returned_recorded_by", "returned_recorded_at", "note"]
        )
    return admission


# A leave entered up to this long after it started is "now" (walking the client to the door).
LEAVE_BACKDATE_FREE = timedelta(minutes=5)


def _leave_rules(
    admission: Admission, *, kind: str, left_at: datetime, now: datetime, backdate_reason: str
):
    """The back-dating reason and every registered leave rule, all refusals at once."""
    errors: dict = {}
    for rule in registry.leave_rules.values():
        try:
            rule(
                admission=admission, kind=kind, left_at=left_at, now=now,
                backdate_reason=backdate_reason,
            )  # fmt: skip
        except ValidationError as exc:
            exc.update_error_dict(errors)
    if now - left_at > LEAVE_BACKDATE_FREE and not backdate_reason.strip():
        errors.setdefault("backdate_reason", []).append(
            "Reason for the earlier time: the leave started more than 5 minutes ago; "
            "say why it is entered late."
        )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def leave_start(
    *,
    actor: User,
    admission: Admission,
    kind: str,
    left_at: datetime,
    expected_back_at: datetime,
    destination: str = "",
    note: str = "",
    backdate_reason: str = "",
) -> Leave:
    """Record a client leaving the site (pass, appointment, outing, trip, hospital).

    Issue 10 item 3: time on leave owes no checks, so a leave entered as starting more than 5
    minutes ago needs a reason, and the rules other apps register (rounds: not before the
    client's last check) may refuse it, so a back-dated leave cannot silently erase misses."""
    admission = Admission.objects.select_for_update().get(pk=admission.pk)
    if not admission.is_open:
        raise ValidationError("This client has been discharged.")
    policy.require(actor, "floor.chart", admission)
    now = timezone.now()
    _check_time(left_at, "left_at", now=now, earliest=admission.admitted_at)
    _leave_rules(admission, kind=kind, left_at=left_at, now=now, backdate_reason=backdate_reason)
    if expected_back_at <= left_at:
        raise ValidationError({"expected_back_at": "Expected back must be after leaving."})
    if expected_back_at - left_at > leave_max():
        raise ValidationError(
            {"expected_back_at": f"Expected back: a leave lasts at most {leave_max().days} days."}
        )
    if admission.leaves.open().exists():
        raise ValidationError("This client is already off site.")
    leave = Leave(
        admission=admission,
        kind=kind,
        left_at=left_at,
        expected_back_at=expected_back_at,
        destination=destination,
        note=note,
        recorded_by=actor,
        recorded_at=now,
        backdate_reason=backdate_reason.strip(),
    )
    leave.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            leave.save()
    except IntegrityError as exc:
        if violated_constraint(exc) == "clients_leave_one_open_per_admission":
            raise ValidationError("This client's leave was just recorded by someone else.") from exc
        raise
    return leave


@transaction.atomic
def leave_return(*, actor: User, leave: Leave, returned_at: datetime) -> Leave:
    """Record the client back on site."""
    leave = Leave.objects.select_for_update().get(pk=leave.pk)
    if leave.returned_at is not None:
        raise ValidationError("This return has already been recorded.")
    policy.require(actor, "floor.chart", leave)
    now = timezone.now()
    _check_time(returned_at, "returned_at", now=now)
    if returned_at < leave.left_at:
        raise ValidationError({"returned_at": "Return cannot be before the client left."})
    leave.returned_at = returned_at
    leave.returned_recorded_by = actor
    leave.returned_recorded_at = now
    leave.save(update_fields=["returned_at", "returned_recorded_by", "returned_recorded_at"])
    # The overdue and AWOL alerts are answered by the return.
    alerts_close(
        [f"{kind}:{leave.public_id}" for kind in ("leave-overdue", "leave-awol")],
        user=actor,
        note="Client returned.",
        now=now,
    )
    return leave


# Issue 10: nobody unnoticed. Past the expected return, the nurse is alerted; past an hour, the
# supervisor, as critical (absent without leave).
LEAVE_OVERDUE_AFTER = timedelta(minutes=15)
LEAVE_AWOL_AFTER = timedelta(minutes=60)


def scan_leaves_overdue(*, now: datetime | None = None) -> int:
    """One warning per open leave 15 minutes past its expected return, and one critical alert
    at 60 minutes. Idempotent by dedupe key; one query for the leaves, whatever their number."""
    from facility.services import alerts_raise_many

    now = now or timezone.now()
    leaves = (
        Leave.objects.open()
        .filter(expected_back_at__lte=now - LEAVE_OVERDUE_AFTER)
        .filter(admission__discharged_at__isnull=True)
        .select_related("admission__client", "admission__facility")
    )
    alerts = []
    for leave in leaves:
        admission, client = leave.admission, leave.admission.client
        due = timezone.localtime(leave.expected_back_at, admission.facility.tz)
        late = int((now - leave.expected_back_at).total_seconds() // 60)
        awol = now - leave.expected_back_at >= LEAVE_AWOL_AFTER
        kind, severity, text = (
            ("leave_awol", AlertSeverity.CRITICAL,
             "Supervisor: absent without leave? Call the client and the contacts, then follow "
             "the missing-client policy.")
            if awol else
            ("leave_overdue", AlertSeverity.WARNING, "Check where the client is.")
        )  # fmt: skip
        alerts.append(
            Alert(
                facility=admission.facility,
                kind=kind,
                severity=severity,
                message=f"{client.display_name} not back from {leave.get_kind_display().lower()}: "
                f"expected {due:%H:%M}, {late} min ago. {text}",
                dedupe_key=f"{kind.replace('_', '-')}:{leave.public_id}",
                client_public_id=client.public_id,
                client_label=client.mrn,
                raised_at=now,
            )  # fmt: skip
        )
    return alerts_raise_many(alerts)


def leaves_overlapping(admission_ids, *, start: datetime, end: datetime):
    """Leaves of these admissions that overlap [start, end); the read later apps use to skip
    time off site. An open leave extends to `end`."""
    return Leave.objects.filter(admission_id__in=admission_ids, left_at__lt=end).filter(
        Q(returned_at__isnull=True) | Q(returned_at__gt=start)
    )


@transaction.atomic
def orientation_tick(
    *, actor: User, admission: Admission, item: OrientationItem
) -> OrientationTick:
    """Mark one checklist item done. Ticking twice keeps the first tick."""
    if item.facility_id != admission.facility_id or not item.active:
        raise ValidationError({"item": "This item is not on this facility's checklist."})
    if not admission.is_open:
        raise ValidationError("This client has been discharged.")
    policy.require(actor, "floor.chart", admission)
    tick, _ = OrientationTick.objects.get_or_create(
        admission=admission,
        item=item,
        defaults={"ticked_at": timezone.now(), "ticked_by": actor},
    )
    return tick


def admissions_orientation_overdue(*, now: datetime):
    """Open admissions older than the deadline whose facility checklist is not fully ticked."""
    active_items = Count(
        "facility__orientation_items",
        filter=Q(facility__orientation_items__active=True),
        distinct=True,
    )
    ticked = Count(
        "orientation_ticks",
        filter=Q(orientation_ticks__item__active=True),
        distinct=True,
    )
    return (
        Admission.objects.current()
        .filter(admitted_at__lte=now - ORIENTATION_DEADLINE)
        .annotate(items=active_items, done=ticked)
        .filter(items__gt=F("done"))
        .select_related("client", "facility")
    )


def scan_orientation_overdue(*, now: datetime | None = None) -> int:
    """Raise one alert per admission whose orientation is not done 24 hours after admission.

    Idempotent by dedupe key: a rerun or a late run raises nothing twice.
    """
    now = now or timezone.now()
    raised = 0
    for admission in admissions_orientation_overdue(now=now):
        _, created = alert_raise(
            facility=admission.facility,
            kind="orientation_overdue",
            severity=AlertSeverity.WARNING,
            message=(
                f"Orientation checklist for {admission.client.display_name} not complete "
                f"24 hours after admission ({admission.done} of {admission.items} items)."
            ),
            dedupe_key=f"orientation:{admission.public_id}",
            client_public_id=admission.client.public_id,
            client_label=admission.client.mrn,
            now=now,
        )
        raised += created
    return raised


# ---------------------------------------------------------------- allergies (issue 9)

# Who keeps the allergy list: the people who read medication orders (nurses, clinicians and
# supervisors), not technicians. One capability, asked by the services and the views.
ALLERGY_CAPABILITY = "order.view"


def _check_allergy_answer(status: str, allergies: list[dict]) -> None:
    """A new client's allergy answer: NKDA, or listed with at least one drug allergy."""
    drug = [a for a in allergies if a.get("kind", AllergenKind.DRUG) == AllergenKind.DRUG]
    if status == AllergyStatus.LISTED and drug:
        return
    if status == AllergyStatus.NKDA and not drug:
        return
    if status == AllergyStatus.NKDA:
        message = "Drug allergies: a drug allergy is listed; NKDA cannot be chosen with it."
    elif status == AllergyStatus.LISTED:
        message = "Drug allergies: list at least one drug allergy, or choose NKDA."
    else:
        message = "Drug allergies: choose NKDA, or list the drug allergies."
    raise ValidationError({"allergy_status": message})


def _allergy_create(
    client: Client,
    *,
    actor: User,
    now: datetime,
    allergen: str,
    kind: str = AllergenKind.DRUG,
    reaction: str = "",
    severity: str = AllergySeverity.UNKNOWN,
) -> Allergy:
    allergen = " ".join(allergen.split())
    errors = {}
    if not allergen:
        errors["allergen"] = "Allergen: name the drug, food or substance."
    if kind not in AllergenKind.values:
        errors["kind"] = "Type: choose drug, food or environmental."
    if severity not in AllergySeverity.values:
        errors["severity"] = "Severity: choose one."
    if allergen and any(a.allergen.lower() == allergen.lower() for a in _live(client)):
        errors["allergen"] = f"Allergen: {allergen} is already on the list."
    if errors:
        raise ValidationError(errors)
    allergy = Allergy(
        client=client, allergen=allergen, kind=kind, reaction=reaction.strip(),
        severity=severity, recorded_at=now, recorded_by=actor,
    )  # fmt: skip
    allergy.full_clean(exclude=["client", "recorded_by"], validate_constraints=False)
    allergy.save()
    if kind == AllergenKind.DRUG and client.allergy_status != AllergyStatus.LISTED:
        client.allergy_status = AllergyStatus.LISTED
        client.save(update_fields=["allergy_status"])
    return allergy


def _live(client: Client):
    return Allergy.objects.filter(client=client, removed_at__isnull=True)


def _locked(client: Client) -> Client:
    return Client.objects.select_for_update().get(pk=client.pk)


@transaction.atomic
def allergy_add(
    *,
    actor: User,
    client: Client,
    allergen: str,
    kind: str = AllergenKind.DRUG,
    reaction: str = "",
    severity: str = AllergySeverity.UNKNOWN,
    now: datetime | None = None,
) -> Allergy:
    """Add one allergy to the client's list. A drug allergy makes the status "listed" (it
    replaces an earlier NKDA: a new finding outranks "none known")."""
    policy.require(actor, ALLERGY_CAPABILITY, client)
    client = _locked(client)
    return _allergy_create(
        client, actor=actor, now=now or timezone.now(), allergen=allergen, kind=kind,
        reaction=reaction, severity=severity,
    )  # fmt: skip


@transaction.atomic
def allergy_remove(
    *, actor: User, allergy: Allergy, reason: str, now: datetime | None = None
) -> Allergy:
    """Strike an allergy entered in error: the row stays, with who, when and why. When the last
    drug allergy goes, the status is "not yet recorded" again, never NKDA by itself."""
    policy.require(actor, ALLERGY_CAPABILITY, allergy)
    if not reason.strip():
        raise ValidationError({"reason": "Reason: say why this entry was wrong."})
    client = _locked(allergy.client)
    allergy = Allergy.objects.select_for_update().get(pk=allergy.pk)
    if allergy.removed_at is not None:
        raise ValidationError(f"{allergy.allergen} was already removed by {allergy.removed_by}.")
    allergy.removed_at = now or timezone.now()
    allergy.removed_by = actor
    allergy.removed_reason = reason.strip()[:300]
    allergy.save(update_fields=["removed_at", "removed_by", "removed_reason"])
    drug_left = _live(client).filter(kind=AllergenKind.DRUG).exists()
    if client.allergy_status == AllergyStatus.LISTED and not drug_left:
        client.allergy_status = AllergyStatus.NOT_RECORDED
        client.save(update_fields=["allergy_status"])
    return allergy


@transaction.atomic
def allergies_mark_nkda(*, actor: User, client: Client) -> Client:
    """Record "no known drug allergies": an answer, refused while a drug allergy is listed."""
    policy.require(actor, ALLERGY_CAPABILITY, client)
    client = _locked(client)
    listed = list(_live(client).filter(kind=AllergenKind.DRUG).values_list("allergen", flat=True))
    if listed:
        raise ValidationError(
            {
                "allergy_status": f"NKDA: the list has drug allergies ({', '.join(listed)}); "
                "remove those entered in error first."
            }
        )
    client.allergy_status = AllergyStatus.NKDA
    client.save(update_fields=["allergy_status"])
    return client


# ---------------------------------------------------------------- outing restriction (issue 14)

# A nurse's or clinician's call, like raising an observation level (facility/roles.py).
OUTING_RESTRICTION_CAPABILITY = "outing_restriction.set"
# The leaves a restriction forbids: time out for its own sake. Appointments, hospital visits and
# trips (planned through transport, which checks the restriction itself) are never blocked.
RESTRICTED_LEAVE_KINDS = (LeaveKind.PASS, LeaveKind.OUTING)
RESTRICTION_TEXT_MAX = 300


def _restriction_text(value: str, field: str, label: str, missing: str) -> str:
    text = " ".join((value or "").split())
    if has_unsafe_characters(value or ""):
        raise ValidationError(
            {field: f"{label}: remove the control characters (NUL or text-direction marks)."}
        )
    if not text:
        raise ValidationError({field: f"{label}: {missing}"})
    if len(text) > RESTRICTION_TEXT_MAX:
        raise ValidationError(
            {field: f"{label}: at most {RESTRICTION_TEXT_MAX} characters (this has {len(text)})."}
        )
    return text


def outing_restriction_in_force(admission: Admission) -> OutingRestriction | None:
    """The stay's "no outings" restriction, if one is in force."""
    return (
        OutingRestriction.objects.filter(admission=admission, lifted_at__isnull=True)
        .select_related("set_by")
        .first()
    )


def outing_restrictions_in_force(admission_ids) -> dict[int, OutingRestriction]:
    """{admission id: restriction in force} for many stays in one query (trip planning)."""
    rows = OutingRestriction.objects.filter(
        admission_id__in=list(admission_ids), lifted_at__isnull=True
    ).select_related("set_by")
    return {r.admission_id: r for r in rows}


def restriction_words(restriction: OutingRestriction) -> str:
    """The words "no outings: <reason> (set by <who> on <day>)", on the facility clock."""
    tz = restriction.admission.facility.tz
    when = timezone.localtime(restriction.set_at, tz)
    return (
        f"no outings: {restriction.reason} (set by {restriction.set_by.signature} on "
        f"{when:%Y-%m-%d %H:%M})"
    )


@transaction.atomic
def outing_restriction_set(
    *, actor: User, admission: Admission, reason: str, now: datetime | None = None
) -> OutingRestriction:
    """Restrict a client from passes and outings, with the reason (issue 14 item 3: a per-client
    flag a nurse or clinician sets). One in force per stay; an open stay only."""
    admission = Admission.objects.select_for_update().get(pk=admission.pk)
    policy.require(actor, OUTING_RESTRICTION_CAPABILITY, admission)
    if not admission.is_open:
        raise ValidationError("This client has been discharged.")
    reason = _restriction_text(
        reason, "reason", "Reason", "say why the client may not go on outings."
    )
    existing = outing_restriction_in_force(admission)
    if existing is not None:
        existing.admission = admission
        raise ValidationError(
            {"reason": f"Already restricted: {restriction_words(existing)}. Lift it first."}
        )
    restriction = OutingRestriction(
        admission=admission, reason=reason, set_at=now or timezone.now(), set_by=actor
    )
    try:
        with transaction.atomic():
            restriction.save()
    except IntegrityError as exc:
        if violated_constraint(exc) == "clients_one_outing_restriction_in_force":
            raise ValidationError(
                {"reason": "Already restricted: someone set it a moment ago."}
            ) from exc
        raise
    return restriction


@transaction.atomic
def outing_restriction_lift(
    *, actor: User, admission: Admission, reason: str, now: datetime | None = None
) -> OutingRestriction:
    """Lift the stay's restriction in force, saying why; the row stays as history."""
    admission = Admission.objects.select_for_update().get(pk=admission.pk)
    policy.require(actor, OUTING_RESTRICTION_CAPABILITY, admission)
    if not admission.is_open:
        raise ValidationError("This client has been discharged.")
    reason = _restriction_text(reason, "lift_reason", "Reason for lifting", "say why it is lifted.")
    restriction = (
        OutingRestriction.objects.select_for_update()
        .filter(admission=admission, lifted_at__isnull=True)
        .first()
    )
    if restriction is None:
        raise ValidationError("No outing restriction is in force for this client.")
    restriction.lifted_at = now or timezone.now()
    restriction.lifted_by = actor
    restriction.lift_reason = reason
    restriction.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    return restriction


def leave_refused_while_restricted(*, admission, kind, left_at, now, backdate_reason) -> None:
    """The leave rule of the restriction (registered in ClientsConfig.ready): no pass or outing
    while one is in force; the message names the reason."""
    if kind not in RESTRICTED_LEAVE_KINDS:
        return
    restriction = outing_restriction_in_force(admission)
    if restriction is None:
        return
    restriction.admission = admission
    raise ValidationError(
        {
            "kind": f"Kind of leave: {admission.client.display_name} is restricted from passes "
            f"and outings — {restriction_words(restriction)}. A nurse or clinician lifts it on "
            "the chart."
        }
    )
