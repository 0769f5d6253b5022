"""Documenting a scheduled dose, and striking an entry made in error (specs/mar.md,
Documenting a dose)."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from facility import policy
from facility.models import Alert, AlertSeverity, User
from facility.services import alert_raise, violated_constraint
from medications import timing as timing_rules
from medications.allergies import refuse_if_new_conflict
from medications.models import (
    Administration,
    DoseKind,
    Outcome,
    ScheduledDose,
    Timing,
)
from medications.services.controlled import _move, decrement_for_administration
from medications.services.doses import opened_at
from medications.services.holds import (
    hold_record_fields,
    met_texts,
    order_hold_checks,
)
from medications.timing import doses_per_day, minutes_between

FUTURE_TOLERANCE = timedelta(minutes=1)


class DoseAlreadyCharted(ValidationError):
    """Someone documented this dose first."""


@transaction.atomic
def administration_record(
    *,
    actor: User,
    dose: ScheduledDose,
    outcome: str,
    given_at: datetime | None = None,
    reason: str = "",
    self_administered: bool = False,
    now: datetime | None = None,
    override_by: User | None = None,
    override_reason: str = "",
    prescriber_notified: str = "",
    prescriber_notified_name: str = "",
    prescriber_notified_at: datetime | None = None,
    prescriber_not_notified_reason: str = "",
    hold_parameter: str = "",
    hold_values: dict | None = None,
) -> Administration:
    """Document one scheduled dose (specs/mar.md, Documenting a dose).

    An order with structured hold parameters (issue 11) is judged on each hold vital: the value
    typed in `hold_values` ({vital: value}), else a reading taken within the facility's
    `hold_vital_max_age_minutes`. Given needs a value for each; a value meeting a hold rule
    makes "held" the expected outcome (its parameter and reason filled in from the rule), and
    given anyway needs a reason. The vital judged on is recorded with the documentation.

    Too soon (before its window opens, or under half the order's interval after another given
    dose of the same drug) needs a reason and a second nurse (`override_by`, whose password
    the view checked). A refusal records whether the prescriber was told; a hold, the parameter
    met. The partial unique index lets exactly one of two people charting the same dose
    succeed; the other is told who charted it.
    """
    now = now or timezone.now()
    policy.require(actor, "mar.record")
    dose = ScheduledDose.objects.select_related(
        "order__admission__facility", "order__admission__client", "order__medication"
    ).get(pk=dose.pk)
    order, admission = dose.order, dose.order.admission
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": "Outcome: choose one."})
    reason = reason.strip()
    # Scope, and without "mar.give" only observed self-administration (facility/policy.py).
    charting = Administration(
        order=order, dose=dose, outcome=outcome, self_administered=self_administered
    )
    policy.require(actor, "mar.record", charting)
    # Every field's refusal at once (a refusal with a blank reason and no notification is
    # told both in one answer), then the dose's own state.
    errors: dict[str, str] = {}
    checks, hold_fields = _judge_holds(dose, outcome, given_at, now, hold_values, errors)
    met = met_texts(checks)
    if met and outcome == Outcome.HELD:
        hold_parameter = hold_parameter.strip() or "; ".join(met)
        reason = reason or f"Hold parameter met: {'; '.join(met)}"
    if outcome == Outcome.GIVEN:
        given_at = given_at or now
        if given_at > now + FUTURE_TOLERANCE:
            errors["given_at"] = "Given at: cannot be in the future."
        elif given_at < dose.scheduled_at - timedelta(hours=12):
            errors["given_at"] = "Given at: too far before the scheduled time."
        given_at = min(given_at, now)  # a tablet clock a few seconds fast is not the future
        opened = opened_at(order)
        if "given_at" not in errors and opened is not None and given_at < opened:
            local = timezone.localtime(opened, admission.facility.tz)
            errors["given_at"] = (
                f"Given at: before the order was verified or released ({local:%H:%M})."
            )
    else:
        given_at = None
        if not reason and outcome == Outcome.SENT:
            # Issue 14: handed over for a trip or appointment, taken there; never "given" here.
            errors["reason"] = (
                "Note: say what was sent and with whom (e.g. 1 tab handed to escort J. Doe)."
            )
        elif not reason:
            errors["reason"] = f"Reason: say why the dose was {outcome}."
    try:
        notified = _refusal_and_hold(
            dose, outcome, now, prescriber_notified, prescriber_notified_name,
            prescriber_notified_at, prescriber_not_notified_reason, hold_parameter,
        )  # fmt: skip
    except ValidationError as exc:
        errors.update({f: m[0] for f, m in exc.message_dict.items()})
    valid_time = "given_at" not in errors
    timing = _timing(dose, given_at) if valid_time else Timing.NONE
    if timing not in (Timing.NONE, Timing.ON_TIME) and not reason:
        errors["reason"] = f"Reason: the dose is given {timing}; say why."
    if met and outcome in (Outcome.GIVEN, Outcome.SENT):
        notified["hold_parameter"] = "; ".join(met)[:300]
        if not reason:
            errors["reason"] = (
                f"Reason: {'; '.join(met)} meets the order's hold rule: chart it held, or "
                "say why it is given anyway."
            )
    _off_site_checks(admission, dose, outcome, given_at, now, errors)
    moment = given_at or now
    if admission.discharged_at is not None and moment >= admission.discharged_at:
        raise ValidationError("The MAR is closed: this client has been discharged.")
    # Given before the order was discontinued and charted after: the documentation wins.
    if dose.cancelled_at is not None and not (given_at and given_at < dose.cancelled_at):
        raise ValidationError(
            {"outcome": "This dose was cancelled when the order was discontinued."}
        )
    if given_at and order.discontinued_at is not None and given_at >= order.discontinued_at:
        raise ValidationError(
            {"outcome": "The order was discontinued: its doses can no longer be given."}
        )
    existing = _live_documentation(dose)
    if existing is not None:
        raise DoseAlreadyCharted(_charted_by(existing))
    if errors:
        raise ValidationError(errors)
    # None (not given): nothing to check. A dose sent with the client leaves the cart now, to be
    # taken off site: the allergy check applies as to a dose given now.
    refuse_if_new_conflict(order, now if outcome == Outcome.SENT else given_at)
    # A dose sent with the client is judged as taken now (the interval and the daily caps),
    # as a given dose is at its given time; it is never recorded as given.
    taken_at = now if outcome == Outcome.SENT else given_at
    too_soon = _too_soon(dose, taken_at, timing) if taken_at is not None else ""
    if taken_at is not None:
        from medications.services.prn import daily_cap_blocks

        too_soon = " ".join([too_soon, *daily_cap_blocks(order, taken_at, exclude_dose=dose)])
        too_soon = too_soon.strip()
    if too_soon:
        override_reason = (override_reason or reason).strip()
        _require_cosign(actor, order, too_soon, override_reason, override_by)
    else:
        override_by, override_reason = None, ""
    try:
        with transaction.atomic():
            admin = Administration.objects.create(
                order=order,
                dose=dose,
                outcome=outcome,
                given_at=given_at,
                timing=timing,
                reason=reason,
                self_administered=self_administered,
                recorded_at=now,
                recorded_by=actor,
                override_by=override_by,
                override_reason=override_reason,
                **notified,
                **hold_fields,
            )
    except IntegrityError as exc:
        if violated_constraint(exc) != "medications_administration_one_per_dose":
            raise
        raise DoseAlreadyCharted(_charted_by(_live_documentation(dose))) from exc
    decrement_for_administration(admin)
    if outcome == Outcome.GIVEN:
        open_naloxone_incident(admin)
    # Charted: the nurse's late and missed alerts of this dose are answered (not the
    # supervisor's critical one, which the supervisor resolves).
    Alert.objects.open().filter(
        dedupe_key__in=[f"dose-late:{dose.public_id}", f"dose-missed:{dose.public_id}"]
    ).update(
        resolved_at=now, resolved_by=actor,
        resolution_note=f"Dose charted: {admin.get_outcome_display().lower()}.",
    )  # fmt: skip
    if outcome == Outcome.REFUSED:
        _alert_refusals(dose, now)
    return admin


# "Sent with client" is for a client out, or about to leave on a planned departure (a trip) within
# this long (issue 14 review).
SENT_AHEAD = timedelta(hours=2)


def off_site_leave(admission, at: datetime):
    """The client's leave covering `at` (open, or closed after it), else None."""
    from django.db.models import Q

    from clients.models import Leave

    return (
        Leave.objects.filter(admission=admission, left_at__lte=at)
        .filter(Q(returned_at__isnull=True) | Q(returned_at__gt=at))
        .order_by("-left_at")
        .first()
    )


