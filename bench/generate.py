#!/usr/bin/env python
"""Generate a year of realistic volume for the benchmarks, in a database of its own.

Shape (defaults): one facility (America/New_York), 4 units x 30 beds, every bed occupied now
(120 admitted clients), and a year of history behind them: ~1,700 discharged stays of ~1,500
past clients (some readmitted), bed moves, leaves off site (a few still open), orientation
checklist ticks, open and resolved alerts, and ~300,000 hash-chained access events (logins,
logouts, failed logins, chart views, prints). Staff: 24 technicians, 12 nurses, 6 clinicians,
3 supervisors, 2 admins. One client ("long history") has 8 earlier stays and a long current stay
with many bed moves and leaves; bench/run.py charts that client.

Rows are written with bulk_create, bypassing the services (and their back-dating limits), but
every database constraint holds and the access-log chain verifies (each row's digest is made by
AccessEvent.content_digest over the previous row's, exactly as facility.services.access_log does).

    .venv/bin/python bench/generate.py            # create haven_bench, migrate, fill (once)
    .venv/bin/python bench/generate.py --force    # drop haven_bench and build it again

DATABASE_URL (default postgres://postgres@127.0.0.1:5432/haven_bench) picks the database; its name
must contain "bench". The same --seed gives the same shape; exact counts vary a little with the
time of day it is run at (times are relative to now).
"""

import argparse
import bisect
import heapq
import io
import math
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _env  # noqa: E402

TZ_NAME = "America/New_York"
PASSWORD = "haven-bench-pass-2026"
UNITS = [("North Hall", "N"), ("South Hall", "S"), ("East Wing", "E"), ("West Wing", "W")]
ROOMS_PER_UNIT = 15  # two beds (A, B) a room: 30 beds a unit
STAFF = [  # role, username prefix, how many, credentials
    ("technician", "tech", 24, "BHT"),
    ("nurse", "nurse", 12, "RN"),
    ("clinician", "clin", 6, "LCSW"),
    ("supervisor", "sup", 3, "RN"),
    ("admin", "admin", 2, ""),
]
ORIENTATION_ITEMS = [
    "Tour of the unit and emergency exits",
    "Client rights and grievance procedure",
    "Confidentiality (42 CFR Part 2) explained",
    "Program rules, schedule and visiting hours",
    "Belongings search explained and inventory signed",
    "Medication times and how to ask for PRN",
]
FIRST = (  # noqa: SIM905 (a list literal of 60 names would be 60 lines)
    "Avery Blake Casey Devon Emerson Finley Gray Harper Indigo Jesse Kai Logan Morgan Noel Oakley "
    "Parker Quinn Reese Rowan Sage Tatum Wren Alex Jamie Taylor Jordan Riley Cameron Drew Skyler "
    "Hayden Peyton Dakota Elliot Frankie Jules Kendall Lane Marlowe Nico Remy Shawn Toby Val "
    "Ari Bo Cody Dana Eden Fran Glen Hollis Ira Jody Kit Lee Mel Pat Robin Sam"
).split()
LAST = (  # noqa: SIM905
    "Ashby Brennan Calloway Dunmore Ellery Fairbanks Galloway Hollis Iverson Jessup Kingsley "
    "Lockhart Merriweather Northcott Oswald Prescott Quimby Radcliffe Stroud Thackeray Underhill "
    "Vance Whitlock Yardley Abbott Barlow Crane Delacroix Easton Fenwick Garrison Holloway Ingram "
    "Jarvis Keller Langford Maddox Nash Ogden Pembroke Rutherford Sinclair Talbot Upton Vaughn "
    "Wainwright Yates Zeller Ainsley Beckett Corbin Darrow Ellison Fitch Gentry Harlow Irving "
    "Jasper Kerr Lowell"
).split()
ALLERGIES = ["NKDA"] * 6 + ["Penicillin", "Sulfa drugs", "Codeine", "Latex\nPeanuts", ""]
# Level of care: weight, length of stay in days (low, high, mode).
LEVELS = {
    "3.7-WM": (0.22, (3, 8, 5)),
    "3.5": (0.35, (14, 45, 28)),
    "3.7": (0.18, (7, 28, 14)),
    "3.1": (0.15, (21, 90, 45)),
    "MH-RES": (0.10, (14, 60, 30)),
}
DISCHARGE_TYPES = [
    ("completed", 0.55),
    ("ama", 0.20),
    ("transfer", 0.12),
    ("administrative", 0.05),
    ("hospital", 0.05),
    ("other", 0.03),
]
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
    "Dose given; late due to client in session.",
    "Client returned; searched per policy.",
    "Orientation completed with client.",
]


