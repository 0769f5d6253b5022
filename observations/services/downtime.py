"""Entering a paper downtime sheet (issue 10 item 5; specs/rounds.md, Late entry).

After an outage the checks done on paper are entered here, up to 24 hours back: each row keeps
the time written on the sheet as `observed_at`, the server's own time as `recorded_at` (never
editable, so the entry always shows as late) and the reason in `late_reason`. The sheet is saved
whole or not at all, once per submission key, and closes the missed-check alerts it answers.
A row for a client on a continuous level counts only if an observer held the client at that time:
nobody watching is a deviation to record as such, not a check a nurse fills in afterwards.
An SIB or a safety concern on the sheet alerts at once and opens the same prefilled draft incident
a round does (specs/charting.md, Incidents), once per client and time written on the sheet.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clients.models import Admission, Leave
from facility import policy
from facility.models import AlertSeverity, Facility, User
from facility.services import alert_raise
from observations.models import (
    CONTINUOUS_LEVELS,
    CheckSource,
    CodeKind,
    Level,
    LevelOrder,
    RoundCheck,
    RoundCode,
)
from observations.rounds import level_segments
from observations.services.rounds import _lock_submission_key, _open_incident_draft
from observations.services.scans import close_missed_alerts, observer_at, observer_watches

# How far back a downtime sheet may go (issue 10 item 5).
DOWNTIME_WINDOW = timedelta(hours=24)
DOWNTIME_PREFIX = "Downtime: "
# Rows of one sheet (one screen); a longer outage is entered as several sheets.
DOWNTIME_MAX_ROWS = 60
# RoundCheck.late_reason holds the prefix and the reason.
DOWNTIME_REASON_MAX = 200 - len(DOWNTIME_PREFIX)
# What makes two posts of one submission key the same sheet.
DOWNTIME_CONTENT = (
    "admission_id", "observed_at", "recorded_by_id", "location_id", "status_id",
    "respirations_observed", "safety_concern", "remark", "late_reason",
)  # fmt: skip


@dataclass
class DowntimeRow:
    """One line of the paper sheet: who, when (as written), where, how."""

    number: int  # the row's number on the screen, for messages
    admission: Admission
    observed_at: datetime
    location: RoundCode
    status: RoundCode
    respirations_observed: bool = False
    remark: str = ""
    safety_concern: bool = False


def downtime_row_key(submission_key: uuid.UUID, number: int) -> uuid.UUID:
    """The key one row is saved under. A sheet may list one client many times (every block of
    the outage), and the database allows one check per client per key, so each row gets its own
    key, derived from the sheet's: a retry of the sheet derives the same keys."""
    return uuid.uuid5(submission_key, f"downtime-row-{number}")


def downtime_event_key(row: DowntimeRow) -> uuid.UUID:
    """The key a row's draft incident is opened under: the client and the time written on the
    paper, not the submission, so the same SIB entered again (a retry, or a second nurse typing
    the same sheet under a new key) finds the draft already opened instead of a second one."""
    written = row.observed_at.astimezone(UTC).replace(second=0, microsecond=0)
    return uuid.uuid5(row.admission.public_id, f"downtime-event-{written:%Y-%m-%dT%H:%MZ}")


def _row_name(row: DowntimeRow) -> str:
    return f"Row {row.number} ({row.admission.client.initials})"


def _on_leave(rows: list[DowntimeRow]) -> dict[int, list[Leave]]:
    """The leaves of the sheet's clients that overlap its times, in one query."""
    earliest = min(r.observed_at for r in rows)
    leaves: dict[int, list[Leave]] = {}
    for leave in Leave.objects.filter(
        admission_id__in={r.admission.pk for r in rows},
        left_at__lte=max(r.observed_at for r in rows),
    ).filter(Q(returned_at__isnull=True) | Q(returned_at__gt=earliest)):
        leaves.setdefault(leave.admission_id, []).append(leave)
    return leaves


