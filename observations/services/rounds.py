"""Charting a round: one check per client, all or none, idempotent per submission key
(specs/rounds.md, Charting a round)."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from clients.models import Admission
from facility import policy
from facility.models import AlertSeverity, Facility, User
from facility.registry import IncidentDraft, open_incident_draft
from facility.services import alert_raise
from observations.models import CheckSource, CodeKind, RoundCheck, RoundCode
from observations.services.levels import current_levels, current_observers
from observations.services.scans import close_missed_alerts

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
    # The moment this client was tapped (issue 10 item 6); None: the round's observed time.
    observed_at: datetime | None = None


def last_checks(admissions, codes: dict[int, RoundCode] | None = None) -> dict[int, RoundCheck]:
    """The latest check of each admission, in one query: each stay's latest check id by an
    index-only-sized subquery, and those checks with their codes. `codes` (by id; the board has
    read the facility's active ones already) are used instead of joining them; a code not among
    them (since deactivated) is read in one more query."""
    latest = (
        Admission.objects.filter(pk__in=[a.pk for a in admissions])
        .annotate(
            last_id=Subquery(
                RoundCheck.objects.filter(admission=OuterRef("pk"))
                .order_by("-observed_at", "-id")
                .values("id")[:1]
            )
        )
        .values("last_id")
    )
    checks = RoundCheck.objects.filter(pk__in=latest).order_by()
    if codes is None:
        return {c.admission_id: c for c in checks.select_related("location", "status")}
    checks = list(checks)
    missing = {i for c in checks for i in (c.location_id, c.status_id)} - codes.keys()
    if missing:
        codes = {**codes, **RoundCode.objects.in_bulk(missing)}
    for check in checks:
        check.location, check.status = codes[check.location_id], codes[check.status_id]
    return {c.admission_id: c for c in checks}


# What makes two posts of one submission key the same round. The observed time is compared
# only for entries that carry their own (the moment the client was tapped): a retry posts the same
# taps, while a round without them takes "now" again on every post.
ROUND_CONTENT = (
    "admission_id", "recorded_by_id", "location_id", "status_id", "respirations_observed",
    "safety_concern", "remark",
)  # fmt: skip
# A tapped time this far ahead of the server's clock is a clock difference, not the future.
CLOCK_SLACK = timedelta(seconds=30)


def _round_content(entries: list[RoundEntry], actor: User) -> list[tuple]:
    return [
        (e.admission.pk, actor.pk, e.location.pk, e.status.pk, e.respirations_observed,
         e.safety_concern, e.remark.strip())
        for e in entries
    ]  # fmt: skip


def _same_round(submission_key: uuid.UUID, entries: list[RoundEntry], actor: User) -> bool | None:
    """None when nothing was recorded under this key; else whether this post is that round."""
    earlier = list(
        RoundCheck.objects.filter(submission_key=submission_key).values_list(
            *ROUND_CONTENT, "observed_at", "recorded_at"
        )
    )
    if not earlier:
        return None
    if sorted(row[:-2] for row in earlier) != sorted(_round_content(entries, actor)):
        return False
    times = {row[0]: (row[-2], row[-1]) for row in earlier}
    for entry in entries:
        if entry.observed_at is None:
            continue
        observed, recorded = times[entry.admission.pk]
        # A tap a few seconds ahead of the server was stored at the server's time.
        if observed != min(entry.observed_at, recorded):
            return False
    return True


def _lock_submission_key(key: uuid.UUID) -> None:
    """Hold a lock on this key until the transaction ends: a racing post of the same key waits
    here and then sees what the first one saved."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(key.bytes[:8], "big", signed=True)]
        )


def _check_round_time(
    observed_at: datetime, now: datetime, late_reason: str, pressed: datetime
) -> None:
    """The round's own time: when "Record round" was pressed (`pressed`: now, or earlier for a
    round the tablet kept while offline), or moved back at most 5 minutes from it with a reason."""
    if observed_at > now + CLOCK_SLACK:
        raise ValidationError({"observed_at": "Observed at: cannot be in the future."})
    if observed_at < pressed - MAX_BACKDATE:
        raise ValidationError({"observed_at": "Observed at: at most 5 minutes back."})
    if pressed - observed_at > timedelta(minutes=1) and not late_reason.strip():
        raise ValidationError({"late_reason": "Reason: say why the time was moved back."})


