"""The minute scan (specs/rounds.md, Missed checks): missed round blocks, nurses' raises still
without a clinician's order, continuous levels without an observer, and security round windows
that ended with no round. Run by observations.tasks.scan_missed_checks."""

import bisect
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db.models import Case, F, Min, Q, TextField, Value, When
from django.urls import reverse
from django.utils import timezone

from clients.models import Admission, Leave
from clients.services import leaves_overlapping
from facility.models import Alert, AlertSeverity, Facility
from facility.services import alert_raise, alerts_raise_many
from observations.models import (
    CONTINUOUS_LEVELS,
    LEVEL_INTERVAL,
    CheckSource,
    Level,
    LevelOrder,
    LevelOrderKind,
    ObserverAssignment,
    RoundCheck,
    ScanMark,
    SecurityRound,
)
from observations.rounds import (
    ADMISSION_LEVEL_HOURS,
    OwedWindow,
    block_floor,
    boundary_passed,
    level_segments,
    missed_in_a_row,
    missed_windows,
    owed_windows,
    stay_segments,
    window_key,
)
from observations.security import windows_between
from observations.services.levels import current_levels
from observations.services.observers import alert_no_observer

SCAN_LOOKBACK = timedelta(hours=24)
# Windows are at most 60 minutes: one that ended after the mark began at most an hour before it,
# and the one owed before it (to tell a second miss in a row) an hour before that. Judging starts
# on the local hour at or before that, so no block is cut by it; data loads from an hour earlier.
JUDGE_BACK = timedelta(hours=2)
LOAD_BACK = JUDGE_BACK + timedelta(hours=1)
MISSED_SCAN = "missed-checks"
SECURITY_SCAN = "security-rounds"