def _unheld(rows: list[DowntimeRow]) -> dict[int, str]:
    """The rows (by number) for a client on a continuous level at the row's time whom no observer
    held then, with that level: a paper sheet does not fill those blocks (specs/rounds.md:
    continuous levels count only while an assigned observer watches; nobody watching is a
    deviation). Two queries: the stays' level orders and their observer assignments."""
    ids = {r.admission.pk for r in rows}
    orders: dict[int, list[LevelOrder]] = {}
    for order in LevelOrder.objects.filter(admission__in=ids).order_by("effective_from", "id"):
        orders.setdefault(order.admission_id, []).append(order)
    unheld, watches = {}, None
    for row in rows:
        at = row.observed_at
        segments = level_segments(
            row.admission, orders.get(row.admission.pk, []), start=at, end=at + timedelta(seconds=1)
        )
        if not segments or segments[0][2] not in CONTINUOUS_LEVELS:
            continue
        if watches is None:
            watches = observer_watches(
                ids,
                start=min(r.observed_at for r in rows),
                end=max(r.observed_at for r in rows) + timedelta(seconds=1),
            )
        if observer_at(watches[row.admission.pk], at) is None:
            unheld[row.number] = segments[0][2]
    return unheld


def _row_errors(
    row: DowntimeRow, *, facility: Facility, now: datetime, leaves, unheld: dict[int, str]
) -> list[str]:
    name, tz = _row_name(row), facility.tz
    when = f"{timezone.localtime(row.observed_at, tz):%Y-%m-%d %H:%M}"
    errors = []
    admission = row.admission
    if admission.facility_id != facility.pk:
        return [f"{name}: not admitted in this facility."]
    if row.observed_at > now:
        errors.append(f"{name}: {when} is in the future.")
    elif row.observed_at < now - DOWNTIME_WINDOW:
        errors.append(f"{name}: {when} is more than 24 hours ago; a downtime sheet goes back 24 h.")
    elif row.observed_at < admission.admitted_at or (
        admission.discharged_at is not None and row.observed_at >= admission.discharged_at
    ):
        errors.append(f"{name}: not admitted at {when}.")
    else:
        for leave in leaves.get(admission.pk, []):
            if leave.left_at <= row.observed_at and (
                leave.returned_at is None or row.observed_at < leave.returned_at
            ):
                errors.append(
                    f"{name}: off site ({leave.get_kind_display().lower()}) at {when}, "
                    "not checked on the unit."
                )
                break
        else:
            if row.number in unheld:
                errors.append(
                    f"Row {row.number}: {admission.client.initials} was on "
                    f"{Level(unheld[row.number]).label} with no assigned observer at "
                    f"{timezone.localtime(row.observed_at, tz):%H:%M} – record it as a "
                    "deviation, not a check."
                )
    for code, kind in ((row.location, CodeKind.LOCATION), (row.status, CodeKind.STATUS)):
        if code.facility_id != facility.pk or code.kind != kind or not code.active:
            errors.append(f"{name}: {kind} code {code.code} is not in use here.")
    if row.status.needs_respirations and not row.respirations_observed:
        errors.append(f"{name}: sleeping needs “respirations observed”.")
    return errors


def _content(checks) -> list[tuple]:
    return sorted(tuple(getattr(c, name) for name in DOWNTIME_CONTENT) for c in checks)


