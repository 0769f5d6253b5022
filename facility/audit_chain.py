"""The audit chain's integrity (issue 16 item 7; specs/privacy.md, audit controls).

- **Seals**: django-auditlog's data-change rows (LogEntry) join the AccessEvent hash chain as
  DATA_SEAL rows. Each seal names an id range, the number of rows in it and a SHA-256 over their
  canonical content, so an altered, deleted or inserted LogEntry in a sealed range breaks it.
  Rows younger than a grace period are left for the next seal (their transaction may still be
  open, with a lower id than a committed row).
- **Anchors**: the chain's length and head hash, signed with an HMAC key the database never
  holds (HAVEN_AUDIT_ANCHOR_KEY, from the environment), appended to a log file outside the
  database (HAVEN_AUDIT_ANCHOR_PATH). Deleting the tail, or rewriting a row and recomputing every
  later hash, no longer matches an anchor.
- **Verify**: walk the chain, recompute every seal, check every anchor; name the first broken
  link, record a CHAIN_VERIFY row, anchor the chain when it is intact, and raise a critical alert
  to every facility's supervisors when a link is broken or anchors are missing.
"""

import hashlib
import hmac
import json
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from auditlog.models import LogEntry
from django.conf import settings
from django.core import checks
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from facility.models import AccessAction, AccessEvent, AlertSeverity, Facility
from facility.services import ACCESS_CHAIN_LOCK, GENESIS_HASH, access_log, alert_raise

SYSTEM = "haven"
SEAL_RE = re.compile(r"^data changes (\d+)-(\d+) count (\d+) sha256 ([0-9a-f]{64})$")
# The LogEntry columns a seal covers, in a fixed list: a new auditlog column must not change what
# earlier seals meant.
LOGENTRY_FIELDS = (
    "id",
    "content_type_id",
    "object_pk",
    "object_id",
    "object_repr",
    "serialized_data",
    "action",
    "changes_text",
    "changes",
    "actor_id",
    "cid",
    "remote_addr",
    "remote_port",
    "timestamp",
    "additional_data",
    "actor_email",
)
CHUNK = 2000


def _lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ACCESS_CHAIN_LOCK])


# ---------------------------------------------------------------- seals


def logentry_canonical(row: dict) -> bytes:
    """One LogEntry's content as sorted, compact JSON (a line of the seal's digest)."""
    payload = {name: row.get(name) for name in LOGENTRY_FIELDS}
    if payload["timestamp"] is not None:
        payload["timestamp"] = payload["timestamp"].isoformat()
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def _logentry_fields() -> list[str]:
    have = {f.attname for f in LogEntry._meta.concrete_fields}
    return [name for name in LOGENTRY_FIELDS if name in have]


@dataclass(frozen=True)
class Seal:
    low: int
    high: int
    count: int
    sha256: str

    @property
    def what(self) -> str:
        return f"data changes {self.low}-{self.high} count {self.count} sha256 {self.sha256}"

    @classmethod
    def parse(cls, what: str) -> "Seal | None":
        match = SEAL_RE.match(what or "")
        if match is None:
            return None
        low, high, count, digest = match.groups()
        return cls(int(low), int(high), int(count), digest)


def _digest(rows) -> tuple[int, str]:
    sha = hashlib.sha256()
    count = 0
    for row in rows:
        sha.update(logentry_canonical(row))
        sha.update(b"\n")
        count += 1
    return count, sha.hexdigest()


def _last_sealed_id() -> int:
    last = (
        AccessEvent.objects.filter(action=AccessAction.DATA_SEAL)
        .order_by("-id")
        .values_list("what", flat=True)
        .first()
    )
    seal = Seal.parse(last) if last else None
    return seal.high if seal else 0


