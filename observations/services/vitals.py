"""Vital signs: recording a set (plausible ranges, °F, NEWS2 with the schedule in force, flags and
alerts), striking one, ordering a schedule, and the overdue scan (specs/scales.md; issue 11 items
1–3). The due math is in observations.vitals."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from clients.models import Admission, Leave
from facility import policy
from facility.models import Alert, AlertSeverity, User
from facility.services import alert_raise, alerts_close, alerts_raise_many
from observations import scales
from observations.models import VitalSigns, VitalsSchedule, VitalsSource
from observations.vitals import every_text, overdue_at, vitals_due, vitals_state

# A set entered this long after it was taken needs a reason (it is a late entry, DESIGN.md §2):
# the time to walk back from the room to the tablet.
LATE_GRACE = timedelta(minutes=15)
# Sets from a paper sheet may be entered up to a day back, with a reason.
MAX_BACKDATE = timedelta(hours=24)
CLOCK_SLACK = timedelta(seconds=30)
# What was entered as a value and what the model stores.
VALUE_FIELDS = ("sbp", "dbp", "hr", "rr", "temp", "spo2", "pain", "weight_kg", "acvpu")
# A set with one of these counts as "vitals taken" for the schedule; a weight or a pain score
# alone does not (the safer reading: the client stays due until someone takes the vital signs).
CORE_FIELDS = ("sbp", "hr", "rr", "temp_c", "spo2")
OVERDUE_KIND = "vitals_overdue"
SKIP_KIND = "vitals_skipped"
FAHRENHEIT = "F"
# °F plausible range shown to a nurse who typed °F (30–43 °C).
F_RANGE = "86–109.4 °F"
NEWS2_SEVERITY = {
    "high": AlertSeverity.CRITICAL,
    "medium": AlertSeverity.CRITICAL,
    "low-medium": AlertSeverity.WARNING,
    "low": AlertSeverity.INFO,
}
SCHEDULE_MIN, SCHEDULE_MAX = 15, 7 * 24 * 60
SCHEDULE_AHEAD = timedelta(days=7)
TENTH = Decimal("0.1")


def _chart_vitals(admission: Admission) -> str:
    return reverse("clients:chart", args=[admission.client.public_id]) + "#section-vitals"


def _open(admission: Admission) -> None:
    """A discharged stay is not charted on; read from the row (the caller's copy may be stale),
    locked so a discharge racing this write waits for it."""
    discharged = (
        Admission.objects.select_for_update()
        .filter(pk=admission.pk)
        .values_list("discharged_at", flat=True)
        .get()
    )
    if discharged is not None or admission.discharged_at is not None:
        raise PermissionDenied("This client has been discharged.")


def _number(field: str, label: str, value):
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"{label}: enter a number."}) from None


def _measured(values: dict, temp_unit: str) -> tuple[dict, Decimal | None]:
    """The values as the model stores them (°C), and the °F typed, if any."""
    out: dict = {}
    for key in ("sbp", "dbp", "hr", "rr", "spo2", "pain"):
        number = _number(key, scales.VITALS[key].label, values.get(key))
        if number is not None and number != number.to_integral():
            raise ValidationError({key: f"{scales.VITALS[key].label}: enter a whole number."})
        out[key] = int(number) if number is not None else None
    out["weight_kg"] = _number("weight_kg", "Weight", values.get("weight_kg"))
    temp = _number("temp", "Temperature", values.get("temp"))
    temp_f = None
    if temp is not None and temp_unit == FAHRENHEIT:
        temp_f, temp = temp, scales.f_to_c(temp)
    elif temp_unit not in ("C", FAHRENHEIT):
        raise ValidationError({"temp_unit": "Temperature unit: choose °C or °F."})
    if temp is not None and temp.is_finite():
        # The column keeps 0.1 °C: round here, half-up, so what is scored and flagged is what
        # is stored (35.04 → 35.0, a notify value and a NEWS2 temperature of 3).
        temp = temp.quantize(TENTH, rounding=ROUND_HALF_UP)
    out["temp_c"] = temp
    acvpu = values.get("acvpu") or ""
    if acvpu not in ("", *scales.ACVPU):
        raise ValidationError({"acvpu": "Consciousness: choose A, C, V, P or U."})
    out["acvpu"] = acvpu
    on_oxygen = values.get("on_oxygen")
    out["on_oxygen"] = None if on_oxygen in (None, "") else bool(on_oxygen)
    return out, temp_f


def _implausible(out: dict, temp_f) -> dict[str, str]:
    errors = scales.implausible({k: v for k, v in out.items() if k in scales.VITALS})
    if "temp_c" in errors:
        message = errors.pop("temp_c")
        if temp_f is not None:
            message = (
                f"Temperature {temp_f} °F is not plausible: the range is {F_RANGE} "
                "(30–43 °C). Check the reading and enter it again."
            )
        errors["temp"] = message
    return errors


def _check_time(admission, taken_at: datetime, now: datetime, late_reason: str) -> datetime:
    """Not in the future (beyond a clock difference), not before the admission, at most a day
    back, and with a reason when entered more than LATE_GRACE after it was taken."""
    if taken_at > now + CLOCK_SLACK:
        raise ValidationError({"taken_at": "Taken at: cannot be in the future."})
    if taken_at < admission.admitted_at:
        raise ValidationError({"taken_at": "Taken at: before this client was admitted."})
    if taken_at < now - MAX_BACKDATE:
        raise ValidationError({"taken_at": "Taken at: at most 24 hours back."})
    if now - taken_at > LATE_GRACE and not late_reason.strip():
        raise ValidationError(
            {"late_reason": "Reason for late entry: say why this set is entered now."}
        )
    return min(taken_at, now)


def schedules_in_force(admissions, at: datetime) -> dict[int, VitalsSchedule]:
    """The schedule in force at `at` for each stay that has one, in one query."""
    rows = (
        VitalsSchedule.objects.filter(
            admission__in=[a.pk for a in admissions], effective_from__lte=at
        )
        .order_by("admission_id", "-effective_from", "-id")
        .distinct("admission_id")
    )
    return {s.admission_id: s for s in rows}


@dataclass(frozen=True)
class VitalsStatus:
    """What is owed of one stay's vitals now: the one answer of the board, census, round, scan."""

    state: str  # ok, due_soon, due, overdue, off_site
    due_at: datetime
    every_minutes: int
    last_taken_at: datetime | None
    scheduled: bool  # False: the facility default applies

    @property
    def owed(self) -> bool:
        return self.state in ("due_soon", "due", "overdue")

    @property
    def every_text(self) -> str:
        return every_text(self.every_minutes)

    def words(self, tz, now: datetime) -> str:
        """ "overdue since 14:00", "due since 14:00", "due 14:00", "next 18:00"."""
        at = timezone.localtime(self.due_at, tz)
        today = at.date() == timezone.localtime(now, tz).date()
        when = f"{at:%H:%M}" if today else f"{at:%b} {at.day} {at:%H:%M}"
        return {
            "overdue": f"overdue since {when}",
            "due": f"due since {when}",
            "due_soon": f"due {when}",
            "ok": f"next {when}",
            "off_site": "off site",
        }[self.state]


def _recent_leaves(admissions, now) -> dict[int, list]:
    """Leaves still open or ended in the last day (an older return is long past any set owed on
    return); a prefetched `recent_leaves` (the board's) is used as is."""
    if all(hasattr(a, "recent_leaves") for a in admissions):
        return {a.pk: list(a.recent_leaves) for a in admissions}
    out: dict[int, list] = {}
    for leave in Leave.objects.filter(admission__in=[a.pk for a in admissions]).filter(
        Q(returned_at__isnull=True) | Q(returned_at__gte=now - timedelta(hours=24))
    ):
        out.setdefault(leave.admission_id, []).append(leave)
    return out


def _core() -> Q:
    core = Q()
    for name in CORE_FIELDS:
        core |= Q(**{f"{name}__isnull": False})
    return core


def _due_inputs(admissions, now: datetime) -> dict[int, tuple]:
    """(last set's taken_at, schedule every, schedule start) per stay, in one query."""
    schedule = VitalsSchedule.objects.filter(
        admission=OuterRef("pk"), effective_from__lte=now
    ).order_by("-effective_from", "-id")
    last = (
        VitalSigns.objects.filter(admission=OuterRef("pk"), struck_at__isnull=True)
        .filter(_core())
        .order_by("-taken_at", "-id")
    )
    rows = (
        Admission.objects.filter(pk__in=[a.pk for a in admissions])
        .annotate(
            v_last=Subquery(last.values("taken_at")[:1]),
            s_every=Subquery(schedule.values("every_minutes")[:1]),
            s_from=Subquery(schedule.values("effective_from")[:1]),
        )
        .values_list("pk", "v_last", "s_every", "s_from")
    )
    return {pk: (v_last, s_every, s_from) for pk, v_last, s_every, s_from in rows}


def vitals_status(admissions, now: datetime, *, facility=None) -> dict[int, VitalsStatus]:
    """Each stay's vitals state now, in two queries whatever the number of stays (one when the
    admissions carry `recent_leaves`). `facility` saves loading each stay's facility."""
    admissions = list(admissions)
    if not admissions:
        return {}
    inputs = _due_inputs(admissions, now)
    leaves = _recent_leaves(admissions, now)
    out = {}
    for a in admissions:
        last_taken, s_every, s_from = inputs[a.pk]
        every = s_every or (facility or a.facility).vitals_default_every_minutes
        since = max(a.admitted_at, s_from) if s_from else a.admitted_at
        mine = leaves.get(a.pk, [])
        due = vitals_due(
            last_taken_at=last_taken,
            every_minutes=every,
            since=since,
            leaves=[(lv.left_at, lv.returned_at) for lv in mine],
        )
        if any(lv.returned_at is None and lv.left_at <= now for lv in mine):
            state = "off_site"
        else:
            state = vitals_state(now=now, due_at=due, every_minutes=every)
        out[a.pk] = VitalsStatus(state, due, every, last_taken, s_every is not None)
    return out


@dataclass(frozen=True)
class Reading:
    """A saved set as the result page shows it."""

    vitals: VitalSigns
    news2: scales.News2
    flags: list[str]
    not_validated: str  # why NEWS2 is not validated for this client, or ""


def _not_validated(admission: Admission, schedule: VitalsSchedule | None, at: datetime) -> str:
    """specs/scales.md: NEWS2 is not validated under 16 or in pregnancy."""
    if schedule is not None and schedule.pregnant:
        return "NEWS2 is not validated in pregnancy."
    day = timezone.localtime(at, admission.facility.tz).date()
    if admission.client.age_on(day) < 16:
        return "NEWS2 is not validated under 16."
    return ""


def vitals_news2(vitals: VitalSigns) -> scales.News2:
    """The NEWS2 of a stored set, recomputed from its values and the SpO2 scale it was taken on
    (the stored total and band are the same numbers)."""
    return scales.news2(
        rr=vitals.rr,
        spo2=vitals.spo2,
        on_oxygen=vitals.on_oxygen,
        sbp=vitals.sbp,
        hr=vitals.hr,
        acvpu=vitals.acvpu or None,
        temp_c=vitals.temp_c,
        spo2_scale=vitals.spo2_scale,
    )


def vitals_reading(vitals: VitalSigns) -> Reading:
    """A stored set with its NEWS2, flags and the not-validated note."""
    schedule = schedules_in_force([vitals.admission], vitals.recorded_at).get(vitals.admission_id)
    return Reading(
        vitals,
        vitals_news2(vitals),
        [f for f in vitals.flags.split(",") if f],
        _not_validated(vitals.admission, schedule, vitals.taken_at),
    )


def flag_text(vitals: VitalSigns, key: str) -> str:
    """ "HR 130 (notify > 120)"."""
    limit = scales.VITALS[key]
    value = getattr(vitals, key)
    return f"{limit.label} {value} {limit.unit} (notify {limit.notify_text})".replace(" (0–10)", "")


def news2_partial(news: scales.News2) -> tuple[int, str]:
    """The sum of the parameters present and the band it already reaches: an incomplete set is
    at least "high" from 7, "medium" from 5 and "low-medium" with one parameter scoring 3 (more
    parameters can only add to the score). "" when it reaches no band that asks for a response
    beyond the routine; a complete set gives its own total and band."""
    if news.total is not None:
        return news.total, news.band
    total = sum(news.subscores.values())
    if total >= 7:
        return total, "high"
    if total >= 5:
        return total, "medium"
    if news.red:
        return total, "low-medium"
    return total, ""


def _missing_text(news: scales.News2) -> str:
    return ", ".join(scales.NEWS2_PARAMETERS[k].lower() for k in news.missing)


def _alert(vitals: VitalSigns, news: scales.News2, flags: list[str], now: datetime) -> None:
    """An out-of-range value or a NEWS2 above low-0 alerts the nurse; the band's response says
    what to do (specs/scales.md). An incomplete set whose parameters present already score 3 on
    one parameter, 5 or 7 alerts at that band ("at least high; incomplete: missing …"): a
    missing temperature never hides an emergency."""
    partial_total, partial_band = news2_partial(news) if news.total is None else (0, "")
    scored = news.total is not None and news.total > 0
    if not flags and not scored and not partial_band:
        return
    admission = vitals.admission
    name = admission.client.display_name
    parts = []
    if news.total is not None:
        parts.append(f"NEWS2 {news.total} ({news.band}): {news.response}")
    elif partial_band:
        parts.append(
            f"NEWS2 at least {partial_total} (at least {partial_band}; incomplete: missing "
            f"{_missing_text(news)}): {scales.NEWS2_RESPONSE[partial_band]}"
        )
    if flags:
        parts.append("Out of range: " + ", ".join(flag_text(vitals, f) for f in flags) + ".")
    taken = timezone.localtime(vitals.taken_at, admission.facility.tz)
    if scored:
        severity = NEWS2_SEVERITY[news.band]
    elif partial_band:
        severity = NEWS2_SEVERITY[partial_band]
    else:
        severity = AlertSeverity.WARNING
    if flags and severity == AlertSeverity.INFO:
        severity = AlertSeverity.WARNING
    alert_raise(
        facility=admission.facility,
        kind="news2" if scored or partial_band else "vitals_flag",
        severity=severity,
        message=f"{name}: vitals at {taken:%H:%M}. " + " ".join(parts),
        dedupe_key=f"vitals:{vitals.public_id}",
        client_public_id=admission.client.public_id,
        client_label=name,
        link=_chart_vitals(admission),
        now=now,
    )


def close_overdue_alerts(admission: Admission, *, actor: User, taken_at: datetime, now) -> int:
    """Close the client's open overdue (and skipped) vitals alerts that the sets on the chart now
    answer, judged by `vitals_status` after saving: a set entered late whose taken_at is older
    than the last set answers nothing, so while the stay is still owed a set, the overdue alert
    for that owed time (either key, see `overdue_key`) and the round's skip alerts stay open."""
    status = vitals_status([admission], now)[admission.pk]
    alerts = Alert.objects.open().filter(
        client_public_id=admission.client.public_id, kind__in=[OVERDUE_KIND, SKIP_KIND]
    )
    if status.state in ("due", "overdue", "off_site"):
        alerts = alerts.exclude(kind=SKIP_KIND).exclude(
            dedupe_key__startswith=overdue_key(admission, status.due_at)
        )
    when = timezone.localtime(taken_at, admission.facility.tz)
    return alerts_close(
        alerts.values_list("dedupe_key", flat=True),
        user=actor,
        note=f"Vitals recorded, taken at {when:%H:%M}.",
        now=now,
    )


@transaction.atomic
def vitals_record(
    *,
    actor: User,
    admission: Admission,
    taken_at: datetime,
    values: dict,
    temp_unit: str = "C",
    source: str = VitalsSource.CHART,
    late_reason: str = "",
    remark: str = "",
    now: datetime | None = None,
) -> VitalSigns:
    """Record one set (specs/scales.md, Vital signs and NEWS2).

    An implausible value refuses the whole set, keyed by field, and nothing is saved. A °F
    temperature is stored in °C (the °F typed is kept). NEWS2 uses the SpO2 scale of the schedule
    in force when the set was taken. A flag or a NEWS2 above 0 alerts the nurse; a set with a
    vital sign closes the client's overdue-vitals alert."""
    policy.require(actor, "vitals.record", admission)
    _open(admission)
    now = now or timezone.now()
    if source not in VitalsSource.values:
        raise ValidationError({"source": "Unknown source."})
    out, temp_f = _measured(values, temp_unit)
    if all(out[k] in (None, "") for k in ("sbp", "dbp", "hr", "rr", "temp_c", "spo2", "pain",
                                          "weight_kg", "acvpu")):  # fmt: skip
        raise ValidationError("Enter at least one vital sign.")
    errors = _implausible(out, temp_f)
    if out["spo2"] is not None and out["on_oxygen"] is None:
        # The safer reading: a default of "air" would under-score a client on oxygen by 2.
        errors.setdefault("on_oxygen", "Air or oxygen: choose one with the SpO2.")
    if (out["sbp"] is None) != (out["dbp"] is None):
        key = "dbp" if out["dbp"] is None else "sbp"
        errors.setdefault(key, "Blood pressure: enter both the systolic and the diastolic.")
    if errors:
        raise ValidationError(errors)
    taken_at = _check_time(admission, taken_at, now, late_reason)
    # The schedule in force as the set is entered: what the clinician documented last (SpO2
    # scale 2, pregnancy) is what the nurse reads now, even for a set taken minutes before.
    schedule = schedules_in_force([admission], now).get(admission.pk)
    spo2_scale = 2 if schedule is not None and schedule.spo2_scale2 else 1
    news = scales.news2(
        rr=out["rr"],
        spo2=out["spo2"],
        on_oxygen=out["on_oxygen"],
        sbp=out["sbp"],
        hr=out["hr"],
        acvpu=out["acvpu"] or None,
        temp_c=out["temp_c"],
        spo2_scale=spo2_scale,
    )
    flags = scales.flags({k: v for k, v in out.items() if k in scales.VITALS})
    vitals = VitalSigns.objects.create(
        admission=admission,
        taken_at=taken_at,
        recorded_at=now,
        recorded_by=actor,
        late_reason=late_reason.strip() if now - taken_at > LATE_GRACE else "",
        source=source,
        temp_f_entered=temp_f,
        spo2_scale=spo2_scale,
        news2_total=news.total,
        news2_band="" if news.band == "incomplete" else news.band,
        news2_red=news.total is not None and news.red,
        flags=",".join(flags),
        remark=remark.strip(),
        **out,
    )
    _alert(vitals, news, flags, now)
    if any(out[k] is not None for k in CORE_FIELDS):
        close_overdue_alerts(admission, actor=actor, taken_at=taken_at, now=now)
    return vitals


@transaction.atomic
def vitals_strike(*, actor: User, vitals: VitalSigns, reason: str) -> VitalSigns:
    """Strike a set entered in error; the reason is kept and the set stays visible. A client
    owed a set again once it is struck, and overdue, is alerted again at once (see
    `_realert_overdue`)."""
    policy.require(actor, "vitals.record", vitals)
    locked = VitalSigns.objects.select_for_update().get(pk=vitals.pk)
    if locked.struck_at is not None:
        raise ValidationError("This set is already struck.")
    if not reason.strip():
        raise ValidationError({"reason": "Reason: say why this set is struck."})
    locked.struck_at = timezone.now()
    locked.struck_by = actor
    locked.struck_reason = reason.strip()
    locked.save(update_fields=["struck_at", "struck_by", "struck_reason"])
    admission = Admission.objects.select_related("client", "facility").get(pk=locked.admission_id)
    if admission.discharged_at is None:
        _realert_overdue(admission, locked, locked.struck_at)
    return locked


def _realert_overdue(admission: Admission, struck: VitalSigns, now: datetime) -> None:
    """After a strike: if the stay is overdue and no alert for that owed time is open, raise one.
    The owed time is often the one whose alert the struck set closed, and a closed key is never
    raised again (alerts are `once`), so the alert then takes the struck set's key:
    `overdue_key(...)` + ":struck:<set public id>", new for each strike. A plain key never
    raised is raised as is (the scan would raise it anyway). Every key of one owed time starts
    with its plain key, so a later set closes them all together."""
    status = vitals_status([admission], now)[admission.pk]
    if status.state != "overdue":
        return
    plain = overdue_key(admission, status.due_at)
    mine = Alert.objects.filter(dedupe_key__startswith=plain, kind=OVERDUE_KIND)
    if mine.open().exists():
        return
    key = f"{plain}:struck:{struck.public_id}" if mine.exists() else plain
    alert_raise(**_overdue_fields(admission, status), dedupe_key=key, now=now)


@transaction.atomic
def vitals_schedule_set(
    *,
    actor: User,
    admission: Admission,
    every_minutes: int,
    spo2_scale2: bool,
    pregnant: bool,
    reason: str,
    effective_from: datetime | None = None,
) -> VitalsSchedule:
    """Order how often this client's vitals are owed (a new row; the old one stays as history)."""
    policy.require(actor, "vitals.schedule", admission)
    _open(admission)
    now = timezone.now()
    effective_from = effective_from or now
    errors = {}
    if not SCHEDULE_MIN <= every_minutes <= SCHEDULE_MAX:
        errors["every_minutes"] = "Every: between 15 minutes and 7 days."
    if not reason.strip():
        errors["reason"] = "Reason: say why (for example: CIWA-Ar protocol)."
    if effective_from < admission.admitted_at:
        errors["effective_from"] = "From: not before the admission."
    elif effective_from < now - MAX_BACKDATE:
        errors["effective_from"] = "From: at most 24 hours back."
    elif effective_from > now + SCHEDULE_AHEAD:
        errors["effective_from"] = "From: at most 7 days ahead."
    if errors:
        raise ValidationError(errors)
    return VitalsSchedule.objects.create(
        admission=admission,
        every_minutes=every_minutes,
        spo2_scale2=spo2_scale2,
        pregnant=pregnant,
        reason=reason.strip(),
        effective_from=effective_from,
        ordered_by=actor,
    )


@transaction.atomic
def vitals_skip(*, actor: User, admission: Admission, reason: str, round_key) -> Alert:
    """A client skipped on a vitals round (asleep, refused, in group): charted as an alert for the
    nurse, so nobody drops off silently; the set stays owed and the overdue scan still runs."""
    policy.require(actor, "vitals.record", admission)
    _open(admission)
    if not reason.strip():
        raise ValidationError({"skip_reason": "Reason: say why this client is skipped."})
    name = admission.client.display_name
    alert, _ = alert_raise(
        facility=admission.facility,
        kind=SKIP_KIND,
        severity=AlertSeverity.WARNING,
        message=f"{name}: skipped on the vitals round by {actor.signature}: {reason.strip()}",
        dedupe_key=f"{SKIP_KIND}:{round_key}:{admission.public_id}",
        client_public_id=admission.client.public_id,
        client_label=name,
        link=reverse("observations:vitals_record", args=[admission.public_id]),
    )
    return alert


def overdue_key(admission: Admission, due_at: datetime) -> str:
    """One alert per client per owed set. A set struck after it answered that alert re-raises it
    with this key + ":struck:<set public id>" (`_realert_overdue`); the scan raises only this
    plain key, so it never duplicates an open re-raised alert."""
    return f"{OVERDUE_KIND}:{admission.public_id}:{due_at.astimezone(UTC):%Y%m%dT%H%M%S}"


def _overdue_fields(admission: Admission, status: VitalsStatus) -> dict:
    tz = admission.facility.tz
    name = admission.client.display_name
    return {
        "facility": admission.facility,
        "kind": OVERDUE_KIND,
        "severity": AlertSeverity.WARNING,
        "message": f"{name}: vitals overdue, owed at "
        f"{timezone.localtime(status.due_at, tz):%H:%M} ({status.every_text}).",
        "client_public_id": admission.client.public_id,
        "client_label": name,
        "link": reverse("observations:vitals_record", args=[admission.public_id]),
    }


def scan_vitals_overdue(*, now: datetime | None = None) -> int:
    """Alert once per client per owed set that is overdue (observations.vitals); clients off site
    are skipped now and owe the set on their return. Returns how many alerts were raised. (An
    alert re-raised after a strike has its own key: `_realert_overdue` raises it only when this
    plain key was raised before, so the scan, skipping known keys, never duplicates it.)"""
    now = now or timezone.now()
    admissions = list(
        Admission.objects.current()
        .filter(admitted_at__lte=now)
        .select_related("client", "facility")
    )
    statuses = vitals_status(admissions, now)
    alerts = [
        Alert(
            **_overdue_fields(a, statuses[a.pk]),
            dedupe_key=overdue_key(a, statuses[a.pk].due_at),
            raised_at=now,
        )
        for a in admissions
        if statuses[a.pk].state == "overdue"
    ]
    return alerts_raise_many(alerts)


__all__ = [
    "CORE_FIELDS",
    "LATE_GRACE",
    "OVERDUE_KIND",
    "SKIP_KIND",
    "Reading",
    "VitalsStatus",
    "flag_text",
    "news2_partial",
    "overdue_at",
    "scan_vitals_overdue",
    "schedules_in_force",
    "vitals_news2",
    "vitals_reading",
    "vitals_record",
    "vitals_schedule_set",
    "vitals_skip",
    "vitals_status",
    "vitals_strike",
]
