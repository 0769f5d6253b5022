"""Who watches a client on a continuous level (specs/rounds.md, Levels and Missed checks; issue 10
item 2): offers and their acceptance, one 1:1 per observer, the watch following a level change,
and the critical "no observer" alert.

- The watch passes only when the incoming observer accepts: the current observer keeps the client
  until then, and the acceptance ends the old assignment and starts the new one at one instant.
- 1:1 and arm's-length are exclusive ("one assigned staff member, exclusively"): a person
  holding one holds no other watch (no line of sight either), and a person holding any watch
  cannot take one. Checked under a lock of the observer's user row, so two acceptances for one
  person are judged one after the other; the database also refuses a second exclusive
  assignment (observations_observer_one_exclusive) with the same message.
- A client on a continuous level whom nobody holds alerts at once (here), and on every minute scan
  until an observer accepts (scans._scan_observer_gaps).
"""

from datetime import UTC, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone

from clients.models import Admission
from facility import policy
from facility.models import Alert, AlertSeverity, User
from facility.services import alert_raise, alerts_close, violated_constraint
from observations.models import (
    EXCLUSIVE_LEVELS,
    Level,
    ObserverAssignment,
    ObserverHandoff,
)
from observations.services.levels import CurrentLevel, current_levels

NO_OBSERVER = "no_observer"
ONE_EXCLUSIVE = "observations_observer_one_exclusive"
ONE_PENDING = "observations_handoff_one_pending"


# ---------------------------------------------------------------- the "no observer" alert


def no_observer_key(admission: Admission, since: datetime) -> str:
    """One alert per stay per continuous level episode (`since`: when the level began)."""
    return f"no-observer:{admission.public_id}:{since.astimezone(UTC).isoformat()}"


def alert_no_observer(admission: Admission, level: CurrentLevel, *, now: datetime) -> bool:
    """Raise the critical alert for a continuous client nobody holds; True if newly raised.

    Raised again after it was closed if the client is once more without an observer (`once`
    off): every interval without an observer is a critical deviation (specs/rounds.md)."""
    client = admission.client
    _, created = alert_raise(
        facility=admission.facility,
        kind=NO_OBSERVER,
        severity=AlertSeverity.CRITICAL,
        message=f"{client.display_name} is on {level.label} with no assigned observer.",
        dedupe_key=no_observer_key(admission, level.since),
        client_public_id=client.public_id,
        client_label=client.mrn,
        link=reverse("clients:chart", args=[client.public_id]) + "#section-rounds",
        once=False,
        now=now,
    )
    return created


def _close_no_observer(admission: Admission, *, actor: User, note: str, now: datetime) -> int:
    keys = Alert.objects.open().filter(
        kind=NO_OBSERVER, dedupe_key__startswith=f"no-observer:{admission.public_id}:"
    )
    return alerts_close(
        list(keys.values_list("dedupe_key", flat=True)), user=actor, note=note, now=now
    )


# ---------------------------------------------------------------- who may observe


def _check_observer(admission: Admission, observer: User) -> None:
    """Active staff of the client's facility whose role charts rounds."""
    if not observer.is_active or admission.facility_id not in observer.facility_ids():
        raise ValidationError({"observer": "Observer: choose active staff of this facility."})
    if not policy.allows(observer, "floor.chart", admission):
        raise ValidationError({"observer": "Observer: this person cannot chart rounds."})


def _lock_observer(observer: User) -> None:
    """Every writer of a person's watches locks that person's user row, after the stay's (one
    order of locks): what the person holds is read and changed one transaction at a time."""
    list(User.objects.select_for_update().filter(pk=observer.pk).values_list("pk", flat=True))


def _name(observer: User) -> str:
    return observer.full_name or observer.username