def _entry_time_error(entry: RoundEntry, now: datetime, tz, pressed: datetime) -> str | None:
    """A client's own tapped time is taken when it is not in the future (beyond the clock slack)
    and not more than 5 minutes before the submit (issue 10 item 6): before "Record round" was
    pressed (`pressed`), which for a round kept on the tablet while offline is before it reached
    the server (issue 17 item 6)."""
    when, name = entry.observed_at, entry.admission.client.initials
    if when is None:
        return None
    if when > now + CLOCK_SLACK:
        return f"{name}: the time seen is in the future; tap Seen again."
    if when < pressed - MAX_BACKDATE:
        return (
            f"{name}: seen at {timezone.localtime(when, tz):%H:%M}, more than 5 minutes before "
            "this round was sent; tap Seen again."
        )
    return None


def _continuous_error(entry: RoundEntry, level, watch, actor: User) -> str | None:
    """A client on a continuous level is charted only by their current observer (issue 10 item 2:
    the rounder's taps must not fill a 1:1's blocks)."""
    if not level.is_continuous or (watch is not None and watch.observer_id == actor.pk):
        return None
    name = entry.admission.client.initials
    if watch is None:
        return f"{name}: on {level.label} with no observer – assign one on the chart."
    observer = watch.observer.full_name or watch.observer.username
    return f"{name}: on {level.label} – charted by {observer} on My 1:1."


class RoundRefused(ValidationError):
    """A round refused for some of its clients: `refused` names them (public ids) so the board
    can offer to send the others (specs/rounds.md: nothing is silently lost)."""

    def __init__(self, messages: list[str], refused: list[str]):
        super().__init__(messages)
        self.refused = refused


def _levels_charted(entries: list[RoundEntry], pressed: datetime) -> dict:
    """Each client's level when they were charted, not when the round reached the server: a
    round kept on the tablet is judged on the levels in force at the press, and a client raised
    to a continuous level since their own tap, on the level at the tap (rounds.md: a check
    belongs to the moment it was observed). One query, one more per such client (rare)."""
    levels = current_levels([e.admission for e in entries], pressed)
    for entry in entries:
        pk = entry.admission.pk
        if levels[pk].is_continuous and entry.observed_at and entry.observed_at < pressed:
            levels[pk] = current_levels([entry.admission], entry.observed_at)[pk]
    return levels


