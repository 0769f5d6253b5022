#!/usr/bin/env python
"""Generate a year of volume (stays, bed moves, leaves, alerts, hash-chained access events) for
bench/run.py, in database haven_bench (DATABASE_URL; its name must contain "bench"). Rows go in
with bulk_create, but every constraint holds and the access chain verifies. See bench/README.md.

    .venv/bin/python bench/generate.py [--force] [--days 365] [--events 300000]
"""

import bisect
import heapq
import itertools
import math
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _env  # noqa: E402
from _build import Builder, minute, parser, prepare  # noqa: E402

TZ_NAME = "America/New_York"
UNITS = [("North Hall", "N"), ("South Hall", "S"), ("East Wing", "E"), ("West Wing", "W")]
ROOMS_PER_UNIT = 15  # two beds (A, B) a room: 30 beds a unit
STAFF = {"technician": 24, "nurse": 12, "clinician": 6, "supervisor": 3, "admin": 2}
# People on each shift, by shift key (the 8-hour pattern; the 12-hour one has day and night).
ON_SHIFT = {
    "day": {"technician": 8, "nurse": 3, "clinician": 4, "supervisor": 1},
    "evening": {"technician": 7, "nurse": 3, "clinician": 1, "supervisor": 1},
    "night": {"technician": 5, "nurse": 2, "clinician": 0, "supervisor": 0},
}
ORIENTATION_ITEMS = [
    "Tour of the unit and emergency exits", "Client rights and grievance procedure",
    "Confidentiality (42 CFR Part 2) explained", "Program rules, schedule and visiting hours",
    "Belongings search explained and inventory signed", "Medication times and how to ask for PRN",
]  # fmt: skip
# Level of care: weight, length of stay in days (low, high, mode).
LEVELS = {
    "3.7-WM": (0.22, (3, 8, 5)),
    "3.5": (0.35, (14, 45, 28)),
    "3.7": (0.18, (7, 28, 14)),
    "3.1": (0.15, (21, 90, 45)),
    "MH-RES": (0.10, (14, 60, 30)),
}
# Discharge type: weight, note (given to 60% of the stays not completed).
DISCHARGES = {
    "completed": (0.55, ""),
    "ama": (0.20, "Client chose to leave; risks explained, declined to stay."),
    "transfer": (0.12, "Stepped down to a lower level of care."),
    "administrative": (0.05, "Discharged for repeated program rule violations."),
    "hospital": (0.05, "Sent to the ED by EMS; bed released."),
    "other": (0.03, "See clinical record."),
}
MOVE_REASONS = ["Roommate conflict", "Closer to nursing station", "Maintenance in room",
                "Step-down", ""]  # fmt: skip
# Leave kind: weight, planned hours (low, high), destinations.
LEAVE_KINDS = {
    "appointment": (0.40, (1, 4), ["Dental clinic", "Primary care", "Court", "DMV", "Probation"]),
    "pass": (0.25, (4, 12), ["Family home", "Sponsor", ""]),
    "outing": (0.20, (2, 5), ["AA meeting", "Park", "Library", "Gym"]),
    "trip": (0.05, (6, 30), ["Family visit out of town", "Sober retreat"]),
    "hospital": (0.10, (6, 48), ["Mission Hospital ED", "Memorial Hospital"]),
}
RESOLUTION_NOTES = [
    "Checked on client; observed asleep, breathing even.",
    "Round completed late; client in group room.",
    "Spoke with tech on duty; check done and documented.",
    "Dose given; late due to client in session.", "Client returned; searched per policy.",
    "Orientation completed with client.",
]  # fmt: skip
# Alerts of the later apps' scans: kind, severity, per day of history, open now, key, message.
HISTORY_ALERTS = [
    ("missed_round", "warning", 5, 4, "round", "Round check for {} missed at {:%H:%M}."),
    ("overdue_dose", "critical", 1, 2, "dose", "Scheduled dose for {} at {:%H:%M} not recorded."),
]
EVENT_FIELDS = (
    "at user_id username role facility_id client_public_id client_label action what ip outcome"
)