def _off_site_checks(admission, dose, outcome, given_at, now, errors) -> None:
    """Off site, a dose is not given here (issue 14 review): "given" at a time the client was
    out on a leave of any kind is refused. "Sent with client" needs a leave open now or since
    SENT_AHEAD before the dose's time (a late charting), or a planned departure
    (facility.registry departures, e.g. a trip) within SENT_AHEAD."""
    from facility.registry import departures

    tz = admission.facility.tz
    if outcome == Outcome.GIVEN and "given_at" not in errors:
        leave = off_site_leave(admission, given_at)
        if leave is not None:
            left = timezone.localtime(leave.left_at, tz)
            errors["outcome"] = (
                f"Off site since {left:%H:%M} ({leave.get_kind_display().lower()}): a dose "
                "cannot be given here. Record it as sent with the client, or not given."
            )
    if outcome != Outcome.SENT:
        return
    since = min(dose.scheduled_at - SENT_AHEAD, now)
    if admission.leaves.filter(left_at__lte=now).exclude(returned_at__lt=since).exists():
        return
    if not departures([admission.pk], start=now - timedelta(minutes=30), end=now + SENT_AHEAD):
        errors["outcome"] = (
            "Sent with client: only for a client out on a leave or trip, or on a trip "
            "leaving within 2 hours. This client is in the house."
        )


