"""The supervisor dashboard's rounds and incidents numbers (issue 15 item 4; facility/registry.py
DashboardTile), for the shift so far.

Rounds are counted per unit the way the pages they link to count them: *done* and *missed* are
the windows of the shift that have ended, judged as the compliance report and the scan judge
them (observations.compliance); *due now* are the clients on site whose current check the rounds
board shows as due. Each tile reads the whole facility in a fixed number of queries.

The rounds tile is the dashboard's costly part (a whole facility's windows every 30 s), so it
reads rows as tuples, not model instances, and makes each distinct window shape once, as the
missed-check scan does (observations/services/scans.py): stays with no event in the shift share
their segments, so their windows, with their UTC keys, are made once per (level, horizon).
"""

import bisect
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from urllib.parse import urlencode

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import BigIntegerField, F, Func, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from clients.models import Admission, Client, Leave
from facility.models import Alert, Unit
from facility.registry import DashboardTile, register_dashboard_tile
from observations import services
from observations.compliance import REACH
from observations.models import (
    CONTINUOUS_LEVELS,
    LEVEL_INTERVAL,
    Incident,
    IncidentStatus,
    LevelOrder,
    RoundCheck,
)
from observations.rounds import (
    ADMISSION_LEVEL,
    ADMISSION_LEVEL_HOURS,
    DEFAULT_LEVEL,
    owed_windows,
    stay_segments,
    window_key,
)
from observations.services.levels import RETURN_LOOKBACK, CurrentLevel
from observations.services.scans import judge_windows, observer_watches

DUE_STATES = ("due", "due_soon")


class _Stay(NamedTuple):
    """What the window rules and round_state read of an Admission."""

    pk: int
    unit_id: int | None
    client_id: int
    admitted_at: datetime
    discharged_at: datetime | None


class _Order(NamedTuple):
    """What the window rules read of a LevelOrder (level_events)."""

    effective_from: datetime
    level: str


class _Leave(NamedTuple):
    """What the window rules and round_state read of a Leave."""

    left_at: datetime
    returned_at: datetime | None


class _Check(NamedTuple):
    """What round_state reads of a stay's last check."""

    observed_at: datetime


def _rounds(facility, start: datetime, end: datetime, now: datetime):
    """(done, missed, due now) Counters by unit id. Done and missed: the windows that began in
    [start, end) and have ended by `end` (the shift so far: `end` is now, or the shift's end),
    judged as compliance's admission_blocks judges them (period_windows, judge_windows). Due
    now: round_state at `now` of each stay on site, as the rounds board says it. Seven queries
    for the whole facility, rows read as tuples."""
    lo, hi = start - REACH, end + REACH
    lo_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    recent_from = now - RETURN_LOOKBACK
    # The stays of the shift so far (compliance's set, up to now) and the stays open now (the
    # board's set), in one query.
    stays = [
        _Stay(*row)
        for row in Admission.objects.filter(facility=facility)
        .filter(
            Q(discharged_at__isnull=True) | Q(admitted_at__lt=end) & ~Q(discharged_at__lte=start)
        )
        .order_by()
        .values_list("id", "unit_id", "client_id", "admitted_at", "discharged_at")
    ]
    ids = [s.pk for s in stays]
    orders, leaves, recent = (defaultdict(list) for _ in range(3))
    checks: dict[int, tuple[list[int], list, list[str]]] = {}
    for adm_id, *order in (
        LevelOrder.objects.filter(admission__in=ids)
        .order_by("effective_from", "id")
        .values_list("admission_id", "effective_from", "level")
    ):
        orders[adm_id].append(_Order(*order))
    # Each stay's checks as three arrays in one row (instants as integer microseconds since
    # the epoch): ~3,000 rows of timestamps cost more to read than to judge.
    in_order = ("observed_at", "id")
    for adm_id, *check in (
        RoundCheck.objects.filter(admission__in=ids, observed_at__gte=lo, observed_at__lt=hi)
        .order_by()
        .values("admission_id")
        .annotate(
            at=ArrayAgg(_MICROS, order_by=in_order),
            who=ArrayAgg("recorded_by_id", order_by=in_order),
            source=ArrayAgg("source", order_by=in_order),
        )
        .values_list("admission_id", "at", "who", "source")
    ):
        checks[adm_id] = check
    # Leaves overlapping [lo, hi) (clients.services.leaves_overlapping: the windows skip them)
    # and the board's recent ones (open, or returned within RETURN_LOOKBACK), in one query.
    overlapping = Q(left_at__lt=hi) & (Q(returned_at__isnull=True) | Q(returned_at__gt=lo))
    is_recent = Q(returned_at__isnull=True) | Q(returned_at__gte=recent_from)
    for adm_id, left_at, returned_at in (
        Leave.objects.filter(admission_id__in=ids)
        .filter(overlapping | is_recent)
        .order_by()
        .values_list("admission_id", "left_at", "returned_at")
    ):
        leave = _Leave(left_at, returned_at)
        if left_at < hi and (returned_at is None or returned_at > lo):
            leaves[adm_id].append(leave)
        if returned_at is None or returned_at >= recent_from:
            recent[adm_id].append(leave)
    watches = observer_watches(ids, start=lo, end=hi)
    for held in watches.values():
        held.sort(key=lambda watch: watch[1])  # in time order, as compliance reads them
    current = [s for s in stays if s.discharged_at is None]
    last = dict(
        RoundCheck.objects.filter(
            pk__in=Admission.objects.filter(pk__in=[s.pk for s in current])
            .annotate(
                last_id=Subquery(
                    RoundCheck.objects.filter(admission=OuterRef("pk"))
                    .order_by("-observed_at", "-id")
                    .values("id")[:1]
                )
            )
            .values("last_id")
        )
        .order_by()
        .values_list("admission_id", "observed_at")
    )
    # Clients with an open missed-check alert: the board reads an unchecked block as "missed".
    # The stays' clients by primary key: by public id alone PostgreSQL hashes every client.
    flagged = set(
        Client.objects.filter(
            pk__in=[s.client_id for s in current],
            public_id__in=Alert.objects.open()
            .filter(facility=facility, kind="missed_check")
            .values("client_public_id"),
        )
        .order_by()
        .values_list("pk", flat=True)
    )

    tz = facility.tz
    done, missed, due = Counter(), Counter(), Counter()
    # Windows beginning in [start, end) and ended by `end`, with their UTC keys and whether any is
    # on a continuous level, per distinct segments (a pure function of them: one zone here).
    shapes: dict[tuple, tuple[list, list, bool]] = {}
    for stay in stays:
        if stay.admitted_at >= end or (
            stay.discharged_at is not None and stay.discharged_at <= start
        ):
            continue
        segments = tuple(stay_segments(stay, orders[stay.pk], leaves[stay.pk], start=lo, end=hi))
        if (known := shapes.get(segments)) is None:
            windows = [
                w
                for w in owed_windows(segments, intervals=LEVEL_INTERVAL, tz=tz)
                if lo_utc <= w.start.astimezone(UTC) < end_utc and w.end.astimezone(UTC) <= end_utc
            ]
            known = shapes[segments] = (
                windows,
                [(_micros(a), _micros(b)) for a, b in map(window_key, windows)],
                any(w.level in CONTINUOUS_LEVELS for w in windows),
            )
        windows, keys, continuous = known
        instants, who, source = checks.get(stay.pk, ((), (), ()))
        if continuous:  # only the assigned observer's entries count: the scan's own rule
            counted = [(_instant(at), *row) for at, *row in zip(instants, who, source, strict=True)]
            n_missed = len(judge_windows(windows, counted, watches[stay.pk]))
        else:  # any check counts: missed_windows on keys made once
            n_missed = 0
            for w_start, w_end in keys:
                i = bisect.bisect_left(instants, w_start)
                if i == len(instants) or instants[i] >= w_end:
                    n_missed += 1
        done[stay.unit_id] += len(keys) - n_missed
        missed[stay.unit_id] += n_missed
    for stay in current:
        leaves_now = recent[stay.pk]
        if any(lv.returned_at is None for lv in leaves_now):
            continue  # off site: nothing owed
        state, _ = services.round_state(
            now, tz, stay, _current_level(stay, orders[stay.pk], now),
            _Check(last[stay.pk]) if stay.pk in last else None, leaves_now,
            stay.client_id in flagged,
        )  # fmt: skip
        if state in DUE_STATES:
            due[stay.unit_id] += 1
    return done, missed, due


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# An instant as whole microseconds since the epoch, in SQL (PostgreSQL keeps microseconds).
_MICROS = Func(
    F("observed_at"),
    template="(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint",
    output_field=BigIntegerField(),
)


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


