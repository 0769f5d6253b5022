"""PRN doses: limits, giving, the effectiveness follow-up and its overdue scan (specs/mar.md,
PRN)."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clients.models import Admission
from facility import policy
from facility.models import AlertSeverity, User
from facility.services import alerts_raise_many
from medications.models import Administration, Order, Outcome
from medications.services.administrations import FUTURE_TOLERANCE
from medications.services.controlled import decrement_for_administration
from medications.timing import prn_limits


def prn_blocks(order: Order, at: datetime) -> list[str]:
    """Why a PRN dose at `at` is not allowed without an override (empty: allowed).

    Every live dose of the order within 24 hours (or the interval, if longer) either side of
    `at` is weighed, later ones
    included: a dose stamped a moment after `at` (another nurse's, on another server's clock)
    must block this one, not slip past the limits (issue 7).
    """
    # Far enough either side for both limits: a q48h PRN looks back 48 hours, not 24.
    reach = max(timedelta(hours=24), timedelta(minutes=order.prn_min_interval_minutes))
    given = list(
        Administration.objects.filter(
            order=order,
            outcome=Outcome.GIVEN,
            struck_at__isnull=True,
            given_at__gt=at - reach,
            given_at__lt=at + reach,
        ).values_list("given_at", flat=True)
    )
    allowed_from, next_given, count = prn_limits(
        at,
        given,
        interval_minutes=order.prn_min_interval_minutes,
        max_per_24h=order.prn_max_per_24h,
    )
    tz = order.admission.facility.tz
    reasons = []
    if allowed_from is not None:
        local = timezone.localtime(allowed_from, tz)
        reasons.append(f"Too soon: the next dose is allowed from {local:%H:%M}.")
    elif next_given is not None:
        local = timezone.localtime(next_given, tz)
        reasons.append(
            f"Too soon: a dose was given at {local:%H:%M}, less than "
            f"{order.prn_min_interval_minutes} minutes later."
        )
    if count > order.prn_max_per_24h:
        reasons.append(f"Maximum reached: {count - 1} of {order.prn_max_per_24h} in 24 hours.")
    return reasons


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
) -> Administration:
    """Give a PRN dose within its limits; past a limit, a reason and a second nurse override.

    The order row is locked first, and only then is the clock read and the limits counted, so
    two nurses giving the same PRN at once are judged one after the other: the second sees the
    first dose (issue 7: reading the clock before the lock let both through).
    """
    policy.require(actor, "mar.give", order)
    # Lock only the order row (not its admission and facility, which alerts and the access log
    # reference), then read the clock.
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("admission__facility")
        .get(pk=order.pk)
    )
    now = now or timezone.now()
    given_at = given_at or now
    admission = order.admission
    errors = {}
    if not order.is_prn:
        raise ValidationError("This is not a PRN order.")
    if given_at > now + FUTURE_TOLERANCE:
        errors["given_at"] = "Given at: cannot be in the future."
    given_at = min(given_at, now)
    if not indication.strip():
        errors["indication"] = "Indication: say why the dose is needed."
    if not pre_assessment.strip():
        errors["pre_assessment"] = "Pre-dose assessment: record pain, anxiety or the score."
    if errors:
        raise ValidationError(errors)
    if admission.discharged_at is not None and given_at >= admission.discharged_at:
        raise ValidationError("The MAR is closed: this client has been discharged.")
    if not Order.objects.active_at(given_at).filter(pk=order.pk).exists():
        raise ValidationError("This order is not active (unverified, stopped or discontinued).")
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
        pre_assessment=pre_assessment.strip(),
        override_reason=override_reason.strip(),
        override_by=override_by,
    )
    decrement_for_administration(admin)
    return admin


@transaction.atomic
def prn_follow_up(
    *, actor: User, administration: Administration, result: str, post_assessment: str = "",
    note: str = "",
):  # fmt: skip
    """Record how well a PRN dose worked."""
    from medications.models import Effect, PrnFollowUp

    policy.require(actor, "mar.follow_up", administration)
    if result not in Effect.values:
        raise ValidationError({"result": "Result: effective, partially or not effective."})
    if administration.dose_id is not None or administration.struck_at is not None:
        raise ValidationError("Only a live PRN dose takes a follow-up.")
    try:
        with transaction.atomic():
            return PrnFollowUp.objects.create(
                administration=administration,
                result=result,
                post_assessment=post_assessment.strip(),
                note=note.strip(),
                recorded_at=timezone.now(),
                recorded_by=actor,
            )
    except IntegrityError as exc:
        raise ValidationError("This dose already has its follow-up.") from exc


def prn_pending(admission_ids, now: datetime):
    """Live PRN doses of the last day without a follow-up, with their reassessment status."""
    from medications.timing import prn_reassessment_status

    doses = (
        Administration.objects.filter(
            order__admission__in=admission_ids,
            dose__isnull=True,
            outcome=Outcome.GIVEN,
            struck_at__isnull=True,
            follow_up__isnull=True,
            given_at__gte=now - timedelta(hours=24),
        )
        .select_related("order__medication", "order__admission__client",
                        "order__admission__facility", "recorded_by")
        .order_by("given_at")
    )  # fmt: skip
    return [(a, prn_reassessment_status(a.given_at, now, route=a.order.route)) for a in doses]


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