def _watch_conflict(
    observer: User, *, exclusive: bool, besides: Admission | int
) -> ValidationError | None:
    """Why `observer` cannot hold this watch besides what they hold, or None.

    An exclusive watch (1:1, arm's-length) is the observer's only one; a line-of-sight watch may
    be shared with other line-of-sight watches but not with an exclusive one."""
    others = ObserverAssignment.objects.filter(observer=observer, ended_at__isnull=True).exclude(
        admission=besides
    )
    held = list(others.values_list("exclusive", flat=True))
    if any(held):
        return _one_exclusive_refusal(observer)
    if exclusive and held:
        n = len(held)
        return ValidationError(
            {
                "observer": f"Observer: {_name(observer)} already watches {n} "
                f"client{'s' if n != 1 else ''} on line of sight; a 1:1 or arm's-length observer "
                "watches no one else. Hand those off first."
            }
        )
    return None


def _one_exclusive_refusal(observer: User) -> ValidationError:
    return ValidationError(
        {
            "observer": f"Observer: {_name(observer)} already holds a 1:1 or arm's-length watch "
            "and watches no one else; one person holds one at a time. Hand that one off first."
        }
    )


def _lock_admission(pk: int) -> Admission:
    """Every writer of a stay's watch locks the stay first (level_order does too): one order of
    locks, so a hand-off and a level change cannot deadlock."""
    return (
        Admission.objects.select_for_update(of=("self",))
        .select_related("client", "facility")
        .get(pk=pk)
    )


def _is_exclusive(level: str) -> bool:
    return level in EXCLUSIVE_LEVELS


# ---------------------------------------------------------------- offers


def pending_handoff(admission: Admission) -> ObserverHandoff | None:
    return (
        ObserverHandoff.objects.filter(admission=admission, closed_at__isnull=True)
        .select_related("to_observer", "offered_by")
        .first()
    )


@transaction.atomic
def handoff_offer(
    *, actor: User, admission: Admission, to_observer: User, now: datetime | None = None
) -> ObserverHandoff:
    """Offer the watch of a client on a continuous level to `to_observer`; the first watch of a
    client nobody holds is offered the same way. The current observer keeps the client until the
    offer is accepted (specs/rounds.md: a hand-off ends when the incoming observer accepts).

    An actor offering the watch to themself is the incoming observer accepting: the offer is
    accepted at once. One offer waits per stay (withdraw it to offer to someone else)."""
    now = now or timezone.now()
    admission = _lock_admission(admission.pk)
    policy.require(actor, "floor.chart", admission)
    level = current_levels([admission], now)[admission.pk]
    if not level.is_continuous:
        raise ValidationError(
            {"observer": f"Observer: on {level.label} the client has no assigned observer."}
        )
    _check_observer(admission, to_observer)
    current = ObserverAssignment.objects.filter(admission=admission, ended_at__isnull=True).first()
    if current is not None and current.observer_id == to_observer.pk:
        raise ValidationError(
            {"observer": f"Observer: {to_observer.full_name} already observes this client."}
        )
    conflict = _watch_conflict(to_observer, exclusive=_is_exclusive(level.level), besides=admission)
    if conflict is not None:  # told at once; judged again under lock at acceptance
        raise conflict
    waiting = pending_handoff(admission)
    if waiting is not None:
        raise ValidationError(
            {
                "observer": f"Observer: the watch is already offered to "
                f"{waiting.to_observer.full_name}; withdraw that offer first."
            }
        )
    try:
        with transaction.atomic():
            handoff = ObserverHandoff.objects.create(
                admission=admission,
                from_assignment=current,
                to_observer=to_observer,
                offered_by=actor,
                offered_at=now,
            )
    except IntegrityError as exc:  # pragma: no cover - the stay's lock serializes offers
        if violated_constraint(exc) == ONE_PENDING:
            raise ValidationError({"observer": "Observer: the watch was just offered."}) from exc
        raise
    if to_observer.pk == actor.pk:
        _accept(handoff, admission=admission, level=level, actor=actor, now=now)
    return handoff


