"""Medication orders: transcribe as written, verify by a second nurse, discontinue
(specs/mar.md, Orders)."""

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from clients.models import Admission
from facility import policy
from facility.models import Alert, AlertSeverity, User
from facility.roles import holds_prescribing_credentials
from facility.services import alerts_raise_many
from medications import allergies, timing, triggers
from medications import holds as hold_rules
from medications.holds import MAX_HOLDS
from medications.models import (
    Administration,
    Comparator,
    Frequency,
    HoldParameter,
    HoldVital,
    Medication,
    Order,
    OrderSource,
    Priority,
    ScheduledDose,
)
from medications.services.doses import HORIZON, doses_materialize


def parse_times(text: str) -> list[time]:
    """ "09:00, 21:00" → sorted unique times; refuses anything that is not HH:MM."""
    try:
        return timing.parse_times(text)
    except ValueError as exc:
        raise ValidationError({"times": str(exc)}) from exc


def allergy_conflicts(client, medication: Medication) -> list[str]:
    """The client's drug allergies that stop (first) or caution this medication, each with why:
    "Penicillin (amoxicillin is a penicillin)" (medications/allergies.py)."""
    return [str(f) for f in allergies.medication_check(client, medication)]


def prescribers_of(facility) -> list[User]:
    """The facility's prescribers: active users who may prescribe and hold MD, DO, NP or PA."""
    users = User.objects.with_perm(
        "facility.prescribe_order", backend="django.contrib.auth.backends.ModelBackend"
    ).filter(facilities=facility)
    return [u for u in users.order_by("full_name") if holds_prescribing_credentials(u)]


def _arrival_errors(actor, admission, source, prescriber, read_back, priority) -> dict:
    """How the order arrived: a prescriber's own, verbal or telephone (read back, naming one of
    the facility's prescribers), or written."""
    errors = {}
    if priority not in Priority.values:
        errors["priority"] = "Priority: choose routine, STAT or NOW."
    if source not in OrderSource.values:
        errors["source"] = "Source: choose how the order arrived."
    elif source == OrderSource.PRESCRIBER:
        if not holds_prescribing_credentials(actor):
            errors["prescriber"] = (
                "Prescriber: only an MD, DO, NP or PA enters and signs an order; your "
                f"credentials are “{actor.credentials or 'none'}”. Give the order to a nurse."
            )
        elif prescriber is None or prescriber.pk != actor.pk:
            errors["prescriber"] = "Prescriber: you sign only your own orders."
    elif (source != OrderSource.WRITTEN or prescriber) and prescriber not in prescribers_of(
        admission.facility
    ):
        errors["prescriber"] = "Prescriber: choose one of this facility's prescribers."
    if source in (OrderSource.VERBAL, OrderSource.TELEPHONE) and not read_back:
        errors["read_back"] = "Read-back: read the whole order back to the prescriber and tick it."
    return errors


def _allergy_errors(client, medication: Medication, reason: str, errors: dict) -> dict:
    """Allergies not yet recorded refuse the order; a block or a warning needs a reason."""
    try:
        allergies.recorded_or_refuse(client)
    except ValidationError as exc:
        return exc.message_dict
    findings = allergies.medication_check(client, medication) if not errors else []
    if not findings or reason.strip():
        return {}
    blocks = [str(f) for f in findings if f.level == allergies.BLOCK]
    warnings = [str(f) for f in findings if f.level == allergies.WARN]
    text = f"Allergy: the chart lists {'; '.join(blocks)}." if blocks else ""
    if warnings:
        text += f" Allergy warning: {'; '.join(warnings)}."
    return {"allergy_override_reason": f"{text.strip()} Give a reason to override."}


