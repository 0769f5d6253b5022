"""The minute scan (specs/rounds.md, Missed checks): missed round blocks, nurses' raises still
without a clinician's order, continuous levels without an observer, and security round windows
that ended with no round. Run by observations.tasks.scan_missed_checks."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from clients.models import Admission
from clients.services import leaves_overlapping
from facility.models import Alert, AlertSeverity, Facility
from facility.services import alert_raise, alerts_raise_many
from observations.models import (
    CONTINUOUS_LEVELS,
    LevelOrder,
    LevelOrderKind,
    ObserverAssignment,
    RoundCheck,
    ScanMark,
    SecurityRound,
)
from observations.rounds import boundary_passed, missed_blocks
from observations.security import windows_between
from observations.services.levels import current_levels, owed_periods

SCAN_LOOKBACK = timedelta(hours=24)
MISSED_SCAN = "missed-checks"
SECURITY_SCAN = "security-rounds"


def scan_missed_checks(*, now: datetime | None = None) -> int:
    """Raise one alert per client per missed block since the last scan (at most 24 hours back).

    The mark only moves forward after a complete pass, and alerts are keyed by client and
    block, so a rerun, a late run or a run that died halfway loses nothing and repeats nothing.
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
    if not _block_ended_since(mark.scanned_until, now):
        # Blocks end on quarter hours: in the other 14 minutes there is nothing new to judge.
        return extras
    start = max(mark.scanned_until, now - SCAN_LOOKBACK)
    # Blocks are at most 60 minutes: look back one more hour so a block that started before the
    # mark and ended after it is judged whole.
    window_start = start - timedelta(hours=1)
    # Only the fields the block rules read; names are fetched later for the few candidates.
    in_window = (
        Admission.objects.filter(admitted_at__lt=now)
        .exclude(discharged_at__lt=window_start)
        .only("id", "public_id", "facility_id", "client_id", "admitted_at", "discharged_at")
        .order_by()
    )
    admissions = list(in_window)
    ids = in_window.values("id")  # a subquery, not thousands of literals
    zones = {f.pk: f.tz for f in Facility.objects.all()}
    orders, checks, leaves = defaultdict(list), defaultdict(list), defaultdict(list)
    for order in LevelOrder.objects.filter(admission__in=ids).order_by("effective_from", "id"):
        orders[order.admission_id].append(order)
    for adm_id, observed in (
        RoundCheck.objects.filter(
            admission__in=ids, observed_at__gte=window_start, observed_at__lt=now
        )
        .order_by()  # the model's default ordering would join and sort for nothing
        .values_list("admission_id", "observed_at")
    ):
        checks[adm_id].append(observed)
    for leave in leaves_overlapping(ids, start=window_start, end=now):
        leaves[leave.admission_id].append(leave)
    candidates = []
    for admission in admissions:
        tz = zones[admission.facility_id]
        for a, b, interval in owed_periods(
            admission, orders[admission.pk], leaves[admission.pk], start=window_start, end=now
        ):
            for block in missed_blocks(
                checks[admission.pk],
                start=a.astimezone(tz),
                end=b.astimezone(tz),
                interval_minutes=interval,
            ):
                block_end = block + timedelta(minutes=interval)
                if block_end.astimezone(UTC) > start.astimezone(UTC):
                    candidates.append((admission, block, interval))
    raised = _raise_missed(candidates, now)
    ScanMark.objects.update_or_create(name=MISSED_SCAN, defaults={"scanned_until": now})
    return raised + extras


def _block_ended_since(mark: datetime, now: datetime) -> bool:
    """Whether a quarter-hour boundary (which every block ends on) lies in (mark, now], on the
    wall clock of any facility's zone."""
    zones = set(Facility.objects.values_list("time_zone", flat=True))
    return any(boundary_passed(mark, now, ZoneInfo(zone), 15) for zone in zones)


def _raise_missed(candidates, now) -> int:
    if not candidates:
        return 0
    # Names and facilities only for the stays that missed a block.
    full = Admission.objects.select_related("client", "facility").in_bulk(
        {adm.pk for adm, _, _ in candidates}
    )
    candidates = [(full[adm.pk], block, n) for adm, block, n in candidates]
    return alerts_raise_many(
        [
            Alert(
                facility=adm.facility,
                kind="missed_check",
                severity=AlertSeverity.WARNING,
                message=(
                    f"Missed check: {adm.client.display_name}, "
                    f"{timezone.localtime(block, adm.facility.tz):%H:%M} block (q{n})."
                ),
                dedupe_key=f"missed:{adm.public_id}:{block.astimezone(UTC).isoformat()}",
                client_public_id=adm.client.public_id,
                client_label=adm.client.mrn,
                raised_at=now,
            )
            for adm, block, n in candidates
        ]
    )


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
    """A client on a continuous level with no assigned observer is a critical deviation."""
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
    raised = 0
    for admission in continuous:
        if admission.pk in watched:
            continue
        current = levels[admission.pk]
        client = admission.client
        _, created = alert_raise(
            facility=admission.facility,
            kind="no_observer",
            severity=AlertSeverity.CRITICAL,
            message=f"{client.display_name} is on {current.label} with no assigned observer.",
            dedupe_key=f"no-observer:{admission.public_id}:{current.since.isoformat()}",
            client_public_id=client.public_id,
            client_label=client.mrn,
            once=False,
            now=now,
        )
        raised += created
    return raised


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
                now=now,
            )
            raised += created
    ScanMark.objects.update_or_create(name=SECURITY_SCAN, defaults={"scanned_until": now})
    return raised