def scan_missed_checks(*, now: datetime | None = None) -> int:
    """Raise one alert per client per missed window since the last scan (at most 24 hours back):
    every whole clock block, and the first check owed after an event (admission, change of level,
    return from leave), which ends off the clock (specs/rounds.md, Missed checks).

    The mark only moves forward after a complete pass, and alerts are keyed by client and
    window, so a rerun, a late run or a run that died halfway loses nothing and repeats nothing.
    """
    now = now or timezone.now()
    mark = ScanMark.objects.filter(name=MISSED_SCAN).first()
    extras = _scan_level_orders_overdue(now) + _scan_observer_gaps(now)
    extras += scan_security_rounds(now=now)
    if mark is None:
        # The first scan ever starts the clock: blocks before Haven watched are not "missed"
        # (a new installation would otherwise raise a day of alerts for every client).
        ScanMark.objects.create(name=MISSED_SCAN, scanned_until=now)
        return extras
    if not _block_ended_since(mark.scanned_until, now) and not _first_window_ended_since(
        mark.scanned_until, now
    ):
        # Blocks end on quarter hours and first windows an interval after their event: in the
        # other minutes there is nothing new to judge.
        return extras
    start = max(mark.scanned_until, now - SCAN_LOOKBACK)
    pulled_back = _late_returns(mark.scanned_until, start, now)
    load_start = min([start, *pulled_back.values()]) - LOAD_BACK
    # Only the fields the window rules read, as plain tuples (thousands of model instances cost
    # more than the judging); names are fetched later for the few candidates.
    in_window = (
        Admission.objects.filter(admitted_at__lt=now)
        .exclude(discharged_at__lt=load_start)
        .order_by()
    )
    admissions = [
        _Stay(*row)
        for row in in_window.values_list("id", "facility_id", "admitted_at", "discharged_at")
    ]
    ids = in_window.values("id")  # a subquery, not thousands of literals
    zones = {f.pk: f.tz for f in Facility.objects.all()}
    orders, checks, leaves = defaultdict(list), defaultdict(list), defaultdict(list)
    for adm_id, *order in (
        LevelOrder.objects.filter(admission__in=ids)
        .order_by("effective_from", "id")
        .values_list("admission_id", "effective_from", "level")
    ):
        orders[adm_id].append(_Order(*order))
    # No window judged starts before its stay's judging start (below), so no check before the
    # earliest of those can count.
    checks_from = min(
        block_floor((min([start, *pulled_back.values()]) - JUDGE_BACK).astimezone(tz), 60)
        for tz in zones.values()
    )
    for adm_id, *check in (
        RoundCheck.objects.filter(
            admission__in=ids, observed_at__gte=checks_from, observed_at__lt=now
        )
        .order_by()  # the model's default ordering would join and sort for nothing
        .values_list("admission_id", "observed_at", "recorded_by_id", "source")
    ):
        checks[adm_id].append(tuple(check))
    for leave in leaves_overlapping(ids, start=load_start, end=now):
        leaves[leave.admission_id].append(leave)
    watches = observer_watches(ids, start=load_start, end=now)
    candidates = []
    # Most stays have no event in the hours judged, so their segments (and so their windows) are
    # the same as thousands of others on that level in that zone: the windows, and their UTC
    # keys, are made once per distinct (zone, segments). They are a pure function of both.
    owed: dict[tuple, tuple[list[OwedWindow], list, bool]] = {}
    for admission in admissions:
        tz = zones[admission.facility_id]
        since = pulled_back.get(admission.pk, start)
        start_utc = since.astimezone(UTC)
        judge_start = block_floor((since - JUDGE_BACK).astimezone(tz), 60)
        segments = stay_segments(
            admission, orders[admission.pk], leaves[admission.pk], start=judge_start, end=now
        )
        shape = (tz.key, tuple(segments))
        if (known := owed.get(shape)) is None:
            windows = owed_windows(segments, intervals=LEVEL_INTERVAL, tz=tz)
            known = owed[shape] = (
                windows,
                [window_key(w) for w in windows],
                any(w.level in CONTINUOUS_LEVELS for w in windows),
            )
        windows, keys, continuous = known
        if continuous:
            missed = judge_windows(windows, checks[admission.pk], watches[admission.pk])
            streaks = missed_in_a_row(windows, missed)
        else:  # any check counts: the same rule as judge_windows, on keys made once
            streaks = _streaks(keys, sorted(at for at, _, _ in checks[admission.pk]))
        for i, (window, streak) in enumerate(zip(windows, streaks, strict=True)):
            if streak and keys[i][1] > start_utc:
                # A run reaching back to the first window judged may be longer than counted.
                longer = streak == i + 1 and admission.admitted_at < judge_start
                candidates.append((admission, window, streak, longer))
    raised = _raise_missed(candidates, now)
    ScanMark.objects.update_or_create(name=MISSED_SCAN, defaults={"scanned_until": now})
    return raised + extras


class _Stay(NamedTuple):
    """What the window rules read of an Admission (stay_segments)."""

    pk: int
    facility_id: int
    admitted_at: datetime
    discharged_at: datetime | None


class _Order(NamedTuple):
    """What the window rules read of a LevelOrder (level_events)."""

    effective_from: datetime
    level: str


def _streaks(keys: list[tuple[datetime, datetime]], instants: list[datetime]) -> list[int]:
    """missed_in_a_row(windows, missed_windows(checks, windows)) for windows given as sorted
    UTC keys and checks as sorted instants: per window, 0 when a check lies in [start, end),
    else the length of the run of missed windows ending there."""
    streaks, run = [], 0
    for start, end in keys:
        i = bisect.bisect_left(instants, start)
        run = 0 if i < len(instants) and instants[i] < end else run + 1
        streaks.append(run)
    return streaks


