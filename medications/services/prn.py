"""PRN doses: limits, giving, the effectiveness follow-up and its overdue scan (specs/mar.md,
PRN)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from clients.models import Admission
from facility import policy
from facility.models import AlertSeverity, User
from facility.services import alerts_raise_many
from medications import triggers
from medications.allergies import refuse_if_new_conflict
from medications.limits import mg_allowed_from, mg_in_24h, pre_dose_score
from medications.models import Administration, Frequency, MedicationIngredient, Order, Outcome
from medications.services.administrations import FUTURE_TOLERANCE, open_naloxone_incident
from medications.services.controlled import decrement_for_administration
from medications.services.doses import opened_at
from medications.services.holds import (
    admission_readings,
    hold_record_fields,
    met_texts,
    order_hold_checks,
    trigger_for,
)
from medications.timing import prn_limits, reassessment_delay


@dataclass
class CapLine:
    """One capped ingredient: what was given in the last 24 hours and what this dose adds."""

    ingredient: str
    so_far_mg: Decimal
    dose_mg: Decimal
    cap_mg: Decimal
    over: bool
    allowed_from: datetime | None


@dataclass
class PrnCheck:
    """How a PRN dose at `at` stands against every order sharing an ingredient (issue 9)."""

    blocks: list[str] = field(default_factory=list)
    allowed_from: datetime | None = None
    count: int = 0
    max_per_24h: int = 0
    caps: list[CapLine] = field(default_factory=list)
    sharing: list[int] = field(default_factory=list)  # pks of the orders weighed, this one too
    max_from: str = ""  # the order whose maximum applies, when another order's is smaller


PRN_EARLIEST = timedelta(hours=12)  # a PRN given_at no earlier than this before now
PRN_LATE_ENTRY = timedelta(minutes=60)  # earlier than this before now: a late entry, a reason
PRE_ASSESSMENT_MAX = Administration._meta.get_field("pre_assessment").max_length


def counted_doses(order_ids, start: datetime, end: datetime):
    """The live doses of `order_ids` the dose-safety checks count, taken strictly between
    `start` and `end`, oldest first, each with `taken_at`: doses given (at their given time),
    and doses sent with the client (issue 14 review: presumed taken off site, counted from the
    moment they were sent, and still never recorded or reported as given)."""
    return (
        Administration.objects.filter(
            order_id__in=order_ids,
            outcome__in=(Outcome.GIVEN, Outcome.SENT),
            struck_at__isnull=True,
        )
        .annotate(taken_at=Coalesce("given_at", "recorded_at"))
        .filter(taken_at__gt=start, taken_at__lt=end)
        .select_related("order__medication")
        .order_by("taken_at")
    )


def taken_words(admin: Administration) -> str:
    """How a counted dose is named in a refusal: given, or sent with the client."""
    return "sent with the client" if admin.outcome == Outcome.SENT else "given"


def _sharing_orders(order: Order) -> tuple[list[int], dict[int, dict[int, Decimal | None]]]:
    """The admission's orders sharing an ingredient with this order's medication (the same
    medication, when it has no ingredient rows), and each medication's mg per unit by
    ingredient."""
    mine = set(
        MedicationIngredient.objects.filter(medication_id=order.medication_id).values_list(
            "ingredient_id", flat=True
        )
    )
    same = Q(medication_id=order.medication_id)
    if mine:
        same |= Q(medication__ingredient_rows__ingredient_id__in=mine)
    orders = dict(
        Order.objects.filter(same, admission_id=order.admission_id)
        .values_list("pk", "medication_id")
        .distinct()
    )
    mg = {}
    rows = MedicationIngredient.objects.filter(
        medication_id__in=set(orders.values()), ingredient_id__in=mine
    ).values_list("medication_id", "ingredient_id", "mg_per_unit")
    for medication_id, ingredient_id, per_unit in rows:
        mg.setdefault(medication_id, {})[ingredient_id] = per_unit
    return sorted(orders), mg


def _clock(moment: datetime, tz, at: datetime) -> str:
    local = timezone.localtime(moment, tz)
    same_day = local.date() == timezone.localtime(at, tz).date()
    return f"{local:%H:%M}" if same_day else f"{local:%Y-%m-%d %H:%M}"


def _cap_lines(order: Order, at: datetime, given, mg_per_unit, tz):
    """Each capped ingredient of the order's medication (Ingredient.max_mg_per_24h) against
    the live given doses `given` of the orders sharing it: lines, blocks, allowed from."""
    lines, blocks, allowed_from = [], [], None
    caps = MedicationIngredient.objects.filter(
        medication_id=order.medication_id,
        mg_per_unit__isnull=False,
        ingredient__max_mg_per_24h__isnull=False,
    ).select_related("ingredient")
    for row in caps:
        doses = [
            (a.taken_at, a.order.dose_units * per_unit)
            for a in given
            if (per_unit := mg_per_unit.get(a.order.medication_id, {}).get(row.ingredient_id))
        ]
        dose_mg = order.dose_units * row.mg_per_unit
        cap = row.ingredient.max_mg_per_24h
        so_far, most = mg_in_24h(at, doses, dose_mg)
        line = CapLine(
            row.ingredient.name, so_far, dose_mg, cap, most > cap,
            mg_allowed_from(at, doses, dose_mg, cap),
        )  # fmt: skip
        lines.append(line)
        if line.over:
            until = ""
            if line.allowed_from:
                until = f"; allowed from {_clock(line.allowed_from, tz, at)}"
            blocks.append(
                f"Daily maximum of {line.ingredient}: {so_far:,.0f} mg in the last 24 hours, "
                f"this dose {dose_mg:,.0f} mg would make {most:,.0f} mg "
                f"(cap {cap:,.0f} mg){until}."
            )
            if line.allowed_from and (allowed_from is None or line.allowed_from > allowed_from):
                allowed_from = line.allowed_from
    return lines, blocks, allowed_from


def daily_cap_blocks(order: Order, at: datetime, *, exclude_dose=None) -> list[str]:
    """Why a scheduled dose of `order` at `at` would pass an ingredient's daily cap, counting
    every live given dose of the client's orders sharing the ingredient (issue 9). Locks those
    orders in pk order first, as prn_give does, so a PRN and a scheduled dose charted at the
    same moment are judged one after the other."""
    sharing, mg_per_unit = _sharing_orders(order)
    list(Order.objects.select_for_update(of=("self",)).filter(pk__in=sharing).order_by("pk"))
    day = timedelta(hours=24)
    given = counted_doses(sharing, at - day, at + day)
    if exclude_dose is not None:
        given = given.exclude(dose=exclude_dose)
    return _cap_lines(order, at, list(given), mg_per_unit, order.admission.facility.tz)[1]


def prn_check(order: Order, at: datetime) -> PrnCheck:
    """The PRN limits of `order` for a dose at `at`, across the client's orders (issue 9).

    - Interval: any live given dose (PRN or scheduled, any order of the admission) sharing an
      ingredient, less than this order's interval before `at` or after it (a dose stamped a
      moment later by another nurse blocks this one, issue 7).
    - Maximum per 24 hours: PRN doses of every order sharing an ingredient count toward the
      smallest maximum of the client's active PRN orders sharing one, this order's included.
    - Daily cap of an ingredient (Ingredient.max_mg_per_24h): every live given dose's
      dose_units x mg_per_unit, scheduled doses included, in any 24 hours containing `at`.
    """
    sharing, mg_per_unit = _sharing_orders(order)
    interval = timedelta(minutes=order.prn_min_interval_minutes)
    reach = max(timedelta(hours=24), interval)
    given = list(counted_doses(sharing, at - reach, at + reach))
    tz = order.admission.facility.tz
    # Two PRN orders of one drug: the smaller maximum applies to both (this order wins a tie).
    limiting = min(
        Order.objects.active_at(at)
        .filter(pk__in=sharing, frequency=Frequency.PRN)
        .exclude(pk=order.pk)
        .select_related("medication"),
        key=lambda o: (o.prn_max_per_24h, o.pk),
        default=order,
    )
    if limiting.prn_max_per_24h >= order.prn_max_per_24h:
        limiting = order
    maximum = limiting.prn_max_per_24h
    check = PrnCheck(max_per_24h=maximum, sharing=sharing)
    if limiting is not order:
        check.max_from = f"{limiting.medication} {limiting.dose} PRN"
    allowed_from, next_given, _ = prn_limits(
        at, [a.taken_at for a in given], interval_minutes=order.prn_min_interval_minutes,
        max_per_24h=maximum,
    )  # fmt: skip
    prn_times = [a.taken_at for a in given if a.order.is_prn]
    _, _, check.count = prn_limits(
        at, prn_times, interval_minutes=order.prn_min_interval_minutes, max_per_24h=maximum,
    )  # fmt: skip
    if allowed_from is not None:
        last = max((a for a in given if a.taken_at <= at), key=lambda a: a.taken_at)
        check.allowed_from = allowed_from
        check.blocks.append(
            f"Too soon: the next dose is allowed from {_clock(allowed_from, tz, at)} "
            f"({last.order.medication} {taken_words(last)} {_clock(last.taken_at, tz, at)})."
        )
    elif next_given is not None:
        later = min((a for a in given if a.taken_at > at), key=lambda a: a.taken_at)
        check.blocks.append(
            f"Too soon: a dose was {taken_words(later)} at {_clock(next_given, tz, at)} "
            f"({later.order.medication}), less than {order.prn_min_interval_minutes} minutes "
            "later."
        )
    if check.count > maximum:
        others = ""
        if check.max_from:
            others = (
                f" (PRN orders of the same drug together; the maximum of the {check.max_from}"
                f" order applies, {maximum} per 24 hours)"
            )
        elif len(sharing) > 1:
            others = " (PRN orders of the same drug together; this order's maximum applies)"
        check.blocks.append(f"Maximum reached: {check.count - 1} of {maximum} in 24 hours{others}.")
    lines, blocks, cap_from = _cap_lines(order, at, given, mg_per_unit, tz)
    check.caps = lines
    check.blocks += blocks
    if cap_from and (check.allowed_from is None or cap_from > check.allowed_from):
        check.allowed_from = cap_from
    return check


def prn_blocks(order: Order, at: datetime) -> list[str]:
    """Why a PRN dose at `at` is not allowed without an override (empty: allowed)."""
    return prn_check(order, at).blocks


@transaction.atomic
def prn_give(
    *,
    actor: User,
    order: Order,
    indication: str,
    pre_assessment: str,
    given_at: datetime | None = None,
    override_reason: str = "",
    override_by: User | None = None,
    now: datetime | None = None,
    pre_score: int | None = None,
    reason: str = "",
    trigger_reason: str = "",
    hold_values: dict | None = None,
    hold_reason: str = "",
) -> Administration:
    """Give a PRN dose within its limits; past a limit, a reason and a second nurse override.

    The rows of every order of the admission sharing an ingredient are locked first, in pk
    order, and only then is the clock read and the limits counted, so two nurses giving PRNs of
    one drug at once are judged one after the other: the second sees the first dose (issue 7:
    reading the clock before the lock let both through).

    `pre_score`, a 0-10 pain or symptom score, is written into the pre-dose assessment
    ("score 6/10"); a follow-up of a dose whose assessment holds a score needs one too.

    `given_at` is not before the order was verified or released, nor more than 12 hours ago;
    more than 60 minutes ago it is a late entry and needs a `reason`.

    A score-triggered order (issue 11, "give if CIWA-Ar ≥ 10") records the current score it
    relied on (medications/triggers.py). Given when the score does not indicate it (below the
    trigger, or no current score) is the nurse's judgement: allowed with `trigger_reason`,
    which the documentation keeps in its reason.

    An order with structured hold parameters (issue 11: "clonidine PRN, hold if SBP < 90") is
    judged as a scheduled dose is (administrations._judge_holds): each hold vital typed in
    `hold_values`, else a reading taken within the facility's `hold_vital_max_age_minutes`,
    else the dose is refused until the vital is taken. A value meeting a rule means the dose
    is held (not given, nothing charted); given anyway needs `hold_reason`, kept in the reason
    with the rule met. The vital judged on is recorded with the dose.
    """
    policy.require(actor, "mar.give", order)
    # Lock only the order rows (not their admission and facility, which alerts and the access
    # log reference), then read the clock.
    sharing, _ = _sharing_orders(order)
    list(Order.objects.select_for_update(of=("self",)).filter(pk__in=sharing).order_by("pk"))
    order = Order.objects.select_related("admission__facility", "medication").get(pk=order.pk)
    now = now or timezone.now()
    given_at = given_at or now
    admission = order.admission
    errors = {}
    if not order.is_prn:
        raise ValidationError("This is not a PRN order.")
    reason = reason.strip()
    opened = opened_at(order)
    if given_at > now + FUTURE_TOLERANCE:
        errors["given_at"] = "Given at: cannot be in the future."
    elif given_at < now - PRN_EARLIEST:
        errors["given_at"] = "Given at: more than 12 hours ago; chart it with a note instead."
    elif opened is not None and given_at < opened:
        local = timezone.localtime(opened, admission.facility.tz)
        errors["given_at"] = f"Given at: before the order was verified or released ({local:%H:%M})."
    elif given_at < now - PRN_LATE_ENTRY and not reason:
        errors["reason"] = "Reason: a dose given more than 60 minutes ago is a late entry; say why."
    given_at = min(given_at, now)
    if not indication.strip():
        errors["indication"] = "Indication: say why the dose is needed."
    pre_assessment = pre_assessment.strip()
    if not pre_assessment:
        errors["pre_assessment"] = "Pre-dose assessment: record pain, anxiety or the score."
    if pre_score is not None and not 0 <= pre_score <= 10:
        errors["pre_score"] = "Pre-dose score: 0 to 10."
    elif pre_score is not None and pre_dose_score(pre_assessment) != pre_score:
        pre_assessment = f"{pre_assessment} · score {pre_score}/10"
        if len(pre_assessment) > PRE_ASSESSMENT_MAX:
            errors["pre_assessment"] = "Pre-dose assessment: at most 185 characters with a score."
    late_reason = reason if given_at < now - PRN_LATE_ENTRY else ""
    trigger_fields, reason = _trigger(order, given_at, trigger_reason.strip(), late_reason, errors)
    hold_fields, reason = _holds(order, given_at, hold_values, hold_reason.strip(), reason, errors)
    if errors:
        raise ValidationError(errors)
    if admission.discharged_at is not None and given_at >= admission.discharged_at:
        raise ValidationError("The MAR is closed: this client has been discharged.")
    if not Order.objects.active_at(given_at).filter(pk=order.pk).exists():
        raise ValidationError("This order is not active (unverified, stopped or discontinued).")
    refuse_if_new_conflict(order, given_at)
    blocks = prn_blocks(order, given_at)
    if blocks:
        if not override_reason.strip() or override_by is None:
            raise ValidationError(blocks + ["An override needs a reason and a second nurse."])
        if override_by.pk == actor.pk or not policy.allows(
            override_by, "mar.cosign_prn_override", order
        ):
            raise ValidationError({"override_by": "Second nurse: a different nurse must agree."})
    else:
        override_reason, override_by = "", None
    admin = Administration.objects.create(
        order=order,
        outcome=Outcome.GIVEN,
        given_at=given_at,
        recorded_at=now,
        recorded_by=actor,
        prn_indication=indication.strip(),
        pre_assessment=pre_assessment,
        override_reason=override_reason.strip(),
        override_by=override_by,
        reason=reason,
        **trigger_fields,
        **hold_fields,
    )
    decrement_for_administration(admin)
    open_naloxone_incident(admin)
    return admin


REASON_MAX = Administration._meta.get_field("reason").max_length


def _trigger(order: Order, given_at, trigger_reason: str, late_reason: str, errors) -> tuple:
    """The score a triggered PRN relies on, and the documentation's reason: the late entry's,
    and why it is given when the score does not indicate it."""
    if not order.prn_trigger_scale:
        return {}, late_reason
    readings = admission_readings(order.admission_id, given_at)
    status = trigger_for(order, readings, given_at)
    fields = {}
    if status.score is not None:
        reading = readings[order.prn_trigger_scale]
        fields = {
            "trigger_scale": order.prn_trigger_scale,
            "trigger_score": status.score,
            "trigger_assessed_at": status.taken_at,
            "trigger_assessment_id": reading.public_id,
        }
    if status.indicated:
        return fields, late_reason
    label = triggers.trigger_label(order.prn_trigger_scale, order.prn_trigger_min_score)
    name = triggers.SCALES[order.prn_trigger_scale]
    if not trigger_reason:
        errors["trigger_reason"] = (
            f"Not indicated: {name} {status.score} is below the trigger ({label}); say why it "
            "is given."
            if status.score is not None
            else f"No current {name} score: assess first, or say why it is given without one."
        )
        return fields, late_reason
    score = f"{name} {status.score}" if status.score is not None else f"no current {name} score"
    text = f"Not indicated ({score}; trigger {label}), given: {trigger_reason}"
    if late_reason:
        text = f"{late_reason} · {text}"
    if len(text) > REASON_MAX:
        errors["trigger_reason"] = (
            f"Why give it: too long with the score noted; at most {REASON_MAX} characters "
            f"together (this has {len(text)})."
        )
    return fields, text


def _holds(order: Order, given_at, hold_values, hold_reason: str, reason: str, errors) -> tuple:
    """The order's structured holds judged for a PRN dose at `given_at` (services/holds.py):
    the fields the dose records (the vital judged on, the rule met), and the reason with why it
    is given although a rule is met. Errors on hold_<vital> and hold_reason."""
    checks = order_hold_checks(order, at=given_at, typed=hold_values, errors=errors, giving=True)
    if not checks:
        return {}, reason
    fields = hold_record_fields(checks)
    met = "; ".join(met_texts(checks))
    if not met:
        return fields, reason
    fields["hold_parameter"] = met[:300]
    if not hold_reason:
        errors["hold_reason"] = (
            f"Hold parameter met: {met} meets the order's hold rule. Do not give it (held), "
            "or say why it is given anyway."
        )
        return fields, reason
    text = f"Hold parameter met ({met}), given anyway: {hold_reason}"
    text = f"{reason} · {text}" if reason else text
    if len(text) > REASON_MAX:
        errors["hold_reason"] = (
            f"Why give it anyway: too long with the rule noted; at most {REASON_MAX} characters "
            f"together (this has {len(text)})."
        )
    return fields, text


def follow_up_opens_at(administration: Administration) -> datetime:
    """The reassessment time for the dose's route (specs/mar.md, PRN): 60 or 30 minutes."""
    return administration.given_at + reassessment_delay(administration.order.route)