@transaction.atomic
def order_transcribe(
    *,
    actor: User,
    admission: Admission,
    medication: Medication,
    dose: str,
    dose_units: Decimal,
    route: str,
    frequency: str,
    start_at: datetime,
    prescriber_name: str,
    prescriber_credentials: str,
    times: str = "",
    stop_at: datetime | None = None,
    indication: str = "",
    time_critical: bool = False,
    hold_parameters: str = "",
    prn_min_interval_minutes: int | None = None,
    prn_max_per_24h: int | None = None,
    allergy_override_reason: str = "",
    priority: str = Priority.ROUTINE,
    source: str = OrderSource.WRITTEN,
    prescriber: User | None = None,
    read_back: bool = False,
    prn_trigger_scale: str = "",
    prn_trigger_min_score: int | None = None,
    holds: Sequence[tuple[str, str, Decimal]] = (),
) -> Order:
    """Enter a prescriber's order as written. It gives no dose until another nurse verifies it.

    A PRN order may carry a score trigger ("give if CIWA-Ar ≥ 10"), and any order up to three
    structured hold parameters (`holds`: (vital, comparator, value), e.g. ("sbp", "lt", 90)),
    created with the order: orders are never edited (issue 11 items 6 and 7).

    A verbal or telephone order names the prescriber (a user of the facility), who co-signs it
    later (`order_cosign`); a prescriber's own order is entered through `order_prescribe`.
    """
    by_prescriber = source == OrderSource.PRESCRIBER
    policy.require(actor, "order.prescribe" if by_prescriber else "order.transcribe", admission)
    if not admission.is_open:
        raise ValidationError("This client has been discharged.")
    errors = {}
    if medication.facility_id != admission.facility_id or not medication.active:
        errors["medication"] = "Medication: not in this facility's catalog."
    if not route:
        errors["route"] = "Route: choose how the dose is given."
    elif route not in medication.route_list:
        errors["route"] = f"Route: {medication.name} is not given {route}."
    if dose_units is None or dose_units <= 0 or dose_units > 100:
        errors["dose_units"] = "Units per dose: between 0 and 100."
    if stop_at and stop_at <= start_at:
        errors["stop_at"] = "Stop: must be after the start."
    if frequency == Frequency.PRN:
        if not prn_min_interval_minutes or prn_min_interval_minutes <= 0:
            errors["prn_min_interval_minutes"] = "Minimum interval: required for a PRN order."
        if not prn_max_per_24h or prn_max_per_24h <= 0:
            errors["prn_max_per_24h"] = "Maximum per 24 hours: required for a PRN order."
        if not indication.strip():
            errors["indication"] = "Indication: required for a PRN order."
    if frequency == Frequency.TIMES and not times.strip():
        errors["times"] = "Times: list the administration times, e.g. 09:00,21:00."
    if times.strip():
        try:
            parse_times(times)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if start_at < admission.admitted_at - timedelta(minutes=1):
        errors["start_at"] = "Start: cannot be before admission."
    errors.update(_arrival_errors(actor, admission, source, prescriber, read_back, priority))
    if priority != Priority.ROUTINE and frequency != Frequency.ONCE:
        errors["priority"] = "Priority: STAT and NOW orders are one-time orders; choose “Once”."
    if prescriber is not None:
        # As the order's own fields hold them (a user's may be longer).
        prescriber_name = prescriber.full_name[:120]
        prescriber_credentials = prescriber.credentials[:40]
    if not prescriber_name.strip():
        errors["prescriber_name"] = "Prescriber: required."
    errors.update(_trigger_errors(frequency, prn_trigger_scale, prn_trigger_min_score))
    errors.update(_hold_errors(holds))
    errors.update(_allergy_errors(admission.client, medication, allergy_override_reason, errors))
    if errors:
        raise ValidationError(errors)
    order = Order.objects.create(
        admission=admission,
        medication=medication,
        dose=dose.strip(),
        dose_units=dose_units,
        route=route,
        frequency=frequency,
        times=times.strip(),
        start_at=start_at,
        stop_at=stop_at,
        indication=indication.strip(),
        time_critical=time_critical or medication.time_critical,
        hold_parameters=hold_parameters.strip(),
        prescriber_name=prescriber_name.strip(),
        prescriber_credentials=prescriber_credentials.strip(),
        prn_min_interval_minutes=prn_min_interval_minutes if frequency == Frequency.PRN else None,
        prn_max_per_24h=prn_max_per_24h if frequency == Frequency.PRN else None,
        allergy_override_reason=allergy_override_reason.strip(),
        priority=priority,
        source=source,
        prescriber=prescriber,
        read_back=read_back and source in (OrderSource.VERBAL, OrderSource.TELEPHONE),
        prescriber_signed_at=timezone.now() if by_prescriber else None,
        transcribed_by=actor,
        transcribed_at=timezone.now(),
        prn_trigger_scale=prn_trigger_scale or "",
        prn_trigger_min_score=prn_trigger_min_score if prn_trigger_scale else None,
    )
    HoldParameter.objects.bulk_create(
        HoldParameter(order=order, vital=vital, comparator=comparator, value=value)
        for vital, comparator, value in holds
    )
    return order