def seal_data_changes(now: datetime | None = None) -> AccessEvent | None:
    """Seal the data changes not sealed yet and older than the grace period into the chain;
    None when there is nothing to seal."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.HAVEN_AUDIT_SEAL_GRACE_SECONDS)
    with transaction.atomic():
        _lock()
        after = _last_sealed_id()
        pending = LogEntry.objects.filter(id__gt=after)
        young = pending.filter(timestamp__gte=cutoff).aggregate(low=Min("id"))["low"]
        ripe = pending.filter(timestamp__lt=cutoff)
        if young is not None:
            ripe = ripe.filter(id__lt=young)
        high = ripe.aggregate(high=Max("id"))["high"]
        if high is None:
            return None
        rows = (
            LogEntry.objects.filter(id__gt=after, id__lte=high)
            .order_by("id")
            .values(*_logentry_fields())
            .iterator(chunk_size=CHUNK)
        )
        count, digest = _digest(rows)
        seal = Seal(after + 1, high, count, digest)
        return access_log(action=AccessAction.DATA_SEAL, username=SYSTEM, what=seal.what)


# ---------------------------------------------------------------- anchors


def anchor_path() -> Path:
    return Path(settings.HAVEN_AUDIT_ANCHOR_PATH)


def _key() -> bytes:
    return (settings.HAVEN_AUDIT_ANCHOR_KEY or "").encode()


def _signed_part(anchor: dict) -> bytes:
    body = {k: anchor.get(k) for k in ("at", "length", "head_id", "head_hash")}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def anchor_sign(anchor: dict, key: bytes | None = None) -> str:
    return hmac.new(key if key is not None else _key(), _signed_part(anchor), "sha256").hexdigest()


class AnchorKeyMissing(Exception):
    pass


def anchor_write(now: datetime | None = None) -> dict:
    """Append the chain's length and head, signed, to the anchor log; returns the anchor."""
    if not _key():
        raise AnchorKeyMissing("HAVEN_AUDIT_ANCHOR_KEY is not set: the chain cannot be anchored.")
    with transaction.atomic():
        _lock()  # no row is appended between counting and reading the head
        length = AccessEvent.objects.count()
        head = AccessEvent.objects.order_by("-id").values_list("id", "row_hash").first()
    head_id, head_hash = head if head else (None, GENESIS_HASH)
    anchor = {
        "at": (now or timezone.now()).isoformat(),
        "length": length,
        "head_id": head_id,
        "head_hash": head_hash,
    }
    anchor["hmac"] = anchor_sign(anchor)
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(anchor, sort_keys=True, separators=(",", ":")) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return anchor


@dataclass
class AnchorLog:
    exists: bool
    anchors: list[dict] = field(default_factory=list)  # signed correctly, in file order
    bad_lines: list[int] = field(default_factory=list)  # 1-based line numbers

    @property
    def latest_at(self) -> datetime | None:
        times = [a["_at"] for a in self.anchors]
        return max(times) if times else None


def anchor_read() -> AnchorLog:
    path = anchor_path()
    if not path.exists():
        return AnchorLog(exists=False)
    log = AnchorLog(exists=True)
    key = _key()
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                anchor = json.loads(line)
                signature = str(anchor.get("hmac", ""))
                valid = bool(key) and hmac.compare_digest(signature, anchor_sign(anchor, key))
                anchor["_at"] = datetime.fromisoformat(anchor["at"])
                anchor["length"] = int(anchor["length"])
            except (ValueError, TypeError, KeyError, AttributeError):
                valid = False
            if valid:
                log.anchors.append(anchor)
            else:
                log.bad_lines.append(number)
    return log


# ---------------------------------------------------------------- verify


@dataclass(frozen=True)
class Problem:
    position: int  # the chain position (1-based) of the first row it concerns
    event_id: int | None
    message: str
    kind: str


