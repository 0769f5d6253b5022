"""Withdrawal protocols and CIWA-Ar / COWS assessments (specs/scales.md, issue 11 item 5): start
and end a protocol, score and strike an assessment, where each protocol stands (for the board,
the chart and the scan), the latest scores for other apps (the MAR's score-triggered PRN), and
the minute scan for overdue reassessments. Item texts and the due math are in
observations.withdrawal; totals and bands in observations.scales."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone

from clients.models import Admission, Leave
from facility import policy
from facility.models import Alert, AlertSeverity, User
from facility.registry import Reading
from facility.services import alert_raise, alerts_close, alerts_raise_many
from observations import scales
from observations import withdrawal as rules
from observations.models import Scale, ScaleAssessment, WithdrawalProtocol

# An assessment entered more than this after it was done is a late entry and says why
# (DESIGN.md §2: 60 minutes for entries other than rounds); further back than MAX_BACKDATE is
# refused (a paper sheet from the last day at most).
LATE_AFTER = timedelta(minutes=60)
MAX_BACKDATE = timedelta(hours=24)
# A moment typed to the minute may be a few seconds ahead of the server.
CLOCK_SKEW = timedelta(minutes=1)
OVERDUE_KIND = "withdrawal_overdue"
SEVERE_KIND = "withdrawal_severe"


def overdue_key(protocol: WithdrawalProtocol, due: datetime, generation: int = 0) -> str:
    """One alert per protocol per owed assessment and strike generation.

    Alerts are raised once per key (alerts_raise_many skips a key raised before, open or
    closed), and a score closes the alert it answers. If that score is then struck, the same
    assessment is owed again, at the same time: under the same key the scan would stay silent.
    `generation` is how many struck scores of the protocol were taken after the score the due
    time counts from (the only scores that could have answered it): each strike of such a score
    makes a new key, so the overdue assessment alerts again; a strike of an older score changes
    nothing. Generation 0 keeps the plain key "withdrawal-overdue:<protocol>:<due>"; later ones
    add "/<generation>" (the part _close_answered and discharge read stays the same).
    """
    key = f"withdrawal-overdue:{protocol.public_id}:{due.astimezone(UTC).isoformat()}"
    return f"{key}/{generation}" if generation else key


def _overdue_prefix(protocol: WithdrawalProtocol) -> str:
    return f"withdrawal-overdue:{protocol.public_id}:"


def score_url(admission: Admission, scale: str) -> str:
    return reverse("observations:withdrawal_score", args=[admission.public_id, scale])


# ---------------------------------------------------------------- protocols


@transaction.atomic
def protocol_start(
    *,
    actor: User,
    admission: Admission,
    scale: str,
    every_hours: int | None = None,
    tight_from: int | None = None,
    tight_hours: int | None = None,
    reason: str,
    started_at: datetime | None = None,
    now: datetime | None = None,
) -> WithdrawalProtocol:
    """Put a client on withdrawal monitoring with one scale. Unset numbers take the scale's
    defaults (rules.PROTOCOL_DEFAULTS: CIWA-Ar every 4 h, hourly from 8; COWS every 4 h, hourly
    from 13). The first assessment is owed at once (observations.withdrawal)."""
    now = now or timezone.now()
    admission = Admission.objects.select_for_update().get(pk=admission.pk)
    if not admission.is_open:
        raise ValidationError("This client has been discharged.")
    policy.require(actor, "withdrawal.order", admission)
    if scale not in Scale.values:
        raise ValidationError({"scale": "Scale: choose CIWA-Ar or COWS."})
    default_every, default_tight, default_hours = rules.PROTOCOL_DEFAULTS[scale]
    every_hours = default_every if every_hours is None else every_hours
    tight_from = default_tight if tight_from is None else tight_from
    tight_hours = default_hours if tight_hours is None else tight_hours
    errors = {}
    if not 1 <= every_hours <= 24:
        errors["every_hours"] = "Every: 1 to 24 hours."
    if not 1 <= tight_hours <= max(1, min(every_hours, 24)):
        errors["tight_hours"] = "Tighter interval: 1 hour up to the usual interval."
    top = 67 if scale == Scale.CIWA_AR else 48
    if not 1 <= tight_from <= top:
        errors["tight_from"] = f"Tighter from a score of: 1 to {top}."
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "Reason: say why the client is monitored."
    started_at = started_at or now
    if started_at > now + CLOCK_SKEW:
        errors["started_at"] = "Started at: cannot be in the future."
    elif started_at < max(admission.admitted_at, now - MAX_BACKDATE):
        errors["started_at"] = "Started at: within the stay and the last 24 hours."
    if errors:
        raise ValidationError(errors)
    if WithdrawalProtocol.objects.filter(
        admission=admission, scale=scale, ended_at__isnull=True
    ).exists():
        raise ValidationError(
            {"scale": f"Scale: the client is already on a {rules.SCALE_NAMES[scale]} protocol."}
        )
    return WithdrawalProtocol.objects.create(
        admission=admission,
        scale=scale,
        every_hours=every_hours,
        tight_from=tight_from,
        tight_hours=tight_hours,
        started_at=min(started_at, now),
        ordered_by=actor,
        reason=reason,
    )


@transaction.atomic
def protocol_end(
    *, actor: User, protocol: WithdrawalProtocol, reason: str, now: datetime | None = None
) -> WithdrawalProtocol:
    """End a protocol (withdrawal over, or another scale instead); its overdue alerts close."""
    now = now or timezone.now()
    protocol = (
        WithdrawalProtocol.objects.select_for_update()
        .select_related("admission")
        .get(pk=protocol.pk)
    )
    policy.require(actor, "withdrawal.order", protocol.admission)
    if protocol.ended_at is not None:
        raise ValidationError("This protocol has already ended.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Reason: say why the protocol ends."})
    protocol.ended_at = max(now, protocol.started_at)
    protocol.ended_by = actor
    protocol.end_reason = reason
    protocol.save(update_fields=["ended_at", "ended_by", "end_reason"])
    keys = Alert.objects.open().filter(dedupe_key__startswith=_overdue_prefix(protocol))
    alerts_close(
        keys.values_list("dedupe_key", flat=True),
        user=actor,
        note=f"Protocol ended: {reason}",
        now=now,
    )
    return protocol


# ---------------------------------------------------------------- assessments


def _check_items(scale: str, items: dict, pulse_bpm) -> tuple[dict, int | None]:
    """The items as ints, the pulse item derived from `pulse_bpm` when it is left empty; a
    ValidationError keyed by item (and `pulse_bpm`) for anything outside the allowed sets, and a
    form-wide message listing every missing item."""
    allowed, text = rules.ALLOWED[scale], rules.ITEM_TEXT[scale]
    errors: dict[str, list[str]] = defaultdict(list)
    unknown = sorted(set(items) - set(allowed))
    if unknown:
        errors[NON_FIELD_ERRORS].append(f"Unknown item(s): {', '.join(unknown)}.")
    values: dict[str, int | None] = {}
    for key, item in text.items():
        raw = items.get(key)
        if raw is None or raw == "":
            values[key] = None
            continue
        try:
            value = int(raw)
            if isinstance(raw, bool) or str(value) != str(raw).strip():
                raise ValueError
        except (TypeError, ValueError):
            value = None
        if value is None or value not in allowed[key]:
            choices = ", ".join(str(v) for v in allowed[key])
            errors[key].append(f"{item.label}: choose one of {choices}.")
            values[key] = None
            continue
        values[key] = value
    pulse = None
    if pulse_bpm not in (None, ""):
        limit = scales.VITALS["hr"]
        try:
            pulse = int(pulse_bpm)
        except (TypeError, ValueError):
            pulse = None
        if pulse is None or not limit.plausible(pulse):
            errors["pulse_bpm"].append(f"Pulse: {limit.range_text}.")
            pulse = None
        elif scale != Scale.COWS:
            errors["pulse_bpm"].append("Pulse: only COWS scores a pulse.")
        else:
            derived = scales.cows_pulse_item(pulse)
            given = values.get("resting_pulse_rate")
            if given is None and "resting_pulse_rate" not in errors:
                values["resting_pulse_rate"] = derived
            elif given is not None and given != derived:
                errors["resting_pulse_rate"].append(
                    f"Resting pulse rate: a pulse of {pulse} bpm scores {derived}, not {given}."
                )
    missing = [text[k].label for k, v in values.items() if v is None and k not in errors]
    if missing:
        errors[NON_FIELD_ERRORS].append(
            f"Every item is needed for a total. Missing: {', '.join(missing)}."
        )
        for key, value in values.items():
            if value is None and key not in errors:
                errors[key].append(f"{text[key].label}: choose a value.")
    if errors:
        raise ValidationError(dict(errors))
    return values, pulse


@transaction.atomic
def assessment_record(
    *,
    actor: User,
    admission: Admission,
    scale: str,
    items: dict,
    pulse_bpm=None,
    assessed_at: datetime | None = None,
    late_reason: str = "",
    remark: str = "",
    now: datetime | None = None,
) -> ScaleAssessment:
    """Score a CIWA-Ar or COWS (specs/scales.md). Every item is needed, each only from its
    allowed values; the COWS pulse item may come from a pulse in bpm. The total and band use the
    facility's profile and are stored. The assessment joins the open protocol of its scale and
    answers that protocol's overdue alert; a severe band alerts the nurse and the clinician."""
    now = now or timezone.now()
    admission = Admission.objects.select_related("client", "facility").get(pk=admission.pk)
    if not admission.is_open:
        raise ValidationError("This client has been discharged.")
    policy.require(actor, "withdrawal.assess", admission)
    if scale not in Scale.values:
        raise ValidationError({"scale": "Scale: choose CIWA-Ar or COWS."})
    values, pulse = _check_items(scale, items, pulse_bpm)
    assessed_at = assessed_at or now
    late_reason = (late_reason or "").strip()
    if assessed_at > now + CLOCK_SKEW:
        raise ValidationError({"assessed_at": "Assessed at: cannot be in the future."})
    if assessed_at < max(admission.admitted_at, now - MAX_BACKDATE):
        raise ValidationError(
            {"assessed_at": "Assessed at: within the stay and the last 24 hours."}
        )
    assessed_at = min(assessed_at, now)
    if now - assessed_at > LATE_AFTER and not late_reason:
        raise ValidationError(
            {"late_reason": "Reason for late entry: say why it is charted more than an hour "
             "after the assessment."}
        )  # fmt: skip
    profile = admission.facility.ciwa_profile if scale == Scale.CIWA_AR else "default"
    score = scales.ciwa_ar(values, profile) if scale == Scale.CIWA_AR else scales.cows(values)
    protocol = (
        WithdrawalProtocol.objects.select_for_update()
        .filter(admission=admission, scale=scale, ended_at__isnull=True)
        .first()
    )
    assessment = ScaleAssessment.objects.create(
        admission=admission,
        protocol=protocol,
        scale=scale,
        items=values,
        total=score.total,
        band=score.band,
        profile=profile,
        pulse_bpm=pulse,
        assessed_at=assessed_at,
        recorded_at=now,
        recorded_by=actor,
        late_reason=late_reason,
        remark=(remark or "").strip(),
    )
    if protocol is not None:
        _close_answered(protocol, actor=actor, now=now)
    if score.band in rules.SEVERE_BANDS[scale]:
        _alert_severe(admission, assessment, now=now)
    return assessment