def _instant(micros: int) -> datetime:
    return EPOCH + micros * MICROSECOND


def _current_level(stay: _Stay, orders: list[_Order], now: datetime) -> CurrentLevel:
    """services.current_levels for one stay, from its orders in time order."""
    in_force = [o for o in orders if o.effective_from <= now]
    if in_force:
        return CurrentLevel(in_force[-1].level, None, in_force[-1].effective_from)
    default_from = stay.admitted_at + timedelta(hours=ADMISSION_LEVEL_HOURS)
    if now < default_from:
        return CurrentLevel(ADMISSION_LEVEL, None, stay.admitted_at)
    return CurrentLevel(DEFAULT_LEVEL, None, default_from)


def rounds_tile(scope) -> list[tuple[str, int, str, str]]:
    """Per unit: windows done and missed so far this shift, and checks due now."""
    facility, now = scope.facility, scope.now
    done, missed, due = _rounds(facility, scope.start, min(scope.end, now), now)
    items = []
    tz = facility.tz
    # Missed windows are listed by the compliance report (the board shows only what is due
    # now): the unit, over the local days of the shift so far.
    period = {
        "start": timezone.localtime(scope.start, tz).date().isoformat(),
        "end": timezone.localtime(min(scope.end, now), tz).date().isoformat(),
    }
    for unit in Unit.objects.filter(facility=facility).order_by("name"):
        href = reverse("observations:board", args=[unit.public_id])
        compliance = (
            reverse("observations:compliance") + "?" + urlencode({**period, "unit": unit.public_id})
        )
        items += [
            (f"{unit.name} · Checks done", done[unit.pk], href, ""),
            (f"{unit.name} · Checks due now", due[unit.pk], href, "due" if due[unit.pk] else ""),
            (
                f"{unit.name} · Checks missed",
                missed[unit.pk],
                compliance,
                "alert" if missed[unit.pk] else "",
            ),
        ]
    return items


def incidents_tile(scope) -> list[tuple[str, int, str, str]]:
    """Incident reports submitted and awaiting a supervisor's review (of any shift: a report
    waits until it is reviewed)."""
    waiting = Incident.objects.filter(
        facility=scope.facility, status=IncidentStatus.SUBMITTED
    ).count()
    return [
        ("Awaiting review", waiting, reverse("observations:incidents"), "due" if waiting else "")
    ]


register_dashboard_tile(DashboardTile("rounds", "Rounds this shift", rounds_tile, order=10))
register_dashboard_tile(DashboardTile("incidents", "Incidents", incidents_tile, order=50))