def observer_assign(
    *, actor: User, admission: Admission, observer: User, now: datetime | None = None
) -> ObserverHandoff:
    """The former name of `handoff_offer`: assigning an observer is offering them the watch
    (accepted at once when the actor assigns themself)."""
    return handoff_offer(actor=actor, admission=admission, to_observer=observer, now=now)


def _locked_handoff(handoff: ObserverHandoff) -> tuple[Admission, ObserverHandoff]:
    admission_id = ObserverHandoff.objects.values_list("admission_id", flat=True).get(pk=handoff.pk)
    admission = _lock_admission(admission_id)
    locked = (
        ObserverHandoff.objects.select_for_update(of=("self",))
        .select_related("to_observer")
        .get(pk=handoff.pk)
    )
    return admission, locked


def _still_open(handoff: ObserverHandoff) -> None:
    if handoff.closed_at is None:
        return
    if handoff.accepted_at is not None:
        raise ValidationError("This hand-off was already accepted.")
    raise ValidationError(f"This hand-off was closed: {handoff.close_note}")


@transaction.atomic
def handoff_accept(
    *, actor: User, handoff: ObserverHandoff, now: datetime | None = None
) -> ObserverAssignment:
    """The incoming observer takes the watch: the old assignment ends and the new one starts at
    this instant. Only the person offered may accept; a second 1:1 is refused (the database
    refuses it too, for two acceptances racing)."""
    now = now or timezone.now()
    admission, handoff = _locked_handoff(handoff)
    policy.require(actor, "floor.chart", admission)
    if handoff.to_observer_id != actor.pk:
        raise PermissionDenied(f"Only {handoff.to_observer.full_name} can accept this hand-off.")
    _still_open(handoff)
    level = current_levels([admission], now)[admission.pk]
    if not level.is_continuous:
        raise ValidationError(f"The client is on {level.label} now; there is no watch to take.")
    _check_observer(admission, actor)
    return _accept(handoff, admission=admission, level=level, actor=actor, now=now)


def _accept(
    handoff: ObserverHandoff,
    *,
    admission: Admission,
    level: CurrentLevel,
    actor: User,
    now: datetime,
) -> ObserverAssignment:
    exclusive = _is_exclusive(level.level)
    _lock_observer(actor)
    conflict = _watch_conflict(actor, exclusive=exclusive, besides=admission)
    if conflict is not None:
        raise conflict
    previous = (
        ObserverAssignment.objects.select_for_update()
        .filter(admission=admission, ended_at__isnull=True)
        .first()
    )
    if previous is not None:
        if now < previous.started_at:
            raise ValidationError("The hand-off cannot be before the current watch began.")
        previous.ended_at = now
        previous.save(update_fields=["ended_at"])
    try:
        with transaction.atomic():
            assignment = ObserverAssignment.objects.create(
                admission=admission,
                observer=actor,
                started_at=now,
                assigned_by=handoff.offered_by,
                recorded_at=timezone.now(),
                exclusive=exclusive,
            )
    except IntegrityError as exc:
        if violated_constraint(exc) == ONE_EXCLUSIVE:
            raise _one_exclusive_refusal(actor) from exc
        raise
    handoff.accepted_at = handoff.closed_at = now
    handoff.assignment = assignment
    handoff.save(update_fields=["accepted_at", "closed_at", "assignment"])
    _close_no_observer(
        admission,
        actor=actor,
        note=f"{actor.full_name} took the watch at "
        f"{timezone.localtime(now, admission.facility.tz):%H:%M}.",
        now=now,
    )
    return assignment


@transaction.atomic
def handoff_decline(
    *, actor: User, handoff: ObserverHandoff, now: datetime | None = None
) -> ObserverHandoff:
    """The person offered says no: the current observer keeps the client."""
    now = now or timezone.now()
    admission, handoff = _locked_handoff(handoff)
    policy.require(actor, "floor.chart", admission)
    if handoff.to_observer_id != actor.pk:
        raise PermissionDenied(f"Only {handoff.to_observer.full_name} can decline this hand-off.")
    _still_open(handoff)
    return _close(handoff, note=f"Declined by {actor.full_name}.", now=now)