def _trigger_errors(frequency: str, scale: str, min_score: int | None) -> dict:
    """A score trigger: only on a PRN order, a scale and a minimum score within its range."""
    if not scale and min_score is None:
        return {}
    if frequency != Frequency.PRN:
        return {"prn_trigger_scale": "Score trigger: only a PRN order is given on a score."}
    if scale not in triggers.SCALES:
        return {"prn_trigger_scale": "Score trigger: choose CIWA-Ar or COWS."}
    top = triggers.SCALE_MAX[scale]
    if min_score is None:
        return {"prn_trigger_min_score": f"Minimum score: give the score that triggers the dose "
                f"(0–{top})."}  # fmt: skip
    if not 0 <= min_score <= top:
        name = triggers.SCALES[scale]
        return {"prn_trigger_min_score": f"Minimum score: {name} runs from 0 to {top}."}
    return {}


def _hold_errors(holds: Sequence[tuple[str, str, Decimal]]) -> dict:
    """Each hold row names a vital, a comparator and a plausible value (specs/scales.md);
    errors on the row's fields, hold_vital_1 … hold_value_3."""
    errors = {}
    if len(holds) > MAX_HOLDS:
        errors["hold_vital_1"] = f"Hold parameters: at most {MAX_HOLDS}."
    for n, (vital, comparator, value) in enumerate(holds, start=1):
        if vital not in HoldVital.values:
            errors[f"hold_vital_{n}"] = f"Hold {n}: choose the vital."
            continue
        if comparator not in Comparator.values:
            errors[f"hold_comparator_{n}"] = f"Hold {n}: choose <, ≤, > or ≥."
        message = hold_rules.out_of_range(vital, value)
        if message:
            errors[f"hold_value_{n}"] = f"Hold {n}: {message}"
    return errors


@transaction.atomic
def order_verify(
    *, actor: User, order: Order, now: datetime | None = None, start_with_next_time: bool = False
) -> Order:
    """A second nurse checks the transcription; doses are materialized at once.

    Today's times already passed are created too (due, late or missed), unless the nurse
    chooses `start_with_next_time`, which the order records (specs/mar.md, Windows).
    """
    now = now or timezone.now()
    policy.require(actor, "order.verify", order)
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.verified_at is not None:
        raise ValidationError(f"Already verified by {order.verified_by}.")
    if order.discontinued_at is not None:
        raise ValidationError("This order was discontinued.")
    if order.transcribed_by_id == actor.pk:
        raise ValidationError("Verify: a different nurse must verify the order you transcribed.")
    allergies.verify_or_refuse(order)
    order.verified_by = actor
    order.verified_at = now
    order.start_with_next_time = bool(start_with_next_time)
    order.save(update_fields=["verified_by", "verified_at", "start_with_next_time"])
    doses_materialize(order, until=now + HORIZON, now=now)
    # A released order's "still unverified" alert is answered by this check.
    Alert.objects.open().filter(dedupe_key=f"order-unverified:{order.public_id}").update(
        resolved_at=now, resolved_by=actor, resolution_note="Verified by a second nurse."
    )
    _resolve_unchecked(order, actor, now, "Verified by a second nurse.")
    return order