def _close_answered(protocol: WithdrawalProtocol, *, actor: User, now: datetime) -> int:
    """Close the protocol's overdue alerts that the assessments now on file answer: every one
    whose owed time is before the next due time (a back-dated entry older than the last one
    answers nothing)."""
    status = protocol_statuses([protocol.admission_id], now=now, protocols=[protocol])
    due = status[protocol.pk].due_at if protocol.pk in status else None
    prefix = _overdue_prefix(protocol)
    answered = []
    for key in (
        Alert.objects.open()
        .filter(dedupe_key__startswith=prefix)
        .values_list("dedupe_key", flat=True)
    ):
        owed = datetime.fromisoformat(key[len(prefix) :].split("/")[0])
        if due is None or owed < due:
            answered.append(key)
    local = timezone.localtime(now, protocol.admission.facility.tz)
    return alerts_close(
        answered, user=actor, note=f"Scored at {local:%H:%M} by {actor.initials}.", now=now
    )


def _alert_severe(admission: Admission, assessment: ScaleAssessment, *, now: datetime) -> None:
    client = admission.client
    name = rules.SCALE_NAMES[assessment.scale]
    at = timezone.localtime(assessment.assessed_at, admission.facility.tz)
    alert_raise(
        facility=admission.facility,
        kind=SEVERE_KIND,
        severity=AlertSeverity.CRITICAL,
        message=f"{client.display_name}: {name} {assessment.total} "
        f"({rules.BAND_NAMES[assessment.band]}) at {at:%H:%M}. Nurse and clinician now; "
        "consider transfer.",
        dedupe_key=f"withdrawal-severe:{assessment.public_id}",
        client_public_id=client.public_id,
        client_label=client.mrn,
        link=reverse("clients:chart", args=[client.public_id]),
        now=now,
    )