def _late_returns(mark: datetime, start: datetime, now: datetime) -> dict[int, datetime]:
    """Stays with an event recorded since the last scan but dated before this scan's start: the
    windows owed since it were never judged, or judged by the wrong rule, so their scan starts
    back at the event, at most SCAN_LOOKBACK ago. Three queries. The events:
    - a return from leave (the client counted as away);
    - an admission entered late (the stay did not exist for the scan);
    - a level order dated back (the old level's blocks were judged)."""
    late = [
        Leave.objects.filter(returned_recorded_at__gte=mark, returned_at__lt=start)
        .values("admission_id")
        .annotate(back=Min("returned_at")),
        Admission.objects.filter(recorded_at__gte=mark, admitted_at__lt=start)
        .annotate(admission_id=F("id"))
        .values("admission_id")
        .annotate(back=Min("admitted_at")),
        LevelOrder.objects.filter(recorded_at__gte=mark, effective_from__lt=start)
        .values("admission_id")
        .annotate(back=Min("effective_from")),
    ]
    oldest = now - SCAN_LOOKBACK
    back: dict[int, datetime] = {}
    for rows in late:
        for row in rows.order_by():
            at = max(row["back"], oldest)
            back[row["admission_id"]] = min(back.get(row["admission_id"], at), at)
    return back


def stay_windows(admission, orders, leaves, *, start, end, tz) -> list[OwedWindow]:
    """Every window one stay owes in [start, end), in time order: the first check after each
    event and the whole clock blocks (specs/rounds.md, "First check owed from the first minute").
    The scan and the compliance report both judge these, so they never disagree."""
    segments = stay_segments(admission, orders, leaves, start=start, end=end)
    return owed_windows(segments, intervals=LEVEL_INTERVAL, tz=tz)