@transaction.atomic
def order_discontinue(
    *,
    actor: User,
    order: Order,
    reason: str,
    now: datetime | None = None,
    for_discharge: bool = False,
) -> Order:
    """Stop an order; its undocumented doses still scheduled or due now (in or before their
    window, or by their deadline) are cancelled at once and can no longer be given (issue 9: a
    dose in its window stayed "due"). Late and missed undocumented doses stay as they are, on
    the MAR and under "Needs an outcome", until someone charts an outcome.

    `for_discharge`: the discharge is the authority, so whoever may discharge the stay (a
    supervisor too) closes its orders, recorded under their name."""
    now = now or timezone.now()
    if for_discharge:
        policy.require(actor, "clients.admit", order.admission)
    else:
        policy.require(actor, "order.discontinue", order)
    if not reason.strip():
        raise ValidationError({"reason": "Reason: say why the order is discontinued."})
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.discontinued_at is not None:
        raise ValidationError("This order is already discontinued.")
    order.discontinued_at = now
    order.discontinued_by = actor
    order.discontinue_reason = reason.strip()
    order.save(update_fields=["discontinued_at", "discontinued_by", "discontinue_reason"])
    live = Administration.objects.filter(dose=OuterRef("pk"), struck_at__isnull=True)
    minute = Value(timedelta(minutes=1), output_field=DurationField())
    window_end = ExpressionWrapper(
        F("scheduled_at")
        + ExpressionWrapper(F("window_minutes") * minute, output_field=DurationField()),
        output_field=DateTimeField(),
    )
    not_late = Q(deadline_at__isnull=True, window_end__gte=now) | Q(deadline_at__gte=now)
    ScheduledDose.objects.filter(order=order, cancelled_at__isnull=True).annotate(
        window_end=window_end
    ).filter(not_late).exclude(Exists(live)).update(cancelled_at=now)
    _resolve_unchecked(order, actor, now, f"Order discontinued: {order.discontinue_reason}")
    return order


def order_prescribe(
    *, actor: User, admission: Admission, medication: Medication, **fields
) -> Order:
    """A prescriber (MD, DO, NP, PA) enters and signs their own order; one nurse acknowledges it
    with `order_verify` before any dose is due. `fields` are those of `order_transcribe`."""
    fields.update(prescriber_name=actor.full_name, prescriber_credentials=actor.credentials)
    return order_transcribe(
        actor=actor, admission=admission, medication=medication,
        source=OrderSource.PRESCRIBER, prescriber=actor, **fields,
    )  # fmt: skip


@transaction.atomic
def order_cosign(*, actor: User, order: Order, now: datetime | None = None) -> Order:
    """The prescriber co-signs a verbal or telephone order a nurse took from them."""
    now = now or timezone.now()
    policy.require(actor, "order.cosign", order)
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.source not in (OrderSource.VERBAL, OrderSource.TELEPHONE):
        raise ValidationError("Co-sign: only verbal and telephone orders are co-signed.")
    if order.prescriber_id != actor.pk or not holds_prescribing_credentials(actor):
        raise ValidationError(f"Co-sign: this order was given by {order.prescriber_name}.")
    if order.prescriber_signed_at is not None:
        raise ValidationError("Co-sign: already co-signed.")
    order.prescriber_signed_at = now
    order.save(update_fields=["prescriber_signed_at"])
    Alert.objects.open().filter(dedupe_key=f"order-cosign-overdue:{order.public_id}").update(
        resolved_at=now, resolved_by=actor, resolution_note="Co-signed by the prescriber."
    )
    return order


RELEASE_ATTESTATION = "No second nurse on shift"