@transaction.atomic
def prn_follow_up(
    *, actor: User, administration: Administration, result: str, post_assessment: str = "",
    note: str = "", score: int | None = None, early_reason: str = "",
    now: datetime | None = None,
):  # fmt: skip
    """Record how well a PRN dose worked: an assessment (issue 9 item 6).

    The effect, what was observed, and a 0-10 score when the pre-dose assessment recorded one.
    Before the reassessment time for the route, only with the reason it is assessed early.
    """
    from medications.models import Effect, PrnFollowUp

    policy.require(actor, "mar.follow_up", administration)
    now = now or timezone.now()
    administration = Administration.objects.select_related("order__admission__facility").get(
        pk=administration.pk
    )
    if administration.dose_id is not None or administration.struck_at is not None:
        raise ValidationError("Only a live PRN dose takes a follow-up.")
    if PrnFollowUp.objects.filter(administration=administration).exists():
        raise ValidationError("This dose already has its follow-up.")
    errors = {}
    if result not in Effect.values:
        errors["result"] = "Effect: effective, partially or not effective."
    post_assessment, early_reason = post_assessment.strip(), early_reason.strip()
    if not post_assessment:
        errors["post_assessment"] = "What was observed: describe the client after the dose."
    if score is not None and not 0 <= score <= 10:
        errors["score"] = "Score: 0 to 10."
    elif score is None and pre_dose_score(administration.pre_assessment) is not None:
        errors["score"] = (
            f"Score: the pre-dose assessment was scored ({administration.pre_assessment}); "
            "score 0 to 10 now."
        )
    opens = follow_up_opens_at(administration)
    if now < opens and not early_reason:
        local = timezone.localtime(opens, administration.order.admission.facility.tz)
        errors["early_reason"] = (
            f"Reassessment opens at {local:%H:%M}; say why the effect is assessed early."
        )
    elif now >= opens:
        early_reason = ""
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return PrnFollowUp.objects.create(
                administration=administration,
                result=result,
                post_assessment=post_assessment,
                score=score,
                early_reason=early_reason,
                note=note.strip(),
                recorded_at=now,
                recorded_by=actor,
            )
    except IntegrityError as exc:
        raise ValidationError("This dose already has its follow-up.") from exc