# Naloxone with another ingredient (buprenorphine/naloxone, pentazocine/naloxone) is a daily
# treatment, not an overdose rescue: only naloxone on its own opens an incident.
NALOXONE = "naloxone"
NOT_RESCUE = ("buprenorphine", "pentazocine", "/", "+")


def is_naloxone_rescue(medication) -> bool:
    """Naloxone alone: every ingredient of the catalog entry is naloxone, or, for an entry
    without ingredients, its name says naloxone (or Narcan) and names no other drug."""
    names = [
        n.lower() for n in medication.ingredient_rows.values_list("ingredient__name", flat=True)
    ]
    if names:
        return all(NALOXONE in n for n in names)
    name = medication.name.lower()
    return (NALOXONE in name or "narcan" in name) and not any(x in name for x in NOT_RESCUE)


def open_naloxone_incident(admin: Administration) -> None:
    """A naloxone dose given opens a draft overdose incident, prefilled (specs/charting.md,
    Incidents), through the registry: medications does not import the incidents app."""
    from facility.registry import IncidentDraft, open_incident_draft

    order = admin.order
    if admin.given_at is None or not is_naloxone_rescue(order.medication):
        return
    admission = order.admission
    at = timezone.localtime(admin.given_at, admission.facility.tz)
    open_incident_draft(
        IncidentDraft(
            facility_id=admission.facility_id,
            source="naloxone",
            source_ref=f"naloxone:{admin.public_id}",
            incident_type="overdose",
            occurred_at=admin.given_at,
            description=f"Naloxone given at {at:%H:%M} ({order.medication}, "
            f"{order.get_route_display().lower()}), charted on the MAR by {admin.recorded_by}.",
            reporter=admin.recorded_by,
            client_public_ids=(admission.client.public_id,),
        )
    )


def _judge_holds(dose, outcome, given_at, now, hold_values, errors) -> tuple[list, dict]:
    """The order's structured holds judged for this dose (services/holds.py): errors on the
    hold vitals' fields (hold_sbp …), and the fields the documentation records."""
    at = min(given_at or now, now) if outcome == Outcome.GIVEN else now
    # A dose sent with the client is taken where nobody checks: its holds are judged now,
    # exactly as for a dose given (issue 14 review).
    checks = order_hold_checks(
        dose.order,
        at=at,
        typed=hold_values,
        errors=errors,
        giving=outcome in (Outcome.GIVEN, Outcome.SENT),
    )
    return checks, hold_record_fields(checks)