@transaction.atomic
def order_release(
    *,
    actor: User,
    order: Order,
    reason: str,
    no_second_nurse: bool = False,
    now: datetime | None = None,
) -> Order:
    """Give a STAT or PRN order before its second check, when the nurse attests that no second
    nurse is on shift. It stays "unverified" until another nurse verifies it."""
    now = now or timezone.now()
    policy.require(actor, "order.release", order)
    order = Order.objects.select_for_update().select_related("admission").get(pk=order.pk)
    if not order.admission.is_open:
        raise ValidationError("This client has been discharged.")
    if order.discontinued_at is not None:
        raise ValidationError("This order was discontinued.")
    if order.verified_at is not None:
        raise ValidationError(f"Already verified by {order.verified_by}.")
    if order.released_at is not None:
        raise ValidationError(f"Already given before the check by {order.released_by}.")
    if order.source == OrderSource.PRESCRIBER:
        raise ValidationError("A prescriber's own order needs one nurse: acknowledge it instead.")
    errors = {}
    if order.priority != Priority.STAT and order.frequency != Frequency.PRN:
        errors["reason"] = (
            "Release: only a STAT or PRN order may be given before the second check; "
            "ask another nurse to verify this one."
        )
    if not no_second_nurse:
        errors["no_second_nurse"] = "Confirm that no second nurse is on shift to check it."
    if not reason.strip():
        errors["reason"] = "Reason: say why it cannot wait for a second nurse."
    if errors:
        raise ValidationError(errors)
    order.released_at = now
    order.released_by = actor
    order.release_reason = f"{RELEASE_ATTESTATION}: {reason.strip()}"[:300]
    order.save(update_fields=["released_at", "released_by", "release_reason"])
    doses_materialize(order, until=now + HORIZON, now=now)
    _resolve_unchecked(order, actor, now, "Given before the second check (released).")
    return order


def orders_awaiting_check(user):
    """Orders of the user's facilities no second nurse has checked yet: awaiting verification,
    given before the check ("unverified"), a prescriber's own awaiting acknowledgement."""
    return Order.objects.filter(
        admission__facility__in=user.facility_ids(),
        admission__discharged_at__isnull=True,
        verified_at__isnull=True,
        discontinued_at__isnull=True,
    )


def orders_awaiting_cosign(user):
    """The user's verbal and telephone orders, in their facilities, not yet co-signed."""
    return Order.objects.filter(
        admission__facility__in=user.facility_ids(),
        prescriber=user,
        source__in=[OrderSource.VERBAL, OrderSource.TELEPHONE],
        prescriber_signed_at__isnull=True,
    )


def scan_orders(*, now: datetime | None = None) -> int:
    """Alert once per order: a verbal or telephone order not co-signed within the facility's
    `order_cosign_hours`, an order given before its check still unverified after
    `unverified_order_alert_hours`, and an order neither verified nor released since it was
    entered: a STAT one after 30 minutes (critical: it has no dose row yet, so no missed-dose
    alert would ever come), a NOW one after 60, any other after `unverified_order_alert_hours`.
    The same queries, whatever the number of orders."""
    now = now or timezone.now()
    hour = Value(timedelta(hours=1), output_field=DurationField())

    def after(start: str, hours: str):
        return ExpressionWrapper(
            F(start) + ExpressionWrapper(F(hours) * hour, output_field=DurationField()),
            output_field=DateTimeField(),
        )

    related = ("admission__client", "admission__facility", "medication")
    uncosigned = (
        Order.objects.filter(
            source__in=[OrderSource.VERBAL, OrderSource.TELEPHONE],
            prescriber_signed_at__isnull=True,
        )
        .annotate(due=after("transcribed_at", "admission__facility__order_cosign_hours"))
        .filter(due__lt=now)
        .select_related(*related)
    )
    unverified = (
        Order.objects.filter(
            released_at__isnull=False, verified_at__isnull=True, discontinued_at__isnull=True
        )
        .annotate(due=after("released_at", "admission__facility__unverified_order_alert_hours"))
        .filter(due__lt=now)
        .select_related(*related, "released_by")
    )
    entered = Coalesce("transcribed_at", "prescriber_signed_at")
    unchecked = (
        Order.objects.filter(
            verified_at__isnull=True, released_at__isnull=True, discontinued_at__isnull=True,
            admission__discharged_at__isnull=True,
        )
        .annotate(entered=entered, due=Case(
            When(priority=Priority.STAT, then=ExpressionWrapper(
                entered + UNCHECKED_AFTER[Priority.STAT], output_field=DateTimeField())),
            When(priority=Priority.NOW, then=ExpressionWrapper(
                entered + UNCHECKED_AFTER[Priority.NOW], output_field=DateTimeField())),
            default=after("transcribed_at", "admission__facility__unverified_order_alert_hours"),
        ))
        .filter(due__lt=now)
        .select_related(*related, "transcribed_by")
    )  # fmt: skip
    alerts = []
    for o in unchecked:
        alerts.append(_unchecked_alert(o, now))
    for o in uncosigned:
        hours = o.admission.facility.order_cosign_hours
        alerts.append(_order_alert(o, "order_cosign_overdue", now, (
            f"{o.get_source_display()} for {o.admission.client.display_name} ({o.medication} "
            f"{o.dose}) not co-signed by {o.prescriber_name} within {hours} hours."
        )))  # fmt: skip
    for o in unverified:
        hours = o.admission.facility.unverified_order_alert_hours
        alerts.append(_order_alert(o, "order_unverified", now, (
            f"Unverified order for {o.admission.client.display_name}: {o.medication} {o.dose}, "
            f"given before the second check by {o.released_by}, still unverified after "
            f"{hours} hours. A second nurse must verify it."
        )))  # fmt: skip
    return alerts_raise_many(alerts)