def weighted(rng, pairs):
    keys, weights = zip(*pairs, strict=True)
    return rng.choices(keys, weights=weights)[0]


def poisson(rng, lam: float) -> int:
    """Knuth's method; fine for the small means used here."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@dataclass
class Stay:
    bed: object
    level: str
    start: datetime
    end: datetime | None  # None: still admitted
    client: int = -1
    long_history: bool = False
    open_leave_at: datetime | None = None
    admission: object = None
    leaves: list = field(default_factory=list)


class Generator(Builder):
    def __init__(self, *, seed: int, days: int, events: int):
        super().__init__(seed, width=34)
        self.days = days
        self.events_target = events
        self.window_start = self.now - timedelta(days=days)

    def make_facility_and_staff(self):
        from clients.models import OrientationItem

        rooms = [f"{100 + room}-{side}" for room in range(1, ROOMS_PER_UNIT + 1) for side in "AB"]
        units = [(name, [f"{p}{room}" for room in rooms]) for name, p in UNITS]
        self.facility, self.beds = self.add_facility(
            _env.BENCH_FACILITY, TZ_NAME, units, address="1 Benchmark Road, Asheville, NC 28801"
        )
        self.tz = self.facility.tz
        self.items = OrientationItem.objects.bulk_create(
            OrientationItem(facility=self.facility, label=label, position=i)
            for i, label in enumerate(ORIENTATION_ITEMS)
        )
        self.staff = self.add_staff(self.facility, "", STAFF, totp=("supervisor", "admin"))

    # stays

    def plan_stays(self):
        rng = self.rng
        level_pairs = [(k, v[0]) for k, v in LEVELS.items()]
        stays: list[Stay] = []
        for bed in self.beds:
            t = self.window_start - timedelta(days=rng.uniform(0, 25))
            while True:
                level = weighted(rng, level_pairs)
                low, high, mode = LEVELS[level][1]
                end = t + timedelta(days=rng.triangular(low, high, mode))
                if end >= self.now - timedelta(hours=1):
                    stays.append(Stay(bed=bed, level=level, start=minute(t), end=None))
                    break
                stays.append(Stay(bed=bed, level=level, start=minute(t), end=minute(end)))
                if rng.random() < 0.75:
                    gap = timedelta(hours=rng.uniform(2, 30))
                else:
                    gap = timedelta(days=rng.uniform(1, 6))
                nxt = end + gap
                latest = self.now - timedelta(hours=rng.uniform(2, 20))
                if nxt > latest:  # keep every bed occupied now
                    nxt = max(end + timedelta(hours=1), latest)
                t = nxt
        stays.sort(key=lambda s: (s.start, s.bed.pk))
        self.stays = stays
        self.current = [s for s in stays if s.end is None]

        # The long-history client: the longest current stay, and 8 earlier stays a year back.
        lh_current = min(self.current, key=lambda s: s.start)
        lh_current.long_history = True
        picked, last_end = [lh_current], None
        for s in stays:
            if s.end is None or s.end > lh_current.start - timedelta(days=5):
                continue
            if last_end is None or s.start > last_end + timedelta(days=14):
                picked.append(s)
                last_end = s.end
            if len(picked) == 9:
                break
        for s in picked:
            s.long_history = True

        # Clients: a new person, or (7%) the readmission of someone discharged 3+ days before.
        self.clients: list[dict] = []
        lh_index = self._new_client()
        released: list[tuple[datetime, int]] = []
        available: list[int] = []
        for s in stays:
            while released and released[0][0] < s.start - timedelta(days=3):
                available.append(heapq.heappop(released)[1])
            if s.long_history:
                s.client = lh_index
                continue
            if available and rng.random() < 0.07:
                s.client = available.pop(rng.randrange(len(available)))
            else:
                s.client = self._new_client()
            if s.end is not None:
                heapq.heappush(released, (s.end, s.client))

        # Open leaves: 8 admitted clients off site right now.
        candidates = [
            s
            for s in self.current
            if s.level != "3.7-WM" and s.start < self.now - timedelta(days=1) and not s.long_history
        ]
        for s in rng.sample(candidates, min(8, len(candidates))):
            s.open_leave_at = minute(self.now - timedelta(hours=rng.uniform(0.5, 8)))

        # Where each bed's occupants are, for picking "a client in house at time t".
        self.bed_timeline: dict[int, tuple[list[datetime], list[Stay]]] = {}
        for s in stays:
            starts, ss = self.bed_timeline.setdefault(s.bed.pk, ([], []))
            starts.append(s.start)
            ss.append(s)

    def _new_client(self) -> int:
        self.clients.append(self.person())
        return len(self.clients) - 1

    def occupant(self, t: datetime):
        """The stay of a random bed's occupant at time t, or None if that bed was empty."""
        bed = self.rng.choice(self.beds)
        starts, ss = self.bed_timeline[bed.pk]
        i = bisect.bisect_right(starts, t) - 1
        if i < 0:
            return None
        s = ss[i]
        if s.end is not None and t >= s.end:
            return None
        return s

    # writes

    def write_clients_and_admissions(self):
        from clients.models import Admission

        rng = self.rng
        first_start: dict[int, datetime] = {}
        for s in self.stays:
            first_start.setdefault(s.client, s.start)
        order = sorted(range(len(self.clients)), key=lambda i: first_start[i])
        made = self.add_clients(self.facility, [self.clients[i] for i in order], "H")
        self.client_objs = [None] * len(self.clients)
        for i, obj in zip(order, made, strict=True):
            self.client_objs[i] = obj

        nurses, sups = self.staff["nurse"], self.staff["supervisor"]
        admissions = []
        for s in self.stays:
            a = Admission(public_id=self.uid(), client=self.client_objs[s.client],
                          facility=self.facility, unit_id=s.bed.unit_id, bed=s.bed,
                          level_of_care=s.level, admitted_at=s.start,
                          admitted_by=rng.choice(nurses))  # fmt: skip
            if s.end is not None:
                a.discharged_at = s.end
                a.discharge_type = weighted(rng, [(k, v[0]) for k, v in DISCHARGES.items()])
                a.discharged_by = rng.choice(nurses + sups)
                if a.discharge_type != "completed" and rng.random() < 0.6:
                    a.discharge_note = DISCHARGES[a.discharge_type][1]
            s.admission = a
            admissions.append(a)
        Admission.objects.bulk_create(admissions, batch_size=2000)
        # Clients were "created" at their first admission, not when this script ran.
        _env.sql(
            """UPDATE clients_client c SET created_at = f.first_at - interval '10 minutes'
               FROM (SELECT client_id, min(admitted_at) AS first_at
                     FROM clients_admission GROUP BY client_id) f
               WHERE f.client_id = c.id AND c.facility_id = %s""",
            [self.facility.pk],
        )

    def write_bed_moves(self):
        from clients.models import BedMove

        rng = self.rng
        moves = []
        for s in self.stays:
            a = s.admission
            end = s.end or self.now
            hours = (end - s.start).total_seconds() / 3600
            if s.long_history and s.end is None:
                n = 12
            elif hours > 72 and rng.random() < 0.12:
                n = 2 if rng.random() < 0.2 else 1
            else:
                n = 0
            chain = [s.bed]
            for _ in range(n):  # earlier beds, walking back from the current one
                chain.insert(0, rng.choice([b for b in self.beds if b.pk != chain[0].pk]))
            times = sorted(
                s.start + timedelta(hours=rng.uniform(12, max(13.0, hours - 12))) for _ in range(n)
            )
            who = self.staff["nurse"] + self.staff["supervisor"]
            moves.append(
                BedMove(admission=a, to_bed=chain[0], moved_at=s.start, moved_by=a.admitted_by)
            )
            for i, at in enumerate(times):
                moves.append(BedMove(admission=a, from_bed=chain[i], to_bed=chain[i + 1],
                                     moved_at=minute(at), moved_by=rng.choice(who),
                                     reason=rng.choice(MOVE_REASONS)))  # fmt: skip
        BedMove.objects.bulk_create(moves, batch_size=5000)
        self.n_moves = len(moves)

    def write_leaves(self):
        from clients.models import Leave

        rng = self.rng
        kind_pairs = [(k, v[0]) for k, v in LEAVE_KINDS.items()]
        techs = self.staff["technician"]
        leaves = []
        self.late_leaves = []  # (leave, stay): returned late, or still out past expected
        for s in self.stays:
            if s.level == "3.7-WM":
                continue  # withdrawal management: nobody leaves the unit
            bound = s.open_leave_at or s.end or self.now
            days = (bound - s.start).total_seconds() / 86400
            n = int(days * 0.6) if s.long_history and s.end is None else poisson(rng, days / 6)
            lo, hi = s.start + timedelta(hours=24), bound - timedelta(hours=6)
            if n == 0 or hi <= lo:
                n = 0
            span = (hi - lo).total_seconds() if n else 0
            prev_back = lo
            for off in sorted(rng.uniform(0, span) for _ in range(n)):
                left = minute(lo + timedelta(seconds=off))
                if left < prev_back + timedelta(minutes=30):
                    continue
                kind = weighted(rng, kind_pairs)
                _, (ph_lo, ph_hi), dests = LEAVE_KINDS[kind]
                planned = timedelta(hours=rng.uniform(ph_lo, ph_hi))
                expected = minute(left + planned)
                factor = rng.uniform(1.2, 2.0) if rng.random() < 0.1 else rng.uniform(0.7, 1.1)
                back = minute(left + planned * factor)
                if back > bound - timedelta(hours=1):
                    back = minute(bound - timedelta(hours=1))
                if back < left:
                    continue
                leave = Leave(public_id=self.uid(), admission=s.admission, kind=kind,
                              destination=rng.choice(dests), left_at=left,
                              expected_back_at=expected, returned_at=back,
                              recorded_by=rng.choice(techs),
                              returned_recorded_by=rng.choice(techs))  # fmt: skip
                leaves.append(leave)
                if back > expected + timedelta(minutes=30):
                    self.late_leaves.append((leave, s))
                prev_back = back
            if s.open_leave_at is not None:
                kind = weighted(rng, [(k, w) for k, w in kind_pairs if k != "trip"])
                _, (ph_lo, ph_hi), dests = LEAVE_KINDS[kind]
                expected = minute(s.open_leave_at + timedelta(hours=rng.uniform(ph_lo, ph_hi)))
                leave = Leave(public_id=self.uid(), admission=s.admission, kind=kind,
                              destination=rng.choice(dests), left_at=s.open_leave_at,
                              expected_back_at=expected, recorded_by=rng.choice(techs))  # fmt: skip
                leaves.append(leave)
                if expected + timedelta(minutes=30) < self.now:
                    self.late_leaves.append((leave, s))
        Leave.objects.bulk_create(leaves, batch_size=5000)
        self.n_leaves = len(leaves)
        self.n_open_leaves = sum(1 for lv in leaves if lv.returned_at is None)

    def write_orientation_and_alerts(self):
        from clients.models import OrientationTick
        from facility.models import Alert

        rng, now, tz = self.rng, self.now, self.tz
        techs = self.staff["technician"]
        resolvers = self.staff["nurse"] + self.staff["supervisor"]
        ticks, alerts, open_keys = [], [], set()

        def alert(s, kind, message, key, raised, *, severity="warning", resolve=True, note=None,
                  resolved=None):  # fmt: skip
            """resolve: resolved 5–90 minutes after being raised, with `note` or a random one
            (open if that time has not come); else resolved at `resolved` (None: open)."""
            client = self.client_objs[s.client]
            if resolve:
                resolved = raised + timedelta(minutes=rng.uniform(5, 90))
                resolved = resolved if resolved < now else None  # too recent to be handled yet
            if resolved is None:
                if key in open_keys:
                    return
                open_keys.add(key)
            alerts.append(Alert(
                public_id=self.uid(), facility=self.facility, client_public_id=client.public_id,
                client_label=client.mrn, kind=kind, severity=severity, message=message,
                dedupe_key=key, raised_at=raised, resolved_at=resolved,
                resolved_by=rng.choice(resolvers) if resolved else None,
                resolution_note=(note or rng.choice(RESOLUTION_NOTES)) if resolved else "",
            ))  # fmt: skip

        deadline = timedelta(hours=24)
        for s in self.stays:
            recent = s.end is None and s.start > now - deadline
            complete = rng.random() < (0.5 if recent else 0.92)
            done = self.items if complete else self.items[: rng.randint(0, len(self.items) - 1)]
            t, n_done = s.start, 0
            for item in done:
                t = t + timedelta(minutes=rng.uniform(10, 150))
                if t >= now or (s.end is not None and t >= s.end):
                    break
                ticks.append(OrientationTick(admission=s.admission, item=item, ticked_at=t,
                                             ticked_by=rng.choice(techs)))  # fmt: skip
                n_done += 1
            if n_done < len(self.items) and s.start + deadline < now:
                name = self.client_objs[s.client].display_name
                alert(s, "orientation_overdue",
                      f"Orientation checklist for {name} not complete 24 hours after admission "
                      f"({n_done} of {len(self.items)} items).",
                      f"orientation:{s.admission.public_id}",
                      s.start + deadline + timedelta(seconds=rng.uniform(0, 60)),
                      resolve=s.end is not None,
                      note="Orientation completed with client.")  # fmt: skip

        for leave, s in self.late_leaves:
            back = leave.returned_at
            alert(s, "leave_overdue",
                  f"{self.client_objs[s.client].display_name} is not back from {leave.kind}: "
                  f"expected {leave.expected_back_at.astimezone(tz):%H:%M}.",
                  f"leave_overdue:{leave.public_id}",
                  leave.expected_back_at + timedelta(minutes=30), resolve=False, resolved=back,
                  note=back and f"Client returned at {back.astimezone(tz):%H:%M}.")  # fmt: skip

        # Missed round checks and overdue doses over the year (the later apps' scans), mostly
        # resolved; a few from the last hours still open.
        span = (now - self.window_start).total_seconds()
        for kind, severity, per_day, open_now, prefix, text in HISTORY_ALERTS:
            history = per_day * self.days
            for i in range(history + open_now):
                if i < history:
                    at = self.window_start + timedelta(seconds=rng.uniform(0, span))
                    s, at = self.occupant(at), minute(at)
                else:
                    s = rng.choice(self.current)
                    at = minute(now - timedelta(minutes=rng.uniform(5, 120)))
                if s is None:
                    continue
                local = at.astimezone(tz)
                message = text.format(self.client_objs[s.client].display_name, local)
                key = f"{prefix}:{s.admission.public_id}:{local:%Y%m%dT%H%M}"
                alert(s, kind, message, key, at, severity=severity, resolve=i < history)

        OrientationTick.objects.bulk_create(ticks, batch_size=5000)
        Alert.objects.bulk_create(alerts, batch_size=5000)
        self.n_ticks = len(ticks)
        self.n_alerts = len(alerts)
        self.n_open_alerts = sum(1 for a in alerts if a.resolved_at is None)

    # the access log

    def plan_access_events(self) -> list[tuple]:
        """Shifts of staff logging in and out, failing to, printing, and reading charts."""
        from facility.shifts import shifts_for

        rng, tz, staff = self.rng, self.tz, self.staff
        stations = [f"10.20.{u}.{n}" for u in range(1, 5) for n in range(11, 19)]
        nursing = [f"10.20.9.{n}" for n in range(11, 15)]
        events: list[tuple] = []
        shifts = []  # (start, end, [users]) on the facility's shift pattern
        day = self.window_start.astimezone(tz).date() - timedelta(days=1)
        while day <= self.now.astimezone(tz).date():
            weekday = day.weekday() < 5
            for k, shift in enumerate(shifts_for(self.facility.shift_pattern)):
                start, end = self.facility.shift_bounds(day, shift.key)
                on = []
                for role, n in ON_SHIFT[shift.key].items():
                    if role == "clinician" and not weekday:
                        n = min(n, 1)
                    on += rng.sample(staff[role], n)
                if k == 0 and weekday:
                    on.append(rng.choice(staff["admin"]))
                shifts.append((start, end, on))
            day += timedelta(days=1)

        def add(at, user, action, ip, what="", *, client=None, outcome="ok", username=None):
            if not (self.window_start <= at < self.now - timedelta(minutes=1)):
                return
            fac = self.facility.pk if client is not None or action in ("view", "print") else None
            events.append((
                at, user.pk if user else None, user.username if user else username,
                user.role if user else "", fac, client.public_id if client is not None else None,
                client.mrn if client is not None else "", action, what, ip, outcome,
            ))  # fmt: skip

        readers = []  # (shift, user, weight) for chart views
        weights = {"technician": 1.0, "nurse": 1.4, "clinician": 1.6, "supervisor": 0.8}
        for start, end, on in shifts:
            length = (end - start).total_seconds()  # 8 hours, or 7 or 9 across a DST change
            for user in on:
                ip = rng.choice(nursing if user.role in ("nurse", "supervisor") else stations)
                sessions = rng.randint(2, 6)  # the 15-minute idle timeout logs people out
                marks = sorted(rng.uniform(-900, length) for _ in range(sessions))
                for i, m in enumerate(marks):
                    add(start + timedelta(seconds=m), user, "login", ip)
                    nxt = marks[i + 1] if i + 1 < len(marks) else length + 900
                    if rng.random() < 0.8:
                        at = start + timedelta(seconds=rng.uniform(m + 60, max(m + 61, nxt - 5)))
                        add(at, user, "logout", ip)
                if user.role in weights:
                    readers.append((start, end, user, ip, weights[user.role]))
            printer = next((u for u in on if u.role in ("nurse", "supervisor")), None)
            if printer is not None:
                at = start + timedelta(minutes=rng.uniform(5, 40))
                add(at, printer, "print", rng.choice(nursing), "Census")
            for _ in range(poisson(rng, 0.7)):
                typo = rng.choice(on).username + rng.choice(["", "1", "x"])
                at = start + timedelta(seconds=rng.uniform(0, length))
                add(at, None, "login_failed", rng.choice(stations), outcome="failed", username=typo)
        # A few account events by the admins over the year: lost phones (MFA reset) and leaves
        # of absence (deactivated, later reactivated).
        for _ in range(12):
            at = self.window_start + timedelta(days=rng.uniform(0, self.days))
            what = f"reset MFA of {rng.choice(staff['supervisor']).username}"
            add(at, rng.choice(staff["admin"]), "mfa_reset", rng.choice(nursing), what)
        for _ in range(10):
            at = self.window_start + timedelta(days=rng.uniform(0, self.days - 30))
            who = rng.choice(staff["technician"] + staff["nurse"]).username
            what = f"deactivated {who}; ended {rng.randint(0, 2)} sessions"
            add(at, rng.choice(staff["admin"]), "deactivate", rng.choice(nursing), what)
            at += timedelta(days=rng.uniform(3, 28))
            what = f"reactivated {who}"
            add(at, rng.choice(staff["admin"]), "role_change", rng.choice(nursing), what)

        # Chart views fill the rest, spread over staff-shifts by role weight.
        n_views = max(0, self.events_target - len(events))
        cum = list(itertools.accumulate(r[4] for r in readers))
        made = tries = 0
        while made < n_views and tries < n_views * 3:
            tries += 1
            start, end, user, ip, _ = readers[bisect.bisect_left(cum, rng.uniform(0, cum[-1]))]
            at = start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))
            if not (self.window_start <= at < self.now - timedelta(minutes=1)):
                continue
            s = self.occupant(at)
            if s is None:
                continue
            before = len(events)
            add(at, user, "view", ip, "client chart", client=self.client_objs[s.client])
            made += len(events) - before
        events.sort(key=lambda e: e[0])
        return events

    def write_access_events(self, events: list[tuple], batch: int = 5000) -> None:
        from django.db import connection

        from facility.models import AccessEvent
        from facility.services import GENESIS_HASH

        prev = AccessEvent.objects.order_by("-id").values_list("row_hash", flat=True).first()
        prev = prev or GENESIS_HASH
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
        names = EVENT_FIELDS.split()
        for i in range(0, len(events), batch):
            objs = []
            for event in events[i : i + batch]:
                e = AccessEvent(**dict(zip(names, event, strict=True)), prev_hash=prev)
                e.row_hash = prev = e.content_digest(prev)
                objs.append(e)
            AccessEvent.objects.bulk_create(objs, batch_size=batch)
        self.n_events = len(events)