@transaction.atomic
def assessment_strike(
    *, actor: User, assessment: ScaleAssessment, reason: str, now: datetime | None = None
) -> ScaleAssessment:
    """Entered in error: the assessment stays visible, struck, and no longer counts (the due
    time and the latest score fall back to the one before it)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Reason: say what was wrong."})
    locked = (
        ScaleAssessment.objects.select_for_update()
        .select_related("admission")
        .get(pk=assessment.pk)
    )
    policy.require(actor, "withdrawal.assess", locked.admission)
    if locked.struck_at is not None:
        raise ValidationError("Already struck.")
    locked.struck_at = now or timezone.now()
    locked.struck_by = actor
    locked.struck_reason = reason
    locked.save(update_fields=["struck_at", "struck_by", "struck_reason"])
    return locked


# ---------------------------------------------------------------- where each protocol stands


@dataclass
class ProtocolStatus:
    """An open protocol now: its recent scores (oldest first, at most RECENT), when the next is
    owed (None while the client is off site), and the state of that."""

    protocol: WithdrawalProtocol
    recent: list[ScaleAssessment] = field(default_factory=list)
    due_at: datetime | None = None
    state: str = "upcoming"
    # The last score is still current (its reassessment is not yet owed): it may indicate a PRN.
    score_current: bool = False

    @property
    def last(self) -> ScaleAssessment | None:
        return self.recent[-1] if self.recent else None

    @property
    def trend(self) -> str:
        return rules.trend([a.total for a in self.recent])

    @property
    def first_due(self) -> bool:
        """Never scored under this protocol."""
        return not self.recent

    @property
    def scale_name(self) -> str:
        return rules.SCALE_NAMES[self.protocol.scale]

    @property
    def band_name(self) -> str:
        return rules.BAND_NAMES.get(self.last.band, self.last.band) if self.last else ""


RECENT = 3


def protocol_statuses(admission_ids, *, now: datetime, protocols=None) -> dict[int, ProtocolStatus]:
    """{protocol id: ProtocolStatus} for the open protocols of these stays, in three queries
    whatever their number (protocols, their last RECENT scores, the leaves that may move a due
    time)."""
    if protocols is None:
        protocols = list(
            WithdrawalProtocol.objects.filter(
                admission_id__in=list(admission_ids), ended_at__isnull=True, started_at__lte=now
            ).order_by("admission_id", "scale")
        )
    if not protocols:
        return {}
    recent = defaultdict(list)
    ranked = (
        ScaleAssessment.objects.filter(
            protocol__in=[p.pk for p in protocols], struck_at__isnull=True, assessed_at__lte=now
        )
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("protocol_id")], order_by=F("assessed_at").desc()
            )
        )
        .filter(rank__lte=RECENT)
        .order_by("protocol_id", "assessed_at")
    )
    for assessment in ranked:
        recent[assessment.protocol_id].append(assessment)
    raw = {}
    for p in protocols:
        last = recent[p.pk][-1] if recent[p.pk] else None
        raw[p.pk] = rules.next_due(
            started_at=p.started_at,
            every_hours=p.every_hours,
            tight_from=p.tight_from,
            tight_hours=p.tight_hours,
            last_at=last.assessed_at if last else None,
            last_total=last.total if last else None,
        )
    leaves = defaultdict(list)
    earliest = min(raw.values())
    for leave in Leave.objects.filter(
        admission_id__in={p.admission_id for p in protocols}, left_at__lte=now
    ).filter(Q(returned_at__isnull=True) | Q(returned_at__gt=earliest)):
        returned = leave.returned_at if leave.returned_at and leave.returned_at <= now else None
        leaves[leave.admission_id].append((leave.left_at, returned))
    out = {}
    for p in protocols:
        due = rules.owed_after_leaves(raw[p.pk], leaves[p.admission_id])
        current = bool(recent[p.pk]) and now < raw[p.pk]
        out[p.pk] = ProtocolStatus(p, recent[p.pk], due, rules.due_state(now, due), current)
    return out


def latest_scores(admission_ids, *, at: datetime) -> dict[int, dict[str, Reading]]:
    """The reading source "withdrawal" (facility.registry): per stay, the latest non-struck score
    of each scale taken at or before `at`, with `due_at` the moment its reassessment is owed
    (under the open protocol of that scale, else the scale's default protocol), so a score is
    current only until then. Two queries."""
    ids = list(admission_ids)
    latest = (
        ScaleAssessment.objects.filter(admission_id__in=ids, struck_at__isnull=True)
        .filter(assessed_at__lte=at)
        .order_by("admission_id", "scale", "-assessed_at", "-id")
        .distinct("admission_id", "scale")
    )
    protocols = {
        (p.admission_id, p.scale): p
        for p in WithdrawalProtocol.objects.filter(admission_id__in=ids, ended_at__isnull=True)
    }
    out: dict[int, dict[str, Reading]] = defaultdict(dict)
    for a in latest:
        p = protocols.get((a.admission_id, a.scale))
        every, tight_from, tight_hours = (
            (p.every_hours, p.tight_from, p.tight_hours) if p else rules.PROTOCOL_DEFAULTS[a.scale]
        )
        due = scales.reassess_due(
            a.assessed_at.astimezone(UTC),
            a.total,
            every_hours=every,
            tight_from=tight_from,
            tight_hours=tight_hours,
        )
        out[a.admission_id][a.scale] = Reading(
            key=a.scale,
            value=a.total,
            taken_at=a.assessed_at,
            public_id=a.public_id,
            due_at=due,
            band=a.band,
        )
    return dict(out)


def indicated(triggers, scale: str, total: int | None, *, current: bool = True) -> list:
    """The score-triggered PRN orders (facility.registry.ScoreTrigger) a score now indicates: the
    same scale, a total at or above the trigger, and a score still current."""
    if total is None or not current:
        return []
    return [t for t in triggers if t.scale == scale and total >= t.min_score]


# ---------------------------------------------------------------- the scan


def _strike_generations(statuses: list[ProtocolStatus]) -> dict[int, int]:
    """{protocol id: how many of its struck scores were taken after the score its due time
    counts from} (overdue_key), in one query."""
    out = {s.protocol.pk: 0 for s in statuses}
    if not statuses:
        return out
    since = {s.protocol.pk: s.last.assessed_at if s.last else None for s in statuses}
    struck = ScaleAssessment.objects.filter(
        protocol__in=list(out), struck_at__isnull=False
    ).values_list("protocol_id", "assessed_at")
    for protocol_id, assessed_at in struck:
        if since[protocol_id] is None or assessed_at > since[protocol_id]:
            out[protocol_id] += 1
    return out


def scan_reassessments_overdue(*, now: datetime | None = None) -> int:
    """Alert once per protocol per owed assessment that is overdue (rules.OVERDUE_AFTER past its
    due time), and again when the score that answered it is struck (overdue_key), for the
    nurse, linked to the scoring page. A client off site owes nothing until
    they return (then at once). Open protocols of open stays only; a fixed number of queries."""
    now = now or timezone.now()
    protocols = list(
        WithdrawalProtocol.objects.filter(
            ended_at__isnull=True, started_at__lte=now, admission__discharged_at__isnull=True
        ).select_related("admission__client", "admission__facility")
    )
    statuses = protocol_statuses({p.admission_id for p in protocols}, now=now, protocols=protocols)
    overdue = [s for s in statuses.values() if s.state == "overdue"]
    generations = _strike_generations(overdue)
    alerts = []
    for status in overdue:
        p = status.protocol
        admission, client = p.admission, p.admission.client
        due = timezone.localtime(status.due_at, admission.facility.tz)
        if status.last is None:
            what = "first score"
        else:
            last = status.last
            when = timezone.localtime(last.assessed_at, admission.facility.tz)
            what = f"reassessment (last {last.total}, {status.band_name}, at {when:%H:%M})"
        alerts.append(
            Alert(
                facility=admission.facility,
                kind=OVERDUE_KIND,
                severity=AlertSeverity.CRITICAL,
                message=f"{client.display_name}: {status.scale_name} {what} was due at "
                f"{due:%H:%M} and is overdue.",
                dedupe_key=overdue_key(p, status.due_at, generations[p.pk]),
                client_public_id=client.public_id,
                client_label=client.mrn,
                link=score_url(admission, p.scale),
                raised_at=now,
            )
        )
    return alerts_raise_many(alerts)