# An order no nurse has verified or released: how long after it was entered it alerts.
UNCHECKED_AFTER = {
    Priority.STAT: Value(timedelta(minutes=30), output_field=DurationField()),
    Priority.NOW: Value(timedelta(minutes=60), output_field=DurationField()),
}
UNCHECKED_KINDS = ("order_stat_unchecked", "order_now_unchecked", "order_unchecked")


def _unchecked_alert(o: Order, now: datetime) -> Alert:
    tz = o.admission.facility.tz
    what = (
        f"{o.medication} {o.dose} for {o.admission.client.display_name}, entered "
        f"{timezone.localtime(o.entered, tz):%Y-%m-%d %H:%M} by {o.transcribed_by}"
    )
    if o.priority == Priority.STAT:
        return _order_alert(o, "order_stat_unchecked", now, (
            f"STAT order not checked: {what}, neither verified nor released after 30 minutes. "
            "A second nurse must verify it, or give or release it now."
        ), severity=AlertSeverity.CRITICAL)  # fmt: skip
    if o.priority == Priority.NOW:
        return _order_alert(o, "order_now_unchecked", now, (
            f"NOW order not checked: {what}, neither verified nor released after 60 minutes. "
            "A second nurse must verify it now."
        ))  # fmt: skip
    hours = o.admission.facility.unverified_order_alert_hours
    return _order_alert(o, "order_unchecked", now, (
        f"Order not checked: {what}, still unverified after {hours} hours. "
        "A second nurse must verify it; no dose is due until then."
    ))  # fmt: skip


def _resolve_unchecked(order: Order, actor: User, now: datetime, note: str) -> None:
    """Answer the order's "not checked" alert (scan_orders) by the check, release or stop."""
    keys = [f"{kind.replace('_', '-')}:{order.public_id}" for kind in UNCHECKED_KINDS]
    Alert.objects.open().filter(dedupe_key__in=keys).update(
        resolved_at=now, resolved_by=actor, resolution_note=note
    )


def _order_alert(
    order: Order, kind: str, now: datetime, message: str, severity=AlertSeverity.WARNING
) -> Alert:
    client = order.admission.client
    return Alert(
        facility=order.admission.facility, kind=kind, severity=severity,
        message=message, dedupe_key=f"{kind.replace('_', '-')}:{order.public_id}",
        client_public_id=client.public_id, client_label=client.mrn, raised_at=now,
    )  # fmt: skip