@transaction.atomic
def handoff_withdraw(
    *, actor: User, handoff: ObserverHandoff, now: datetime | None = None
) -> ObserverHandoff:
    """Take back an offer nobody accepted (anyone who charts on the client may)."""
    now = now or timezone.now()
    admission, handoff = _locked_handoff(handoff)
    policy.require(actor, "floor.chart", admission)
    _still_open(handoff)
    return _close(handoff, note=f"Withdrawn by {actor.full_name}.", now=now)


def _close(handoff: ObserverHandoff, *, note: str, now: datetime) -> ObserverHandoff:
    handoff.closed_at = max(now, handoff.offered_at)
    handoff.close_note = note[:200]
    handoff.save(update_fields=["closed_at", "close_note"])
    return handoff


# ---------------------------------------------------------------- the watch follows the level


def watch_follow_level(*, admission: Admission, level: CurrentLevel, now: datetime) -> None:
    """After a level change (in level_order's transaction, the stay locked):

    - to a level that is not continuous: the watch ends and a waiting offer is closed;
    - between continuous levels: the observer stays and `exclusive` follows the level; if the
      raise makes it a 1:1 or arm's-length watch of an observer who holds any other watch, this
      watch ends instead (a raise is never refused for staffing) and the client alerts as
      without observer;
    - a continuous client nobody holds alerts at once.
    """
    current = (
        ObserverAssignment.objects.select_for_update()
        .select_related("observer")
        .filter(admission=admission, ended_at__isnull=True)
        .first()
    )
    if not level.is_continuous:
        if current is not None:
            _end(current, now)
        ObserverHandoff.objects.filter(admission=admission, closed_at__isnull=True).update(
            closed_at=Greatest(F("offered_at"), Value(now)),
            close_note=f"Level changed to {Level(level.level).label}.",
        )
        return
    if current is not None:
        exclusive = _is_exclusive(level.level)
        if current.exclusive != exclusive and not _set_exclusive(current, exclusive):
            _end(current, now)
            current = None
    if current is None:
        alert_no_observer(admission, level, now=now)


def _end(assignment: ObserverAssignment, now: datetime) -> None:
    ObserverAssignment.objects.filter(pk=assignment.pk).update(
        ended_at=Greatest(F("started_at"), Value(now))
    )


def _set_exclusive(assignment: ObserverAssignment, exclusive: bool) -> bool:
    """False when the watch cannot become exclusive: the observer holds another watch of any
    level (checked under the observer's lock; a second exclusive is refused by the database)."""
    if exclusive:
        _lock_observer(assignment.observer)
        if _watch_conflict(assignment.observer, exclusive=True, besides=assignment.admission_id):
            return False
    try:
        with transaction.atomic():
            ObserverAssignment.objects.filter(pk=assignment.pk).update(exclusive=exclusive)
    except IntegrityError as exc:
        if violated_constraint(exc) == ONE_EXCLUSIVE:
            return False
        raise
    return True


# ---------------------------------------------------------------- a stay that ends


def watch_end_at_discharge(*, actor: User, admission: Admission, at: datetime, data=None) -> None:
    """A discharged client is watched no more: the watch ends and a waiting offer closes, so the
    observer is free for another 1:1 (a discharge step, in the discharge's transaction)."""
    current = ObserverAssignment.objects.filter(admission=admission, ended_at__isnull=True).first()
    if current is not None:
        _end(current, at)
    ObserverHandoff.objects.filter(admission=admission, closed_at__isnull=True).update(
        closed_at=Greatest(F("offered_at"), Value(at)), close_note="Client discharged."
    )