def prn_pending(admission_ids, now: datetime):
    """Live PRN doses of the stays without a follow-up, with their reassessment status. No
    look-back: a follow-up never charted stays owed, on the med pass and on "My work", until it
    is charted (issue 17 review: a 24-hour window let it vanish)."""
    from medications.timing import prn_reassessment_status

    doses = (
        Administration.objects.filter(
            order__admission__in=admission_ids,
            dose__isnull=True,
            outcome=Outcome.GIVEN,
            struck_at__isnull=True,
            follow_up__isnull=True,
            given_at__lte=now,
        )
        .select_related("order__medication", "order__admission__client",
                        "order__admission__facility", "recorded_by")
        .order_by("given_at")
    )  # fmt: skip
    pending = []
    for a in doses:
        a.reassess_at = follow_up_opens_at(a)  # the follow-up form says when it opens
        pending.append((a, prn_reassessment_status(a.given_at, now, route=a.order.route)))
    return pending


def scan_prn_reassessments(*, now: datetime | None = None) -> int:
    """Alert once for each PRN dose whose effectiveness reassessment is overdue."""
    now = now or timezone.now()
    open_ids = Admission.objects.current().values_list("pk", flat=True)
    from facility.models import Alert

    alerts = []
    for admin, status in prn_pending(open_ids, now):
        if status != "overdue":
            continue
        client = admin.order.admission.client
        facility = admin.order.admission.facility
        alerts.append(
            Alert(
                facility=facility,
                kind="prn_reassessment_overdue",
                severity=AlertSeverity.WARNING,
                message=f"PRN follow-up overdue: {admin.order.medication} given "
                f"{timezone.localtime(admin.given_at, facility.tz):%H:%M} "
                f"to {client.display_name}.",
                dedupe_key=f"prn-followup:{admin.public_id}",
                client_public_id=client.public_id,
                client_label=client.mrn,
                raised_at=now,
            )
        )
    return alerts_raise_many(alerts)
