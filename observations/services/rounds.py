"""Charting a round: one check per client, all or none, idempotent per submission key
(specs/rounds.md, Charting a round)."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from clients.models import Admission
from facility import policy
from facility.models import Alert, AlertSeverity, Facility, User
from facility.services import alert_raise
from observations.models import LEVEL_INTERVAL, CodeKind, RoundCheck, RoundCode
from observations.rounds import block_floor

MAX_BACKDATE = timedelta(minutes=5)
# A check recorded this long after its block ended is shown as late.
LATE_AFTER_BLOCK = timedelta(minutes=5)


@dataclass
class RoundEntry:
    """One client's line of a round as posted."""

    admission: Admission
    location: RoundCode
    status: RoundCode
    respirations_observed: bool = False
    safety_concern: bool = False
    remark: str = ""


def last_checks(admissions) -> dict[int, RoundCheck]:
    """The latest check of each admission, in two index-only-sized queries."""
    latest = (
        Admission.objects.filter(pk__in=[a.pk for a in admissions])
        .annotate(
            last_id=Subquery(
                RoundCheck.objects.filter(admission=OuterRef("pk"))
                .order_by("-observed_at", "-id")
                .values("id")[:1]
            )
        )
        .values_list("pk", "last_id")
    )
    ids = {last: pk for pk, last in latest if last}
    checks = RoundCheck.objects.filter(pk__in=ids).select_related("location", "status")
    return {ids[c.pk]: c for c in checks}


# What makes two posts of one submission key the same round.
ROUND_CONTENT = (
    "admission_id", "recorded_by_id", "location_id", "status_id", "respirations_observed",
    "safety_concern", "remark",
)  # fmt: skip


def _round_content(entries: list[RoundEntry], actor: User) -> list[tuple]:
    return [
        (e.admission.pk, actor.pk, e.location.pk, e.status.pk, e.respirations_observed,
         e.safety_concern, e.remark.strip())
        for e in entries
    ]  # fmt: skip


def _lock_submission_key(key: uuid.UUID) -> None:
    """Hold a lock on this key until the transaction ends: a racing post of the same key waits
    here and then sees what the first one saved."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(key.bytes[:8], "big", signed=True)]
        )


@transaction.atomic
def round_submit(
    *,
    actor: User,
    facility: Facility,
    submission_key: uuid.UUID,
    observed_at: datetime,
    entries: list[RoundEntry],
    late_reason: str = "",
    now: datetime | None = None,
) -> tuple[int, bool]:
    """Record a round: one check per entry, all or none. Returns (checks recorded, was_repeat).

    The same submission key posted again with the same round records nothing and says so (a
    network retry or double tap); the key reused for a different round is refused, never
    silently dropped. Posts of one key are serialized by a transaction-level advisory lock, so
    of ten identical posts racing, exactly one is told "recorded" (issue 7).
    Safety concerns and alerting statuses (SIB) raise an alert in the same transaction.
    """
    policy.require(actor, "floor.chart", facility)
    now = now or timezone.now()
    _lock_submission_key(submission_key)
    earlier = sorted(
        RoundCheck.objects.filter(submission_key=submission_key).values_list(*ROUND_CONTENT)
    )
    if earlier:
        if earlier == sorted(_round_content(entries, actor)):
            return 0, True
        raise ValidationError(
            "This round form was already used to record a different round; nothing was saved. "
            "Reload the board and chart again."
        )
    if not entries:
        raise ValidationError("Tap at least one client to record a round.")
    if observed_at > now + timedelta(seconds=30):
        raise ValidationError({"observed_at": "Observed at: cannot be in the future."})
    if observed_at < now - MAX_BACKDATE:
        raise ValidationError({"observed_at": "Observed at: at most 5 minutes back."})
    if now - observed_at > timedelta(minutes=1) and not late_reason.strip():
        raise ValidationError({"late_reason": "Reason: say why the time was moved back."})
    errors = []
    for entry in entries:
        name = entry.admission.client.initials
        if entry.admission.facility_id != facility.pk or not entry.admission.is_open:
            errors.append(f"{name}: not admitted in this facility.")
        for code, kind in ((entry.location, CodeKind.LOCATION), (entry.status, CodeKind.STATUS)):
            if code.facility_id != facility.pk or code.kind != kind or not code.active:
                errors.append(f"{name}: {kind} code {code.code} is not in use here.")
        if entry.status.needs_respirations and not entry.respirations_observed:
            errors.append(f"{name}: sleeping needs “respirations observed”.")
    if errors:
        raise ValidationError(errors)
    checks = [
        RoundCheck(
            admission=entry.admission,
            observed_at=observed_at,
            recorded_at=now,
            recorded_by=actor,
            location=entry.location,
            status=entry.status,
            respirations_observed=entry.respirations_observed,
            safety_concern=entry.safety_concern,
            remark=entry.remark.strip(),
            late_reason=late_reason.strip(),
            submission_key=submission_key,
        )
        for entry in entries
    ]
    # ON CONFLICT DO NOTHING: a retry racing this very request cannot double the round.
    RoundCheck.objects.bulk_create(checks, ignore_conflicts=True)
    _close_missed_alerts(entries, observed_at, actor, now, facility.tz)
    for entry in entries:
        if entry.safety_concern or entry.status.raises_alert:
            client = entry.admission.client
            what = "safety concern" if entry.safety_concern else entry.status.label
            alert_raise(
                facility=facility,
                kind="round_safety",
                severity=AlertSeverity.CRITICAL,
                message=f"{client.display_name}: {what} on rounds"
                + (f" — {entry.remark.strip()}" if entry.remark.strip() else ""),
                dedupe_key=f"round-safety:{submission_key}:{entry.admission.public_id}",
                client_public_id=client.public_id,
                client_label=client.mrn,
                now=now,
            )
    return len(checks), False


def _close_missed_alerts(entries, observed_at, actor, now, tz) -> None:
    """A check moved back into a block the scan already called missed closes that alert: the
    block was checked after all (a late entry, shown as such)."""
    keys = []
    for entry in entries:
        for interval in sorted(set(LEVEL_INTERVAL.values())):
            block = block_floor(observed_at.astimezone(tz), interval)
            keys.append(f"missed:{entry.admission.public_id}:{block.astimezone(UTC).isoformat()}")
    when = timezone.localtime(observed_at, tz)
    Alert.objects.open().filter(dedupe_key__in=keys).update(
        resolved_at=now,
        resolved_by=actor,
        resolution_note=f"Checked at {when:%H:%M} (late entry by {actor.initials}).",
    )