@transaction.atomic
def round_submit(
    *,
    actor: User,
    facility: Facility,
    submission_key: uuid.UUID,
    entries: list[RoundEntry],
    observed_at: datetime | None = None,
    late_reason: str = "",
    now: datetime | None = None,
    pressed_at: datetime | None = None,
) -> tuple[int, bool]:
    """Record a round: one check per entry, all or none. Returns (checks recorded, was_repeat).

    Each entry is observed at its own tapped time (`entry.observed_at`, not in the future and at
    most 5 minutes before the submit), else at the round's `observed_at` (default now; moved back
    at most 5 minutes, with a reason). A client on a continuous level (line of sight, 1:1) is
    refused unless the actor is their current observer, whose entries are saved as
    source="observer" (specs/rounds.md: continuous levels count only the observer's entries).
    The same submission key posted again with the same round records nothing and says so (a
    network retry or double tap); the key reused for a different round is refused, never
    silently dropped. Posts of one key are serialized by a transaction-level advisory lock, so
    of ten identical posts racing, exactly one is told "recorded" (issue 7).
    `pressed_at` is when "Record round" was pressed on a tablet that kept the round while the
    network was down (issue 17 item 6; the view has checked it against the board's signed
    issue time): the 5-minute limits count back from it, so a round sent late keeps its taps,
    and levels are those in force when it was charted (_levels_charted). A refusal for some
    clients is a RoundRefused naming them, so the others can be sent under the same key.
    Safety concerns and alerting statuses (SIB) raise an alert in the same transaction.
    """
    policy.require(actor, "floor.chart", facility)
    now = now or timezone.now()
    pressed = min(pressed_at or now, now)
    observed_at = observed_at or pressed
    _lock_submission_key(submission_key)
    same = _same_round(submission_key, entries, actor)
    if same is not None:
        if same:
            return 0, True
        raise ValidationError(
            "This round form was already used to record a different round; nothing was saved. "
            "Reload the board and chart again.",
            code="key_used",
        )
    if not entries:
        raise ValidationError("Tap at least one client to record a round.")
    _check_round_time(observed_at, now, late_reason, pressed)
    levels = _levels_charted(entries, pressed)
    continuous = [e.admission for e in entries if levels[e.admission.pk].is_continuous]
    watches = current_observers(continuous) if continuous else {}
    errors, refused = [], []
    for entry in entries:
        name = entry.admission.client.initials
        before = len(errors)
        if entry.admission.facility_id != facility.pk or not entry.admission.is_open:
            errors.append(f"{name}: not admitted in this facility.")
            refused.append(str(entry.admission.public_id))
            continue
        for code, kind in ((entry.location, CodeKind.LOCATION), (entry.status, CodeKind.STATUS)):
            if code.facility_id != facility.pk or code.kind != kind or not code.active:
                errors.append(f"{name}: {kind} code {code.code} is not in use here.")
        if entry.status.needs_respirations and not entry.respirations_observed:
            errors.append(f"{name}: sleeping needs “respirations observed”.")
        for error in (
            _entry_time_error(entry, now, facility.tz, pressed),
            _continuous_error(
                entry, levels[entry.admission.pk], watches.get(entry.admission.pk), actor
            ),
        ):
            if error:
                errors.append(error)
        if len(errors) > before:
            refused.append(str(entry.admission.public_id))
    if errors:
        raise RoundRefused(errors, refused)
    # The database holds observed <= recorded: a tap inside the clock slack is stored at "now".
    times = [min(entry.observed_at or observed_at, now) for entry in entries]
    checks = [
        RoundCheck(
            admission=entry.admission,
            observed_at=when,
            recorded_at=now,
            recorded_by=actor,
            location=entry.location,
            status=entry.status,
            respirations_observed=entry.respirations_observed,
            safety_concern=entry.safety_concern,
            remark=entry.remark.strip(),
            late_reason=late_reason.strip(),
            submission_key=submission_key,
            source=CheckSource.OBSERVER
            if levels[entry.admission.pk].is_continuous
            else CheckSource.ROUND,
        )
        for entry, when in zip(entries, times, strict=True)
    ]
    # ON CONFLICT DO NOTHING: a retry racing this very request cannot double the round.
    RoundCheck.objects.bulk_create(checks, ignore_conflicts=True)
    close_missed_alerts(
        [(check.admission, check.observed_at) for check in checks],
        actor=actor,
        now=now,
        tz=facility.tz,
    )
    for entry, when in zip(entries, times, strict=True):
        _open_incident_draft(entry, when, actor, facility, submission_key)
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


SIB_CODE = "SIB"  # observations/services/defaults.py: "Self-injurious behavior"


def _open_incident_draft(entry: RoundEntry, when, actor: User, facility: Facility, key) -> None:
    """An SIB status or a safety concern on a round opens a draft incident report, prefilled,
    with the checker as its reporter (specs/charting.md, Incidents); once per check."""
    sib = entry.status.code == SIB_CODE
    if not (sib or entry.safety_concern):
        return
    at = timezone.localtime(when, facility.tz)
    what = entry.status.label if sib else f"Safety concern ({entry.status.label.lower()})"
    remark = entry.remark.strip()
    open_incident_draft(
        IncidentDraft(
            facility_id=facility.pk,
            source="round",
            source_ref=f"round:{key}:{entry.admission.public_id}",
            incident_type="self_harm" if sib else "other",
            occurred_at=when,
            description=f"{what} recorded on rounds at {at:%H:%M}"
            + (f": {remark}" if remark else "."),
            reporter=actor,
            client_public_ids=(entry.admission.client.public_id,),
            location=entry.location.label,
        )
    )