def uid(rng) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def minute(dt: datetime) -> datetime:
    return dt.replace(second=0, microsecond=0)


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


# --- the database -----------------------------------------------------------------------------


# --- the plan: stays on beds over the year ----------------------------------------------------


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


class Generator:
    def __init__(self, *, seed: int, days: int, events: int):
        import random

        from django.utils import timezone

        self.rng = random.Random(seed)
        self.days = days
        self.events_target = events
        self.now = timezone.now()
        self.window_start = self.now - timedelta(days=days)
        self.timings: list[tuple[str, float]] = []
        self._t = time.perf_counter()

    def lap(self, label: str) -> None:
        t = time.perf_counter()
        self.timings.append((label, t - self._t))
        print(f"  {label:<34} {t - self._t:6.1f} s", flush=True)
        self._t = t

    # facility, beds, staff

    def make_facility(self):
        from clients.models import OrientationItem
        from facility.models import Bed, Facility, Unit

        rng = self.rng
        self.facility = Facility.objects.create(
            public_id=uid(rng),
            name=_env.BENCH_FACILITY,
            time_zone=TZ_NAME,
            address="1 Benchmark Road, Asheville, NC 28801",
        )
        self.tz = self.facility.tz
        self.units = Unit.objects.bulk_create(
            Unit(public_id=uid(rng), facility=self.facility, name=name) for name, _ in UNITS
        )
        beds = []
        for unit, (_, prefix) in zip(self.units, UNITS, strict=True):
            for room in range(1, ROOMS_PER_UNIT + 1):
                for side in "AB":
                    beds.append(
                        Bed(public_id=uid(rng), unit=unit, label=f"{prefix}{100 + room}-{side}")
                    )
        self.beds = Bed.objects.bulk_create(beds)
        self.items = OrientationItem.objects.bulk_create(
            OrientationItem(facility=self.facility, label=label, position=i)
            for i, label in enumerate(ORIENTATION_ITEMS)
        )

    def make_staff(self):
        from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
        from django.contrib.auth.hashers import make_password

        from facility.models import User
        from facility.services import user_sync_role_group

        rng = self.rng
        hashed = make_password(PASSWORD)  # one hash for all: PBKDF2 is slow on purpose
        self.staff: dict[str, list] = {}
        names = rng.sample([(f, last) for f in FIRST for last in LAST], sum(s[2] for s in STAFF))
        for role, prefix, count, creds in STAFF:
            people = []
            for n in range(1, count + 1):
                first, last = names.pop()
                user = User(
                    public_id=uid(rng),
                    username=f"{prefix}{n:02d}",
                    email=f"{prefix}{n:02d}@bench.haven.invalid",
                    full_name=f"{first} {last}",
                    initials=f"{first[0]}{last[0]}",
                    credentials=creds,
                    role=role,
                    password=hashed,
                )
                user.save()
                user.facilities.add(self.facility)
                user_sync_role_group(user)
                if role in ("supervisor", "admin"):
                    TOTP.activate(user, generate_totp_secret())
                people.append(user)
            self.staff[role] = people

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
        rng = self.rng
        first, last = rng.choice(FIRST), rng.choice(LAST)
        self.clients.append(
            {
                "legal_first_name": first,
                "legal_last_name": last,
                "preferred_name": rng.choice(["", "", "", "", first[:3]]),
                "date_of_birth": date(1958, 1, 1) + timedelta(days=rng.randint(0, 365 * 47)),
                "sex": rng.choice(["F", "F", "M", "M", "M", "X", "U"]),
                "pronouns": rng.choice(["she/her", "he/him", "they/them", "", ""]),
                "allergies": rng.choice(ALLERGIES),
                "emergency_contact_name": f"{rng.choice(FIRST)} {last}",
                "emergency_contact_relationship": rng.choice(
                    ["Parent", "Sibling", "Partner", "Friend"]
                ),
                "emergency_contact_phone": f"828-555-{rng.randint(0, 9999):04d}",
            }
        )
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
        from clients.models import Admission, Client, MrnSequence

        rng = self.rng
        first_start: dict[int, datetime] = {}
        for s in self.stays:
            first_start.setdefault(s.client, s.start)
        order = sorted(range(len(self.clients)), key=lambda i: first_start[i])
        objs: list = [None] * len(self.clients)
        for number, i in enumerate(order, start=1):
            objs[i] = Client(
                public_id=uid(rng),
                facility=self.facility,
                mrn=f"H{self.facility.pk:02d}-{number:06d}",
                **self.clients[i],
            )
        Client.objects.bulk_create([objs[i] for i in order], batch_size=2000)
        self.client_objs = objs
        MrnSequence.objects.create(facility=self.facility, last_number=len(objs))

        nurses, sups = self.staff["nurse"], self.staff["supervisor"]
        admissions = []
        for s in self.stays:
            a = Admission(
                public_id=uid(rng),
                client=objs[s.client],
                facility=self.facility,
                unit_id=s.bed.unit_id,
                bed=s.bed,
                level_of_care=s.level,
                admitted_at=s.start,
                admitted_by=rng.choice(nurses),
            )
            if s.end is not None:
                a.discharged_at = s.end
                a.discharge_type = weighted(rng, DISCHARGE_TYPES)
                a.discharged_by = rng.choice(nurses + sups)
                if a.discharge_type != "completed" and rng.random() < 0.6:
                    a.discharge_note = {
                        "ama": "Client chose to leave; risks explained, declined to stay.",
                        "transfer": "Stepped down to a lower level of care.",
                        "administrative": "Discharged for repeated program rule violations.",
                        "hospital": "Sent to the ED by EMS; bed released.",
                        "other": "See clinical record.",
                    }[a.discharge_type]
            s.admission = a
            admissions.append(a)
        Admission.objects.bulk_create(admissions, batch_size=2000)
        # Clients were "created" at their first admission, not when this script ran.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE clients_client c SET created_at = f.first_at - interval '10 minutes'
                FROM (SELECT client_id, min(admitted_at) AS first_at
                      FROM clients_admission GROUP BY client_id) f
                WHERE f.client_id = c.id AND c.facility_id = %s
                """,
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
                moves.append(
                    BedMove(
                        admission=a,
                        from_bed=chain[i],
                        to_bed=chain[i + 1],
                        moved_at=minute(at),
                        moved_by=rng.choice(who),
                        reason=rng.choice(
                            [
                                "Roommate conflict",
                                "Closer to nursing station",
                                "Maintenance in room",
                                "Step-down",
                                "",
                            ]
                        ),
                    )
                )
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
                leave = Leave(
                    public_id=uid(rng),
                    admission=s.admission,
                    kind=kind,
                    destination=rng.choice(dests),
                    left_at=left,
                    expected_back_at=expected,
                    returned_at=back,
                    recorded_by=rng.choice(techs),
                    returned_recorded_by=rng.choice(techs),
                )
                leaves.append(leave)
                if back > expected + timedelta(minutes=30):
                    self.late_leaves.append((leave, s))
                prev_back = back
            if s.open_leave_at is not None:
                kind = weighted(rng, [(k, w) for k, w in kind_pairs if k != "trip"])
                _, (ph_lo, ph_hi), dests = LEAVE_KINDS[kind]
                expected = minute(s.open_leave_at + timedelta(hours=rng.uniform(ph_lo, ph_hi)))
                leave = Leave(
                    public_id=uid(rng),
                    admission=s.admission,
                    kind=kind,
                    destination=rng.choice(dests),
                    left_at=s.open_leave_at,
                    expected_back_at=expected,
                    recorded_by=rng.choice(techs),
                )
                leaves.append(leave)
                if expected + timedelta(minutes=30) < self.now:
                    self.late_leaves.append((leave, s))
        Leave.objects.bulk_create(leaves, batch_size=5000)
        self.n_leaves = len(leaves)
        self.n_open_leaves = sum(1 for lv in leaves if lv.returned_at is None)

    def write_orientation_and_alerts(self):
        from clients.models import OrientationTick
        from facility.models import Alert

        rng = self.rng
        techs = self.staff["technician"]
        resolvers = self.staff["nurse"] + self.staff["supervisor"]
        ticks, alerts = [], []
        open_keys: set[str] = set()

        def alert(s, *, kind, severity, message, key, raised, resolve=True, note=None):
            client = self.client_objs[s.client]
            resolved = raised + timedelta(minutes=rng.uniform(5, 90)) if resolve else None
            if resolved is not None and resolved >= self.now:
                resolved = None  # too recent to be handled yet
            if resolved is None:
                if key in open_keys:
                    return
                open_keys.add(key)
            alerts.append(
                Alert(
                    public_id=uid(rng),
                    facility=self.facility,
                    client_public_id=client.public_id,
                    client_label=client.mrn,
                    kind=kind,
                    severity=severity,
                    message=message,
                    dedupe_key=key,
                    raised_at=raised,
                    resolved_at=resolved,
                    resolved_by=rng.choice(resolvers) if resolved else None,
                    resolution_note=(note or rng.choice(RESOLUTION_NOTES)) if resolved else "",
                )
            )

        deadline = timedelta(hours=24)
        for s in self.stays:
            client = self.client_objs[s.client]
            recent = s.end is None and s.start > self.now - deadline
            complete = rng.random() < (0.5 if recent else 0.92)
            done = self.items if complete else self.items[: rng.randint(0, len(self.items) - 1)]
            t, n_done = s.start, 0
            for item in done:
                t = t + timedelta(minutes=rng.uniform(10, 150))
                if t >= self.now or (s.end is not None and t >= s.end):
                    break
                ticks.append(
                    OrientationTick(
                        admission=s.admission, item=item, ticked_at=t, ticked_by=rng.choice(techs)
                    )
                )
                n_done += 1
            if n_done < len(self.items) and s.start + deadline < self.now:
                alert(
                    s,
                    kind="orientation_overdue",
                    severity="warning",
                    message=(
                        f"Orientation checklist for {client.display_name} not complete 24 hours "
                        f"after admission ({n_done} of {len(self.items)} items)."
                    ),
                    key=f"orientation:{s.admission.public_id}",
                    raised=s.start + deadline + timedelta(seconds=rng.uniform(0, 60)),
                    resolve=s.end is not None,
                    note="Orientation completed with client.",
                )

        for leave, s in self.late_leaves:
            due = leave.expected_back_at + timedelta(minutes=30)
            client = self.client_objs[s.client]
            alerts.append(
                Alert(
                    public_id=uid(rng),
                    facility=self.facility,
                    client_public_id=client.public_id,
                    client_label=client.mrn,
                    kind="leave_overdue",
                    severity="warning",
                    message=f"{client.display_name} is not back from {leave.kind}: expected "
                    f"{leave.expected_back_at.astimezone(self.tz):%H:%M}.",
                    dedupe_key=f"leave_overdue:{leave.public_id}",
                    raised_at=due,
                    resolved_at=leave.returned_at,
                    resolved_by=rng.choice(resolvers) if leave.returned_at else None,
                    resolution_note=(
                        f"Client returned at {leave.returned_at.astimezone(self.tz):%H:%M}."
                        if leave.returned_at
                        else ""
                    ),
                )
            )

        # Missed round checks and overdue doses over the year (the later apps' scans), mostly
        # resolved; a few from the last hours still open.
        span = (self.now - self.window_start).total_seconds()
        for kind, severity, per_day in (
            ("missed_round", "warning", 5),
            ("overdue_dose", "critical", 1),
        ):
            for _ in range(per_day * self.days):
                at = self.window_start + timedelta(seconds=rng.uniform(0, span))
                s = self.occupant(at)
                if s is None:
                    continue
                self._history_alert(alert, s, kind, severity, minute(at))
            for _ in range(4 if kind == "missed_round" else 2):
                s = self.rng.choice(self.current)
                at = minute(self.now - timedelta(minutes=rng.uniform(5, 120)))
                self._history_alert(alert, s, kind, severity, at, resolve=False)

        OrientationTick.objects.bulk_create(ticks, batch_size=5000)
        Alert.objects.bulk_create(alerts, batch_size=5000)
        self.n_ticks = len(ticks)
        self.n_alerts = len(alerts)
        self.n_open_alerts = sum(1 for a in alerts if a.resolved_at is None)

    def _history_alert(self, alert, s, kind, severity, at, resolve=True):
        client = self.client_objs[s.client]
        local = at.astimezone(self.tz)
        if kind == "missed_round":
            message = f"Round check for {client.display_name} missed at {local:%H:%M}."
            key = f"round:{s.admission.public_id}:{local:%Y%m%dT%H%M}"
        else:
            message = f"Scheduled dose for {client.display_name} at {local:%H:%M} not recorded."
            key = f"dose:{s.admission.public_id}:{local:%Y%m%dT%H%M}"
        alert(s, kind=kind, severity=severity, message=message, key=key, raised=at, resolve=resolve)

    # the access log

    def plan_access_events(self) -> list[tuple]:
        """Shifts of staff logging in and out, failing to, printing, and reading charts."""
        rng = self.rng
        fac = self.facility.pk
        tz = self.tz
        stations = [f"10.20.{u}.{n}" for u in range(1, 5) for n in range(11, 19)]
        nursing = [f"10.20.9.{n}" for n in range(11, 15)]
        utc = UTC
        events: list[tuple] = []
        shifts = []  # (start, end, [users])
        per_shift = {  # day, evening, night
            "technician": (8, 7, 5),
            "nurse": (3, 3, 2),
            "clinician": (4, 1, 0),
            "supervisor": (1, 1, 0),
        }
        first_day = self.window_start.astimezone(tz).date()
        last_day = self.now.astimezone(tz).date()
        day = first_day - timedelta(days=1)
        while day <= last_day:
            weekday = day.weekday() < 5
            for k, hour in enumerate((7, 15, 23)):
                start = datetime(day.year, day.month, day.day, hour, tzinfo=tz).astimezone(utc)
                end = start + timedelta(hours=8)
                on = []
                for role, counts in per_shift.items():
                    n = counts[k]
                    if role == "clinician" and not weekday:
                        n = min(n, 1)
                    on += rng.sample(self.staff[role], n)
                if k == 0 and weekday:
                    on.append(rng.choice(self.staff["admin"]))
                shifts.append((start, end, on))
            day += timedelta(days=1)

        def add(at, user, action, *, client=None, what="", ip=None, outcome="ok", username=None):
            if not (self.window_start <= at < self.now - timedelta(minutes=1)):
                return
            events.append(
                (
                    at,
                    user.pk if user else None,
                    user.username if user else username,
                    user.role if user else "",
                    fac if client is not None or action in ("view", "print") else None,
                    client.public_id if client is not None else None,
                    client.mrn if client is not None else "",
                    action,
                    what,
                    ip,
                    outcome,
                )
            )

        readers = []  # (shift, user, weight) for chart views
        weights = {"technician": 1.0, "nurse": 1.4, "clinician": 1.6, "supervisor": 0.8}
        for start, end, on in shifts:
            for user in on:
                ip = rng.choice(nursing if user.role in ("nurse", "supervisor") else stations)
                sessions = rng.randint(2, 6)  # the 15-minute idle timeout logs people out
                marks = sorted(rng.uniform(-900, 8 * 3600) for _ in range(sessions))
                for i, m in enumerate(marks):
                    at = start + timedelta(seconds=m)
                    add(at, user, "login", ip=ip)
                    nxt = marks[i + 1] if i + 1 < len(marks) else 8 * 3600 + 900
                    if rng.random() < 0.8:
                        add(
                            start + timedelta(seconds=rng.uniform(m + 60, max(m + 61, nxt - 5))),
                            user,
                            "logout",
                            ip=ip,
                        )
                if user.role in weights:
                    readers.append((start, end, user, ip, weights[user.role]))
            printer = next((u for u in on if u.role in ("nurse", "supervisor")), None)
            if printer is not None:
                add(
                    start + timedelta(minutes=rng.uniform(5, 40)),
                    printer,
                    "print",
                    client=None,
                    what="Census",
                    ip=rng.choice(nursing),
                )
            for _ in range(poisson(rng, 0.7)):
                typo = rng.choice(on).username + rng.choice(["", "1", "x"])
                add(
                    start + timedelta(seconds=rng.uniform(0, 8 * 3600)),
                    None,
                    "login_failed",
                    ip=rng.choice(stations),
                    outcome="failed",
                    username=typo,
                )
        # A few account events by the admins over the year: lost phones (MFA reset) and leaves
        # of absence (deactivated, later reactivated).
        admins = self.staff["admin"]
        for _ in range(12):
            at = self.window_start + timedelta(days=rng.uniform(0, self.days))
            who = rng.choice(self.staff["supervisor"])
            add(
                at,
                rng.choice(admins),
                "mfa_reset",
                what=f"reset MFA of {who.username}",
                ip=rng.choice(nursing),
            )
        for _ in range(10):
            at = self.window_start + timedelta(days=rng.uniform(0, self.days - 30))
            who = rng.choice(self.staff["technician"] + self.staff["nurse"])
            add(
                at,
                rng.choice(admins),
                "deactivate",
                what=f"deactivated {who.username}; ended {rng.randint(0, 2)} sessions",
                ip=rng.choice(nursing),
            )
            add(
                at + timedelta(days=rng.uniform(3, 28)),
                rng.choice(admins),
                "role_change",
                what=f"reactivated {who.username}",
                ip=rng.choice(nursing),
            )

        # Chart views fill the rest, spread over staff-shifts by role weight.
        n_views = max(0, self.events_target - len(events))
        total_w = sum(r[4] for r in readers)
        cum, acc = [], 0.0
        for r in readers:
            acc += r[4]
            cum.append(acc)
        made = tries = 0
        clients = self.client_objs
        while made < n_views and tries < n_views * 3:
            tries += 1
            start, end, user, ip, _ = readers[bisect.bisect_left(cum, rng.uniform(0, total_w))]
            at = start + timedelta(seconds=rng.uniform(0, 8 * 3600))
            if not (self.window_start <= at < self.now - timedelta(minutes=1)):
                continue
            s = self.occupant(at)
            if s is None:
                continue
            before = len(events)
            add(at, user, "view", client=clients[s.client], what="client chart", ip=ip)
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
        for i in range(0, len(events), batch):
            objs = []
            for (
                at,
                user_id,
                username,
                role,
                fac,
                client,
                label,
                action,
                what,
                ip,
                outcome,
            ) in events[i : i + batch]:
                e = AccessEvent(
                    at=at,
                    user_id=user_id,
                    username=username,
                    role=role,
                    facility_id=fac,
                    client_public_id=client,
                    client_label=label,
                    action=action,
                    what=what,
                    ip=ip,
                    outcome=outcome,
                    prev_hash=prev,
                )
                e.row_hash = prev = e.content_digest(prev)
                objs.append(e)
            AccessEvent.objects.bulk_create(objs, batch_size=batch)
        self.n_events = len(events)


def already_generated() -> bool:
    from facility.models import AccessEvent, Facility

    facility = Facility.objects.filter(name=_env.BENCH_FACILITY).first()
    if facility is None:
        return False
    if not AccessEvent.objects.filter(facility=facility).exists():
        sys.exit(
            f"{_env.BENCH_FACILITY} exists but has no access events: an earlier run was cut "
            "short. Run again with --force to rebuild."
        )
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="drop the bench database and rebuild")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--days", type=int, default=365, help="days of history (default 365)")
    parser.add_argument("--events", type=int, default=300_000, help="access events (default 300k)")
    parser.add_argument("--no-verify", action="store_true", help="skip verifying the access chain")
    args = parser.parse_args(argv)

    _env.configure_env()
    _env.check_bench_database()
    started = time.perf_counter()
    _env.ensure_database(args.force)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0, interactive=False)
    call_command("sync_roles", stdout=io.StringIO())
    print(f"  {'create + migrate + sync_roles':<34} {time.perf_counter() - started:6.1f} s")
    if already_generated():
        print(
            f"{_env.BENCH_FACILITY} is already generated in {_env.database_name()}; "
            "nothing to do (--force rebuilds)."
        )
        return 0
    print(f"Generating into {_env.database_name()} (seed {args.seed}, {args.days} days)")
    gen = Generator(seed=args.seed, days=args.days, events=args.events)
    with transaction.atomic():
        gen.make_facility()
        gen.make_staff()
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
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    gen.lap("vacuum analyze")
    generated = time.perf_counter() - started

    from clients.models import Admission, Client

    lh = next(s for s in gen.current if s.long_history)
    lh_client = gen.client_objs[lh.client]
    print()
    print(f"Clients            {Client.objects.count():>9,}  ({len(gen.current)} admitted now)")
    print(f"Admissions         {Admission.objects.count():>9,}")
    print(f"Bed moves          {gen.n_moves:>9,}")
    print(f"Leaves             {gen.n_leaves:>9,}  ({gen.n_open_leaves} open)")
    print(f"Orientation ticks  {gen.n_ticks:>9,}")
    print(f"Alerts             {gen.n_alerts:>9,}  ({gen.n_open_alerts} open)")
    print(f"Access events      {gen.n_events:>9,}")
    print(
        f"Long-history client {lh_client.mrn} ({lh_client.public_id}): "
        f"{Admission.objects.filter(client=lh_client).count()} stays"
    )
    print(f"Generated in {generated:.1f} s")
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