def _timing(dose: ScheduledDose, given_at: datetime | None) -> str:
    """On time inside the window (or by the deadline of a STAT, NOW or first dose)."""
    if given_at is None:
        return Timing.NONE
    if dose.deadline_at is not None:
        return Timing.LATE if given_at > dose.deadline_at else Timing.ON_TIME
    w = timedelta(minutes=dose.window_minutes)
    if given_at < dose.scheduled_at - w:
        return Timing.EARLY
    if given_at > dose.scheduled_at + w:
        return Timing.LATE
    return Timing.ON_TIME


def _too_soon(dose: ScheduledDose, given_at: datetime, timing: str) -> str:
    """Why giving this dose at `given_at` is too soon (empty: it is not).

    Before its window opens, or less than half the order's interval from another given dose
    of the same medication or one sharing an ingredient, on any of the client's orders (a
    dose charted late between two others counts too). STAT and NOW doses are extra doses the
    prescriber asked for: the interval does not apply to them.
    """
    order = dose.order
    tz = order.admission.facility.tz
    if timing == Timing.EARLY:
        opens = timezone.localtime(dose.scheduled_at - timedelta(minutes=dose.window_minutes), tz)
        early = minutes_between(given_at, opens)
        return f"Too soon: {early} min before its window opens at {opens:%H:%M}."
    if dose.kind in (DoseKind.STAT, DoseKind.NOW):
        return ""
    # Half the actual gap to the order's previous and next dose (uneven times, e.g. 08:00,
    # 12:00, 20:00); half of 24 h / doses a day where there is no such dose.
    half = timedelta(hours=24) / doses_per_day(order.frequency, order.times) / 2
    before = after = half
    if timing_rules.scheduled_times(order.frequency, order.times):
        neighbours = ScheduledDose.objects.filter(order=order).exclude(pk=dose.pk)
        prev = neighbours.filter(scheduled_at__lt=dose.scheduled_at).order_by("-scheduled_at")
        nxt = neighbours.filter(scheduled_at__gt=dose.scheduled_at).order_by("scheduled_at")
        prev = prev.values_list("scheduled_at", flat=True).first()
        nxt = nxt.values_list("scheduled_at", flat=True).first()
        before = (dose.scheduled_at - prev) / 2 if prev else half
        after = (nxt - dose.scheduled_at) / 2 if nxt else half
    from medications.services.prn import _sharing_orders, counted_doses, taken_words

    sharing, _ = _sharing_orders(order)  # the same drug, or one sharing an ingredient
    # Given doses, and doses sent with the client (counted from when they were sent).
    other = (
        counted_doses(sharing, given_at - before, given_at + after)
        .exclude(dose=dose)
        .order_by("-taken_at")
        .first()
    )
    if other is None:
        return ""
    hours = (before if other.taken_at <= given_at else after).total_seconds() / 3600
    return (
        f"Too soon: {other.order.medication.name} was {taken_words(other)} at "
        f"{timezone.localtime(other.taken_at, tz):%H:%M}, less than {hours:g} hours (half the "
        "interval) from this dose."
    )


def _require_cosign(actor, order, why: str, override_reason: str, override_by) -> None:
    errors = {}
    if not override_reason:
        errors["reason"] = f"Reason: {why} Say why it is given now."
    if override_by is None:
        errors["override_by"] = f"Second nurse: {why} A second nurse must co-sign."
    elif override_by.pk == actor.pk or not policy.allows(
        override_by, "mar.cosign_prn_override", order
    ):
        errors["override_by"] = "Second nurse: a different nurse must co-sign."
    if errors:
        raise ValidationError(errors)