@dataclass
class Report:
    length: int = 0
    seals: int = 0
    anchors: int = 0
    problems: list[Problem] = field(default_factory=list)
    missing_anchor: str = ""

    @property
    def first(self) -> Problem | None:
        return min(self.problems, key=lambda p: p.position) if self.problems else None

    @property
    def intact(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.first is not None:
            return f"Broken link: {self.first.message}"
        return (
            f"Audit chain intact: {self.length} rows, {self.seals} data-change seals, "
            f"{self.anchors} anchors checked."
        )


def _event_at(position: int) -> int | None:
    """The id of the row at a 1-based chain position (only when naming a broken link)."""
    return (
        AccessEvent.objects.order_by("id").values_list("id", flat=True)[position - 1 : position]
    ).first()


def _check_seals(seals: list[tuple[int, int, str]], report: Report) -> None:
    """Recompute every seal over the LogEntries in its range, in one pass over LogEntry."""
    parsed = []
    expected_low = 1
    for position, event_id, what in seals:
        seal = Seal.parse(what)
        if seal is None or seal.low != expected_low or seal.high < seal.low:
            report.problems.append(
                Problem(position, event_id, f"access event {event_id}: a malformed or "
                        f"out-of-order data-change seal ({what[:80]})", "seal")
            )  # fmt: skip
            return
        parsed.append((position, event_id, seal))
        expected_low = seal.high + 1
    if not parsed:
        return
    rows = (
        LogEntry.objects.filter(id__lte=parsed[-1][2].high)
        .order_by("id")
        .values(*_logentry_fields())
        .iterator(chunk_size=CHUNK)
    )
    pending = next(rows, None)
    for position, event_id, seal in parsed:
        sha = hashlib.sha256()
        count = 0
        while pending is not None and pending["id"] <= seal.high:
            sha.update(logentry_canonical(pending))
            sha.update(b"\n")
            count += 1
            pending = next(rows, None)
        if count != seal.count or sha.hexdigest() != seal.sha256:
            what = "rows were deleted or inserted" if count != seal.count else "a row was altered"
            report.problems.append(
                Problem(
                    position,
                    event_id,
                    f"data changes {seal.low}–{seal.high} no longer match their seal (access "
                    f"event {event_id}): {what} ({count} rows now, {seal.count} sealed)",
                    "data_change",
                )
            )


def chain_check(anchor_log: AnchorLog | None = None) -> Report:
    """Walk the chain once (chunked), recompute the seals, check the anchors."""
    anchor_log = anchor_log if anchor_log is not None else anchor_read()
    report = Report(anchors=len(anchor_log.anchors))
    by_length: dict[int, list[dict]] = defaultdict(list)
    for anchor in anchor_log.anchors:
        by_length[anchor["length"]].append(anchor)
    for number in anchor_log.bad_lines:
        report.problems.append(
            Problem(0, None, f"anchor log line {number} is not signed with the anchor key "
                    "(altered or forged anchor)", "anchor")
        )  # fmt: skip
    prev = GENESIS_HASH
    position = 0
    altered = None
    seals: list[tuple[int, int, str]] = []
    matched: list[int] = [0]  # lengths of anchors that still match
    mismatched: list[dict] = []
    for event in AccessEvent.objects.order_by("id").iterator(chunk_size=CHUNK):
        position += 1
        if altered is None and (
            event.prev_hash != prev or event.row_hash != event.content_digest(prev)
        ):
            altered = Problem(
                position,
                event.pk,
                f"access event {event.pk} ({event.at:%Y-%m-%d %H:%M:%S} UTC) does not match its "
                "hash: the row was altered, or the row before it removed",
                "altered",
            )
        if event.action == AccessAction.DATA_SEAL:
            seals.append((position, event.pk, event.what))
        for anchor in by_length.get(position, ()):
            if anchor.get("head_id") == event.pk and anchor.get("head_hash") == event.row_hash:
                matched.append(position)
            else:
                mismatched.append(anchor)
        prev = event.row_hash
    report.length = position
    report.seals = len(seals)
    if altered is not None:
        report.problems.append(altered)
    for anchor in mismatched:
        good = max(m for m in matched if m < anchor["length"])
        first = good + 1
        first_id = _event_at(first)
        report.problems.append(
            Problem(
                first,
                first_id,
                f"access event {first_id} (row {first}): rows from here were rewritten; the "
                f"anchor of {anchor['at']} recorded row {anchor['length']} as access event "
                f"{anchor.get('head_id')} with another hash",
                "rewritten",
            )
        )
    for anchor in anchor_log.anchors:
        if anchor["length"] > position:
            last = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first()
            report.problems.append(
                Problem(
                    position + 1,
                    None,
                    f"rows {position + 1}–{anchor['length']} are missing after access event "
                    f"{last}: the anchor of {anchor['at']} recorded {anchor['length']} rows ending "
                    f"at access event {anchor.get('head_id')}; the chain has {position}",
                    "tail_deleted",
                )
            )
            break
    _check_seals(seals, report)
    return report


def _anchors_expected() -> bool:
    """Anchors were written before: a verification is on the chain."""
    return AccessEvent.objects.filter(action=AccessAction.CHAIN_VERIFY).exists()


def missing_anchor(anchor_log: AnchorLog, now: datetime) -> str:
    """Why the anchors are missing ("" when they are not)."""
    if not _key():
        return "HAVEN_AUDIT_ANCHOR_KEY is not set: anchors can be neither written nor checked"
    if not _anchors_expected():
        return ""
    if not anchor_log.exists:
        return f"the anchor log {anchor_path()} is gone while the chain has rows"
    latest = anchor_log.latest_at
    max_age = timedelta(hours=settings.HAVEN_AUDIT_ANCHOR_MAX_AGE_HOURS)
    if latest is None or latest < now - max_age:
        return f"no anchor in the last {settings.HAVEN_AUDIT_ANCHOR_MAX_AGE_HOURS} hours"
    return ""


def alert_supervisors(message: str, key: str, now: datetime) -> int:
    """A critical alert to every facility's supervisors; returns how many were raised."""
    raised = 0
    for facility in Facility.objects.all():
        _, created = alert_raise(
            facility=facility,
            kind="audit_chain",
            severity=AlertSeverity.CRITICAL,
            message=message[:1000],
            dedupe_key=f"audit-chain:{facility.pk}:{key}",
            once=False,
            now=now,
            audience="supervisor",
            link="/audit/",
        )
        raised += created
    return raised


def verify(now: datetime | None = None, *, alert: bool = True) -> Report:
    """Seal pending data changes, check the chain against seals and anchors, record the
    verification, anchor an intact chain, and alert when something is wrong."""
    now = now or timezone.now()
    seal_data_changes(now)
    log = anchor_read()
    report = chain_check(log)
    report.missing_anchor = missing_anchor(log, now)
    first = report.first
    outcome = "ok" if first is None and not report.missing_anchor else "broken"
    what = report.summary() if first is None else f"broken: {first.message}"
    if report.missing_anchor:
        what += f"; anchors: {report.missing_anchor}"
    access_log(action=AccessAction.CHAIN_VERIFY, username=SYSTEM, what=what, outcome=outcome)
    if first is None and _key():
        anchor_write(now)
    if alert and first is not None:
        alert_supervisors(f"Audit chain broken — {first.message}", "broken", now)
    if alert and report.missing_anchor:
        alert_supervisors(f"Audit chain anchors missing — {report.missing_anchor}", "anchor", now)
    return report


# ---------------------------------------------------------------- deployment check


@checks.register(checks.Tags.security, deploy=True)
def anchor_key_check(app_configs=None, **kwargs):
    """`manage.py check --deploy` fails without an anchor key (production refuses it there)."""
    key = getattr(settings, "HAVEN_AUDIT_ANCHOR_KEY", "")
    if len(key) < 32:
        return [
            checks.Error(
                "HAVEN_AUDIT_ANCHOR_KEY is not set (or shorter than 32 characters).",
                hint="Set it in the environment to a long random secret kept outside the "
                "database; the audit chain's anchors are signed with it.",
                id="haven.E016",
            )
        ]
    return []