@transaction.atomic
def downtime_submit(
    *,
    actor: User,
    facility: Facility,
    submission_key: uuid.UUID,
    rows: list[DowntimeRow],
    reason: str,
    now: datetime | None = None,
) -> tuple[int, int, bool]:
    """Record the checks of a paper downtime sheet: all rows or none. Returns (checks recorded,
    missed-check alerts closed, was_repeat).

    Each row's observed time is as written on the sheet, at most 24 hours back and not in the
    future, while the client was admitted and on site; the reason is required and saved as
    "Downtime: <reason>" with source "downtime"; `recorded_at` is the server's time. The same key
    posted again with the same sheet records nothing (a retry); reused for a different sheet it
    is refused. Posts of one key wait on the lock round_submit uses.
    """
    policy.require(actor, "rounds.downtime", facility)
    now = now or timezone.now()
    reason = reason.strip()
    _lock_submission_key(submission_key)
    late_reason = f"{DOWNTIME_PREFIX}{reason}"
    checks = [
        RoundCheck(
            admission=row.admission,
            observed_at=row.observed_at,
            recorded_at=now,
            recorded_by=actor,
            location=row.location,
            status=row.status,
            respirations_observed=row.respirations_observed,
            safety_concern=row.safety_concern,
            remark=row.remark.strip(),
            late_reason=late_reason,
            submission_key=downtime_row_key(submission_key, row.number),
            source=CheckSource.DOWNTIME,
        )
        for row in rows
    ]
    keys = [downtime_row_key(submission_key, n) for n in range(1, DOWNTIME_MAX_ROWS + 1)]
    earlier = list(RoundCheck.objects.filter(submission_key__in=keys))
    if earlier:
        # The same sheet again (a retry, a double tap): only the server times would differ.
        if _content(earlier) == _content(checks):
            return 0, 0, True
        raise ValidationError(
            "This downtime form was already used to record a different sheet; nothing was saved. "
            "Reload the page and enter it again."
        )
    if not reason:
        raise ValidationError({"reason": "Reason: say why the checks were charted on paper."})
    if len(reason) > DOWNTIME_REASON_MAX:
        raise ValidationError({"reason": f"Reason: at most {DOWNTIME_REASON_MAX} characters."})
    if not rows:
        raise ValidationError("Enter at least one row of the downtime sheet.")
    if len(rows) > DOWNTIME_MAX_ROWS or any(not 1 <= r.number <= DOWNTIME_MAX_ROWS for r in rows):
        raise ValidationError(f"A downtime sheet has at most {DOWNTIME_MAX_ROWS} rows.")
    leaves, unheld = _on_leave(rows), _unheld(rows)
    errors = []
    seen: dict[tuple[int, datetime], int] = {}
    for row in rows:
        errors.extend(_row_errors(row, facility=facility, now=now, leaves=leaves, unheld=unheld))
        first = seen.setdefault((row.admission.pk, row.observed_at), row.number)
        if first != row.number:
            errors.append(f"{_row_name(row)}: the same client and time as row {first}.")
    if errors:
        raise ValidationError(errors)
    RoundCheck.objects.bulk_create(checks)
    closed = close_missed_alerts(
        [(row.admission, row.observed_at) for row in rows],
        actor=actor,
        now=now,
        tz=facility.tz,
        source=CheckSource.DOWNTIME,
    )
    for row in rows:
        # As on the board: an SIB or a safety concern opens a prefilled draft incident (the
        # round's own opener, which also alerts the supervisors), and an alerting status or a
        # safety concern alerts the floor at once.
        _open_incident_draft(row, row.observed_at, actor, facility, downtime_event_key(row))
        if row.status.raises_alert or row.safety_concern:
            _alert_status(
                row, actor=actor, facility=facility, submission_key=submission_key, now=now
            )
    return len(checks), closed, False


def _alert_status(row: DowntimeRow, *, actor, facility, submission_key, now) -> None:
    client = row.admission.client
    when = timezone.localtime(row.observed_at, facility.tz)
    remark = row.remark.strip()
    what = "safety concern" if row.safety_concern else row.status.label
    alert_raise(
        facility=facility,
        kind="round_safety",
        severity=AlertSeverity.CRITICAL,
        message=f"{client.display_name}: {what} at {when:%H:%M} on a downtime sheet "
        f"entered by {actor.initials}" + (f" — {remark}" if remark else ""),
        dedupe_key=f"round-safety:{downtime_row_key(submission_key, row.number)}:"
        f"{row.admission.public_id}",
        client_public_id=client.public_id,
        client_label=client.mrn,
        now=now,
    )