def observer_watches(admission_ids, *, start, end) -> dict[int, list[tuple]]:
    """(observer id, from, to or None) of the observer assignments of these stays that overlap
    [start, end), per stay, in one query."""
    watches = defaultdict(list)
    for adm_id, *watch in (
        ObserverAssignment.objects.filter(admission__in=admission_ids, started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .order_by()
        .values_list("admission_id", "observer_id", "started_at", "ended_at")
    ):
        watches[adm_id].append(tuple(watch))
    return watches


def observer_at(watches, moment: datetime):
    """The id of the observer holding the stay at `moment` (assignments are [from, to)), or None."""
    for observer_id, since, until in watches:
        if since <= moment and (until is None or moment < until):
            return observer_id
    return None


def judge_windows(windows, checks, watches) -> list[OwedWindow]:
    """The windows of one stay that hold no check that counts, in their order.

    `checks` are (observed_at, recorded_by id, source). On a continuous level only the entries
    of the observer holding the stay at that moment count, or a paper downtime sheet entered
    later (specs/rounds.md: continuous levels count only the assigned observer's entries)."""
    continuous = [w for w in windows if w.level in CONTINUOUS_LEVELS]
    every = [at for at, _, _ in checks]
    if not continuous:  # the usual case: any check counts
        return missed_windows(every, windows)
    observed = [
        at
        for at, who, source in checks
        if source == CheckSource.DOWNTIME or (who is not None and observer_at(watches, at) == who)
    ]
    interval = [w for w in windows if w.level not in CONTINUOUS_LEVELS]
    missed = {
        window_key(w)
        for w in missed_windows(every, interval) + missed_windows(observed, continuous)
    }
    return [w for w in windows if window_key(w) in missed]


def missed_key(admission_public_id, window_start: datetime, minutes: int, *, first: bool) -> str:
    """The dedupe key of the alert for one missed window of one stay.

    A clock block is `missed:<stay>:<start UTC>` (its length follows from the level); a first
    check owed from an event (admission, raise, return from leave) starts off the clock, so its
    key carries its length: `missed:<stay>:<start UTC>|<minutes>`."""
    key = f"missed:{admission_public_id}:{window_start.astimezone(UTC).isoformat()}"
    return f"{key}|{minutes}" if first else key


def _window_of(key: str, prefix: str) -> tuple[datetime, int | None]:
    start, _, minutes = key[len(prefix) :].partition("|")
    return datetime.fromisoformat(start), int(minutes) if minutes else None


def close_missed_alerts(
    checks, *, actor, now: datetime, tz, source: str = CheckSource.ROUND
) -> int:
    """Close the open missed-check alerts that these checks answer: a check observed inside a
    window the scan already called missed (a late entry, a downtime sheet) shows the window was
    checked after all. `checks` are (admission, observed_at) pairs, recorded by `actor` with
    `source`.

    The rule is the scan's (judge_windows): in a window on a continuous level only the entry of
    the observer holding the client at that moment counts, or a downtime sheet row; any other
    check leaves the alert open. One query finds the alerts, one reads the stays' level orders,
    one their observer assignments (only if a continuous window is answered), one closes all."""
    by_admission = defaultdict(list)
    for admission, observed_at in checks:
        by_admission[admission.public_id].append(observed_at.astimezone(UTC))
    if not by_admission:
        return 0
    query = Q()
    for public_id in by_admission:
        query |= Q(dedupe_key__startswith=f"missed:{public_id}:")
    answered = []
    admissions = {admission.public_id: admission for admission, _ in checks}
    orders = _LevelOrdersOnce(admissions.values())
    watches = _WatchesOnce(admissions.values(), [at for ats in by_admission.values() for at in ats])
    for alert_id, key in Alert.objects.open().filter(query).values_list("id", "dedupe_key"):
        public_id = uuid.UUID(key.split(":", 2)[1])
        start, minutes = _window_of(key, f"missed:{public_id}:")
        start = start.astimezone(UTC)
        admission = admissions[public_id]
        level = _level_at(admission, start, orders)
        if level is None:
            continue
        for observed in by_admission.get(public_id, []):
            if minutes is not None:
                inside = start <= observed < start + timedelta(minutes=minutes)
            else:  # a clock block: as long as the level in force at its start
                local = observed.astimezone(tz)
                inside = block_floor(local, LEVEL_INTERVAL[level]).astimezone(UTC) == start
            if inside and (
                level not in CONTINUOUS_LEVELS
                or source == CheckSource.DOWNTIME
                or observer_at(watches[admission.pk], observed) == actor.pk
            ):
                answered.append((alert_id, observed))
                break
    if answered:  # one UPDATE for all, each alert with its own note
        notes = {
            alert_id: f"Checked at {timezone.localtime(observed, tz):%H:%M} "
            f"(late entry by {actor.initials})."
            for alert_id, observed in answered
        }
        Alert.objects.filter(pk__in=notes, resolved_at__isnull=True).update(
            resolved_at=now,
            resolved_by=actor,
            resolution_note=Case(
                *[When(pk=alert_id, then=Value(note)) for alert_id, note in notes.items()],
                output_field=TextField(),
            ),
        )
    return len(answered)


class _LevelOrdersOnce:
    """The level orders of some stays, read in one query the first time one is asked for."""

    def __init__(self, admissions):
        self.ids, self.by_admission = [a.pk for a in admissions], None

    def __getitem__(self, admission_id: int) -> list:
        if self.by_admission is None:
            self.by_admission = defaultdict(list)
            for order in LevelOrder.objects.filter(admission__in=self.ids).order_by(
                "effective_from", "id"
            ):
                self.by_admission[order.admission_id].append(order)
        return self.by_admission[admission_id]


class _WatchesOnce:
    """The observer assignments of some stays around some moments, read in one query the first
    time one is asked for."""

    def __init__(self, admissions, moments):
        self.ids, self.moments, self.by_admission = [a.pk for a in admissions], moments, None

    def __getitem__(self, admission_id: int) -> list:
        if self.by_admission is None:
            self.by_admission = observer_watches(
                self.ids,
                start=min(self.moments),
                end=max(self.moments) + timedelta(seconds=1),
            )
        return self.by_admission[admission_id]


def _level_at(admission, start: datetime, orders) -> str | None:
    """The level a stay was on at `start` (a window's level: it sets a clock block's length, and
    whether only the observer's entries count). A block key does not carry its length, and a q15
    block at 08:00 must not be closed by a check at 08:37 just because a q60 block would also
    start at 08:00."""
    segments = level_segments(
        admission, orders[admission.pk], start=start, end=start + timedelta(seconds=1)
    )
    return segments[0][2] if segments else None


def _block_ended_since(mark: datetime, now: datetime) -> bool:
    """Whether a quarter-hour boundary (which every block ends on) lies in (mark, now], on the
    wall clock of any facility's zone."""
    zones = set(Facility.objects.values_list("time_zone", flat=True))
    return any(boundary_passed(mark, now, ZoneInfo(zone), 15) for zone in zones)


def _first_window_ended_since(mark: datetime, now: datetime) -> bool:
    """Whether a window off the clock may have ended in (mark, now]: an event (admission, the
    72-hour default switch, a level order, a return from leave) at most 60 and at least 15
    minutes before a moment in that span, or a leave begun in it (the last check before leaving
    ends then); or a return from leave recorded since the mark. At most four small queries,
    whatever the census."""
    since = mark - timedelta(minutes=max(LEVEL_INTERVAL.values()))
    until = now - timedelta(minutes=min(LEVEL_INTERVAL.values()))
    if until <= since:
        return False
    switch = timedelta(hours=ADMISSION_LEVEL_HOURS)
    return (
        Admission.objects.filter(
            Q(admitted_at__gt=since, admitted_at__lte=until)
            | Q(admitted_at__gt=since - switch, admitted_at__lte=until - switch)
        ).exists()
        or LevelOrder.objects.filter(effective_from__gt=since, effective_from__lte=until).exists()
        or Leave.objects.filter(returned_at__gt=since, returned_at__lte=until).exists()
        # The last check before a leave ends when the client leaves; a return entered late
        # reopens the windows owed since it.
        or Leave.objects.filter(
            Q(left_at__gt=mark, left_at__lte=now) | Q(returned_recorded_at__gt=mark)
        ).exists()
        # An admission or a level order entered late (_late_returns): judged from its time.
        or Admission.objects.filter(recorded_at__gt=mark, admitted_at__lte=mark).exists()
        or LevelOrder.objects.filter(recorded_at__gt=mark, effective_from__lte=mark).exists()
    )


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def missed_alert_text(name: str, window: OwedWindow, tz, streak: int = 1, longer: bool = False):
    """(severity, message) of the alert for one missed window (issue 10, escalation).

    A miss on q15 or a continuous level, or the second owed window in a row missed (any level),
    is critical, for the supervisor; the message says why."""
    label = Level(window.level).label
    start = timezone.localtime(window.start, tz)
    end = timezone.localtime(window.end, tz)
    if window.kind == "last":
        what = f"not checked {start:%H:%M}–{end:%H:%M} before leaving at {end:%H:%M}"
    elif window.kind == "carry" and window.first:
        what = f"{start:%H:%M}–{end:%H:%M} block"
    elif window.first:
        what = f"first check after {start:%H:%M} not done by {end:%H:%M}"
    else:
        what = f"{start:%H:%M} block"
    message = f"Missed check: {name}, {what} ({label})."
    reasons = []
    if window.level in CONTINUOUS_LEVELS or window.level == Level.Q15:
        reasons.append(label)
    if streak >= 2:
        reasons.append(
            f"{streak} or more missed in a row" if longer else f"{_ordinal(streak)} missed in a row"
        )
    if not reasons:
        return AlertSeverity.WARNING, message
    return AlertSeverity.CRITICAL, f"{message} Critical: {'; '.join(reasons)}."


def _raise_missed(candidates, now) -> int:
    """One alert per missed window, linked to the unit's rounds board where it is acted on."""
    if not candidates:
        return 0
    # Names, facilities and units only for the stays that missed a window.
    full = Admission.objects.select_related("client", "facility", "unit").in_bulk(
        {adm.pk for adm, *_ in candidates}
    )
    alerts = []
    for adm, window, streak, longer in candidates:
        adm = full[adm.pk]
        severity, message = missed_alert_text(
            adm.client.display_name, window, adm.facility.tz, streak, longer
        )
        alerts.append(
            Alert(
                facility=adm.facility,
                kind="missed_check",
                severity=severity,
                message=message,
                dedupe_key=missed_key(
                    adm.public_id, window.start, window.interval, first=window.first
                ),
                client_public_id=adm.client.public_id,
                client_label=adm.client.mrn,
                link=reverse("observations:board", args=[adm.unit.public_id]),
                raised_at=now,
            )
        )
    return alerts_raise_many(alerts)


def _scan_level_orders_overdue(now) -> int:
    """A nurse's raise still without a clinician's order when it was due."""
    raised = 0
    overdue = LevelOrder.objects.filter(
        kind=LevelOrderKind.NURSE_RAISE,
        confirmed_at__isnull=True,
        clinician_order_due_at__lt=now,
        admission__discharged_at__isnull=True,
    ).select_related("admission__client", "admission__facility")
    for order in overdue:
        client = order.admission.client
        _, created = alert_raise(
            facility=order.admission.facility,
            kind="level_order_overdue",
            severity=AlertSeverity.WARNING,
            message=f"{client.display_name}: raise to {order.get_level_display()} "
            "still has no clinician's order.",
            dedupe_key=f"level-order:{order.public_id}",
            client_public_id=client.public_id,
            client_label=client.mrn,
            now=now,
        )
        raised += created
    return raised


def _scan_observer_gaps(now) -> int:
    """A client on a continuous level with no assigned observer is a critical deviation: alerted
    at once by level_order, and here every minute until an observer accepts the watch (the alert
    closes then; a later gap raises it again)."""
    # The default levels are never continuous: only stays with a continuous order can be.
    ordered = LevelOrder.objects.filter(level__in=CONTINUOUS_LEVELS, effective_from__lte=now)
    open_admissions = list(
        Admission.objects.current()
        .filter(admitted_at__lt=now, pk__in=ordered.values("admission_id"))
        .select_related("client", "facility")
    )
    levels = current_levels(open_admissions, now)
    continuous = [a for a in open_admissions if levels[a.pk].is_continuous]
    if not continuous:
        return 0
    watched = set(
        ObserverAssignment.objects.filter(
            admission__in=continuous, ended_at__isnull=True
        ).values_list("admission_id", flat=True)
    )
    return sum(
        alert_no_observer(admission, levels[admission.pk], now=now)
        for admission in continuous
        if admission.pk not in watched
    )


def scan_security_rounds(*, now: datetime | None = None) -> int:
    """Alert once per facility window that ended with no security round recorded."""
    now = now or timezone.now()
    mark = ScanMark.objects.filter(name=SECURITY_SCAN).first()
    # The first run ever starts the clock: windows before Haven watched are not "missed".
    since = max(mark.scanned_until if mark else now, now - SCAN_LOOKBACK)
    raised = 0
    for facility in Facility.objects.filter(security_areas__active=True).distinct():
        # Compared as UTC instants: in the repeated fall-back hour a local time never equals
        # anything in another zone.
        done = {
            ws.astimezone(UTC)
            for ws in SecurityRound.objects.filter(
                facility=facility, window_start__gte=since - timedelta(days=1)
            ).values_list("window_start", flat=True)
        }
        for start, end in windows_between(since, now, facility.tz, facility.shift_pattern):
            if start.astimezone(UTC) in done:
                continue
            _, created = alert_raise(
                facility=facility,
                kind="security_round_overdue",
                severity=AlertSeverity.WARNING,
                message=f"Security round {start:%H:%M}–{end:%H:%M} was not recorded.",
                dedupe_key=f"security-round:{facility.public_id}:{start.astimezone(UTC).isoformat()}",
                link=reverse("observations:security"),
                now=now,
            )
            raised += created
    ScanMark.objects.update_or_create(name=SECURITY_SCAN, defaults={"scanned_until": now})
    return raised