def _refusal_and_hold(
    dose, outcome, now, notified, name, notified_at, not_reason, hold_parameter
) -> dict:
    """The refusal's prescriber notification (who and when, or why not) and the hold's
    parameter: required, and kept only for the outcome they belong to."""
    errors = {}
    fields = {}
    if outcome == Outcome.REFUSED:
        name, not_reason = name.strip(), not_reason.strip()
        if notified == "yes":
            if not name:
                errors["prescriber_notified_name"] = "Prescriber notified: say who was told."
            if notified_at is None:
                errors["prescriber_notified_at"] = "Prescriber notified: say when."
            elif notified_at > now + FUTURE_TOLERANCE:
                errors["prescriber_notified_at"] = "Notified at: cannot be in the future."
            fields = {"prescriber_notified_name": name, "prescriber_notified_at": notified_at}
        elif notified == "no":
            if not not_reason:
                errors["prescriber_not_notified_reason"] = (
                    "Prescriber not notified: say why not (e.g. will report at morning rounds)."
                )
            fields = {"prescriber_not_notified_reason": not_reason}
        else:
            errors["prescriber_notified"] = "Prescriber notified: say yes or no."
        fields["prescriber_notified"] = notified
    if outcome == Outcome.HELD:
        hold_parameter = hold_parameter.strip()
        if not hold_parameter:
            errors["hold_parameter"] = (
                "Hold parameter: record the value that met the hold rule (e.g. SBP 94)."
            )
        fields["hold_parameter"] = hold_parameter
    if errors:
        raise ValidationError(errors)
    return fields


def _alert_refusals(dose: ScheduledDose, now: datetime) -> None:
    """Two refusals in a row of one order, or any refusal of a time-critical dose, alert the
    nurse (issue 9)."""
    order = dose.order
    previous = (
        ScheduledDose.objects.filter(order=order, scheduled_at__lt=dose.scheduled_at)
        .order_by("-scheduled_at")
        .first()
    )
    twice = (
        previous is not None
        and Administration.objects.filter(
            dose=previous, struck_at__isnull=True, outcome=Outcome.REFUSED
        ).exists()
    )
    if not (twice or order.time_critical):
        return
    admission, client = order.admission, order.admission.client
    when = timezone.localtime(dose.scheduled_at, admission.facility.tz)
    what = "refused twice in a row" if twice else "a time-critical dose refused"
    alert_raise(
        facility=admission.facility, kind="dose_refused", severity=AlertSeverity.WARNING,
        message=f"{order.medication} {order.dose} {what} ({when:%H:%M}) by "
        f"{client.display_name}: tell the prescriber.",
        dedupe_key=f"dose-refused:{dose.public_id}", client_public_id=client.public_id,
        client_label=client.mrn, now=now,
    )  # fmt: skip


def _live_documentation(dose) -> Administration | None:
    return (
        Administration.objects.filter(dose=dose, struck_at__isnull=True)
        .select_related("recorded_by", "order__admission__facility")
        .first()
    )


def _charted_by(admin: Administration | None) -> str:
    if admin is None:
        return "This dose was just charted by someone else."
    local = timezone.localtime(admin.recorded_at, admin.order.admission.facility.tz)
    return (
        f"Already charted by {admin.recorded_by.signature} at {local:%H:%M}: "
        f"{admin.get_outcome_display().lower()}."
    )


@transaction.atomic
def administration_strike(*, actor: User, administration: Administration, reason: str):
    """Entered in error: the entry stays visible, struck, and the dose can be charted again."""
    if not reason.strip():
        raise ValidationError({"reason": "Reason: say what was wrong."})
    admin = Administration.objects.select_for_update().get(pk=administration.pk)
    if admin.struck_at is not None:
        raise ValidationError("Already struck.")
    policy.require(actor, "mar.strike", admin)
    admin.struck_at = timezone.now()
    admin.struck_by = actor
    admin.struck_reason = reason.strip()
    admin.save(update_fields=["struck_at", "struck_by", "struck_reason"])
    _restore_stock(admin, actor)
    return admin


def _restore_stock(admin: Administration, actor: User) -> None:
    """A struck controlled dose was never taken from the count: put it back, recorded."""
    from medications.models import MovementKind, StockMovement

    taken = StockMovement.objects.filter(
        administration=admin, kind=MovementKind.ADMINISTRATION
    ).first()
    if taken is not None:
        _move(taken.stock, kind=MovementKind.ADJUSTMENT, change=-taken.change, by=actor,
              at=timezone.now(), administration=admin,
              note=f"Entered in error: {admin.struck_reason}")  # fmt: skip