def long_history_client(facility):
    """The admitted client with the most stays, then the most leaves (as run.py picks it)."""
    from django.db.models import Count

    from clients.models import Admission, Client

    admitted = Admission.objects.filter(facility=facility, discharged_at__isnull=True)
    return (
        Client.objects.filter(id__in=admitted.values("client_id"))
        .annotate(stays=Count("admissions", distinct=True), leaves=Count("admissions__leaves"))
        .order_by("-stays", "-leaves", "id")
        .first()
    )


def write_vitals(*, seed: int) -> int:
    """Vital signs every 4 hours through every stay of the long-history client (issue 11: the
    chart with a year of vitals): mostly normal, ~5% of sets with a withdrawal spike (flagged
    HR, BP, temperature), ~3% without BP (incomplete NEWS2), ~0.5% struck as entered in error.
    Its own rng, run last: the rest of the data is the same with or without it. Does nothing if
    the facility already has vitals."""
    import random
    from decimal import Decimal

    from clients.models import Admission
    from facility.models import Facility, User
    from observations import scales
    from observations.models import VitalSigns

    facility = Facility.objects.get(name=_env.BENCH_FACILITY)
    if VitalSigns.objects.filter(admission__facility=facility).exists():
        return 0
    rng = random.Random(seed * 31 + 11)
    now = minute(datetime.now(facility.tz))
    client = long_history_client(facility)
    staff = list(User.objects.filter(username__regex=r"^(tech|nurse)\d+$").order_by("username"))
    rows = []
    for a in Admission.objects.filter(client=client).order_by("admitted_at"):
        t = a.admitted_at + timedelta(minutes=30)
        end = a.discharged_at or now
        hr, sbp = 78.0, 122.0
        while t < end:
            taken = minute(t + timedelta(minutes=rng.uniform(-20, 20)))
            t += timedelta(hours=4)
            if taken >= end or taken < a.admitted_at:
                continue
            hr = min(110, max(58, hr + rng.gauss(0, 4)))
            sbp = min(150, max(100, sbp + rng.gauss(0, 4)))
            v = {"hr": round(hr), "sbp": round(sbp), "dbp": round(sbp * 0.63),
                 "rr": rng.choice([14, 16, 16, 18, 18, 20]),
                 "spo2": rng.choice([95, 96, 97, 98, 99]),
                 "temp_c": Decimal(str(round(rng.uniform(36.2, 37.2), 1))), "acvpu": "A",
                 "on_oxygen": False}  # fmt: skip
            if rng.random() < 0.05:  # withdrawal: tachycardic, hypertensive, febrile
                v.update(hr=rng.randint(121, 140), sbp=rng.randint(180, 200),
                         dbp=rng.randint(95, 115), rr=22,
                         temp_c=Decimal(str(round(rng.uniform(38.0, 38.6), 1))))  # fmt: skip
            if rng.random() < 0.03:
                v["sbp"] = v["dbp"] = None
            score = scales.news2(rr=v["rr"], spo2=v["spo2"], on_oxygen=False, sbp=v["sbp"],
                                 hr=v["hr"], acvpu="A", temp_c=v["temp_c"])  # fmt: skip
            by = rng.choice(staff)
            row = VitalSigns(
                public_id=uuid.UUID(int=rng.getrandbits(128), version=4), admission=a,
                taken_at=taken, recorded_at=taken + timedelta(minutes=rng.randint(1, 9)),
                recorded_by=by, **v, news2_total=score.total, news2_band=score.band,
                news2_red=score.red, flags=",".join(scales.flags(v)),
            )  # fmt: skip
            if rng.random() < 0.005:
                row.struck_at, row.struck_by = row.recorded_at + timedelta(minutes=5), by
                row.struck_reason = "Entered on the wrong client"
            rows.append(row)
    VitalSigns.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def main(argv=None) -> int:
    p = parser(__doc__, "days of history (default 365)")
    p.add_argument("--events", type=int, default=300_000, help="access events (default 300k)")
    p.add_argument("--no-verify", action="store_true", help="skip verifying the access chain")
    args = p.parse_args(argv)

    def complete() -> bool:
        from facility.models import AccessEvent

        return AccessEvent.objects.filter(facility__name=_env.BENCH_FACILITY).exists()

    started = prepare(args.force, _env.BENCH_FACILITY, complete, 34)
    if started is None:
        # Made before vitals existed: add them (and nothing else) without a rebuild.
        from django.db import transaction

        with transaction.atomic():
            n = write_vitals(seed=args.seed)
        if n:
            print(f"Added {n:,} vital-sign sets to the long-history client")
        return 0
    from django.db import transaction

    from clients.models import Admission, Client

    print(f"Generating into {_env.database_name()} (seed {args.seed}, {args.days} days)")
    gen = Generator(seed=args.seed, days=args.days, events=args.events)
    with transaction.atomic():
        gen.make_facility_and_staff()
        gen.lap("facility, beds, staff")
        gen.plan_stays()
        gen.write_clients_and_admissions()
        gen.lap("clients + admissions")
        gen.write_bed_moves()
        gen.write_leaves()
        gen.write_orientation_and_alerts()
        gen.lap("bed moves, leaves, ticks, alerts")
        events = gen.plan_access_events()
        gen.lap(f"plan {len(events):,} access events")
        gen.write_access_events(events)
        gen.lap("write access events (hash chain)")
        gen.n_vitals = write_vitals(seed=args.seed)
        gen.lap(f"{gen.n_vitals:,} vital-sign sets")
    gen.vacuum()
    generated = time.perf_counter() - started

    lh = gen.client_objs[next(s for s in gen.current if s.long_history).client]
    print(
        f"\n{Client.objects.count():,} clients ({len(gen.current)} admitted now), "
        f"{Admission.objects.count():,} admissions, {gen.n_moves:,} bed moves, "
        f"{gen.n_leaves:,} leaves ({gen.n_open_leaves} open), {gen.n_ticks:,} orientation "
        f"ticks, {gen.n_alerts:,} alerts ({gen.n_open_alerts} open), {gen.n_events:,} access "
        f"events; long-history client {lh.mrn}, "
        f"{Admission.objects.filter(client=lh).count()} stays. Generated in {generated:.1f} s"
    )
    if not args.no_verify:
        from facility.services import access_chain_verify

        t = time.perf_counter()
        broken = access_chain_verify()
        if broken is not None:
            print(f"ACCESS CHAIN BROKEN at event {broken.pk}")
            return 1
        print(f"Access chain verified in {time.perf_counter() - t:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
