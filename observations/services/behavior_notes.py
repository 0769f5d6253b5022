"""Behavior and mood notes (specs/charting.md, "Behavior and mood notes"; issue 12 item 1).

A technician's or nurse's note: the structured fields of the spec (each optional, at least one
given) and a narrative in the facility's format (default BIRP). Saved is signed: a note is never
edited, only struck as entered in error with a reason, by its author or a nurse (or supervisor).
A risk flag asks for a C-SSRS screen now and alerts the nurse. "Flag for handoff" is stored for the
shift report (issue 15).

Times: a note may be back-dated up to 24 hours without a reason. It is a late entry when it is
recorded after the shift that holds its observed time had ended (observations.notes, as progress
notes), or more than 60 minutes after the observed time (DESIGN.md §2, "60 minutes otherwise"
for entries other than rounds).
"""

import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from clients.models import Admission
from facility import policy
from facility.models import AlertSeverity, User
from facility.registry import TimelineEntry
from facility.services import alert_raise
from observations import notes
from observations.models import (
    MEAL_PERCENTS,
    Affect,
    Behavior,
    BehaviorNote,
    CssrsReason,
    Mood,
    Participation,
    RiskFlag,
    RoundCheck,
    SleepQuality,
)
from observations.services.cssrs import RISK_FLAG_ALERT_KIND, screen_request_open

MAX_BACKDATE = timedelta(hours=24)
LATE_AFTER = timedelta(minutes=60)
# A round status prefills the note only when it was charted this recently (the quick entry
# from the board follows the round that was just charted).
PREFILL_WITHIN = timedelta(minutes=60)
CRITICAL_FLAGS = {RiskFlag.SUICIDAL.value, RiskFlag.HOMICIDAL.value}
MEALS = (("meal_breakfast", "Breakfast"), ("meal_lunch", "Lunch"), ("meal_dinner", "Dinner"))
ALERT_KIND = RISK_FLAG_ALERT_KIND  # closed by the C-SSRS screen that answers it
# What the "at least one" message names, in the form's order.
STRUCTURED_NAMES = (
    "mood", "affect", "behavior", "participation", "sleep", "meals", "cravings", "risk flags",
)  # fmt: skip

# A round status (its label, in the facility's words) → the behavior chips and mood it clearly
# says. Matched on words of the label, so a facility's own codes ("Calm in day room") map too;
# the default codes (observations/services/defaults.py) are: A "Awake, calm" → calm,
# AG "Agitated", IS "Isolative", CR "Crying" → tearful, RIS "Responding to internal stimuli",
# V/PA "Verbally/Physically aggressive" → hostile, AN "Anxious" → the mood anxious. Sleeping,
# eating, in group, walking, pacing, refused interaction and the rest prefill nothing.
STATUS_WORDS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (r"\bcalm\b", (Behavior.CALM,), ""),
    (r"\bcooperative\b", (Behavior.COOPERATIVE,), ""),
    (r"\bwithdrawn\b", (Behavior.WITHDRAWN,), ""),
    (r"\bisolat(ive|ing|ed)\b", (Behavior.ISOLATIVE,), ""),
    (r"\bagitat(ed|ion)\b", (Behavior.AGITATED,), ""),
    (r"\b(hostile|aggressive)\b", (Behavior.HOSTILE,), ""),
    (r"\bintrusive\b", (Behavior.INTRUSIVE,), ""),
    (r"\bdisorganized\b", (Behavior.DISORGANIZED,), ""),
    (r"\binternal stimuli\b", (Behavior.INTERNAL_STIMULI,), ""),
    (r"\b(crying|tearful)\b", (Behavior.TEARFUL,), ""),
    (r"\bguarded\b", (Behavior.GUARDED,), ""),
    (r"\banxious\b", (), Mood.ANXIOUS),
)


def status_prefill(label: str) -> tuple[list[str], str]:
    """The behavior chips and mood a round status's label clearly says (possibly none)."""
    behaviors: list[str] = []
    mood = ""
    text = label.lower()
    for pattern, chips, says_mood in STATUS_WORDS:
        if re.search(pattern, text):
            behaviors.extend(str(c) for c in chips if c not in behaviors)
            mood = mood or str(says_mood)
    return behaviors, mood


def last_round_check(admission: Admission) -> RoundCheck | None:
    """The stay's most recent round check, with its status (the board's quick entry)."""
    return (
        RoundCheck.objects.filter(admission=admission)
        .select_related("status")
        .order_by("-observed_at", "-id")
        .first()
    )


def is_late(observed_at: datetime, recorded_at: datetime, facility) -> bool:
    """Recorded after the observed time's shift ended, or more than LATE_AFTER after it."""
    return recorded_at - observed_at > LATE_AFTER or notes.is_late_entry(
        observed_at, recorded_at, facility.shift_pattern, facility.tz
    )


def _choice(errors: dict, field: str, label: str, value, allowed) -> str:
    value = value or ""
    if value and value not in allowed:
        errors[field] = f"{label}: choose from the list."
    return value


def _choices(errors: dict, field: str, label: str, values, allowed) -> list[str]:
    out = []
    for value in values or ():
        if value not in allowed:
            errors[field] = f"{label}: choose from the list."
        elif value not in out:
            out.append(value)
    # In the spec's order, whatever order they were tapped in.
    order = list(allowed)
    return sorted(out, key=order.index)


def _sleep(errors: dict, value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        hours = Decimal(str(value))
    except InvalidOperation:
        errors["sleep_hours"] = "Sleep: enter hours between 0 and 24."
        return None
    if not hours.is_finite() or not 0 <= hours <= 24 or hours != hours.quantize(Decimal("0.1")):
        errors["sleep_hours"] = "Sleep: enter hours between 0 and 24 (at most one decimal)."
        return None
    return hours


def _meal(errors: dict, field: str, label: str, value) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or value not in MEAL_PERCENTS:
        errors[field] = f"{label}: choose 0, 25, 50, 75 or 100 %."
        return None
    return value


def _cravings(errors: dict, value) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        errors["cravings"] = "Cravings: enter a whole number from 0 to 10."
        return None
    return value


def _observed_at(errors: dict, admission: Admission, observed_at: datetime, now: datetime):
    if observed_at is None:
        errors["observed_at"] = "Observed at: enter a date and time."
    elif observed_at > now:
        errors["observed_at"] = "Observed at: cannot be in the future."
    elif now - observed_at > MAX_BACKDATE:
        errors["observed_at"] = "Observed at: at most 24 hours back."
    elif observed_at < admission.admitted_at:
        errors["observed_at"] = "Observed at: before the client was admitted."


@transaction.atomic
def behavior_note_record(
    *,
    actor: User,
    admission: Admission,
    observed_at: datetime,
    mood_words: str = "",
    mood: str = "",
    affect: str = "",
    affect_congruent: bool | None = None,
    behaviors=(),
    participation: str = "",
    sleep_hours=None,
    sleep_quality: str = "",
    meal_breakfast: int | None = None,
    meal_lunch: int | None = None,
    meal_dinner: int | None = None,
    cravings: int | None = None,
    risk_flags=(),
    narrative: dict | None = None,
    handoff: bool = False,
    round_check: RoundCheck | None = None,
    now: datetime | None = None,
) -> BehaviorNote:
    """Record a behavior and mood note, signed as saved (specs/charting.md). Each structured
    field is optional but at least one of them or a narrative section is required. A risk flag
    opens a C-SSRS request (observations.services.cssrs) and alerts the nurse: critical for
    suicidal or homicidal thoughts, a warning otherwise."""
    now = now or timezone.now()
    # The stay as it is now, locked: a note cannot slip in beside a discharge.
    admission = (
        Admission.objects.select_for_update(of=("self",))
        .select_related("client", "facility")
        .get(pk=admission.pk)
    )
    policy.require(actor, "behavior_note.write", admission)
    facility = admission.facility
    errors: dict[str, str] = {}
    _observed_at(errors, admission, observed_at, now)
    mood_words = (mood_words or "").strip()
    if len(mood_words) > 200:
        errors["mood_words"] = "In the client's words: at most 200 characters."
    mood = _choice(errors, "mood", "Mood", mood, Mood.values)
    affect = _choice(errors, "affect", "Affect", affect, Affect.values)
    if affect_congruent is not None and not affect:
        errors["affect"] = "Affect: choose the affect to say whether it is congruent."
    behaviors = _choices(errors, "behaviors", "Behavior", behaviors, Behavior.values)
    participation = _choice(
        errors, "participation", "Participation", participation, Participation.values
    )
    sleep = _sleep(errors, sleep_hours)
    sleep_quality = _choice(
        errors, "sleep_quality", "Sleep quality", sleep_quality, SleepQuality.values
    )
    meals = {
        field: _meal(errors, field, label, value)
        for (field, label), value in zip(
            MEALS, (meal_breakfast, meal_lunch, meal_dinner), strict=True
        )
    }
    cravings = _cravings(errors, cravings)
    flags = _choices(errors, "risk_flags", "Risk flags", risk_flags, RiskFlag.values)
    try:
        sections = notes.clean_sections(facility.note_format, narrative or {})
    except ValueError as exc:
        errors["narrative"] = str(exc)
        sections = {}
    if round_check is not None and round_check.admission_id != admission.pk:
        errors["round_check"] = "The round check is another client's."
    if errors:
        raise ValidationError(errors)
    given = [
        mood_words or mood,
        affect,
        behaviors,
        participation,
        sleep is not None or sleep_quality,
        any(v is not None for v in meals.values()),
        cravings is not None,
        flags,
    ]
    if not any(given) and not sections:
        labels = [label for _key, label in notes.sections_of(facility.note_format)]
        raise ValidationError(
            "Nothing to save: enter at least one of "
            + ", ".join(STRUCTURED_NAMES)
            + ", or a narrative section ("
            + ", ".join(labels)
            + ")."
        )
    note = BehaviorNote.objects.create(
        admission=admission,
        observed_at=observed_at,
        recorded_at=now,
        recorded_by=actor,
        mood_words=mood_words,
        mood=mood,
        affect=affect,
        affect_congruent=affect_congruent,
        behaviors=behaviors,
        participation=participation,
        sleep_hours=sleep,
        sleep_quality=sleep_quality,
        cravings=cravings,
        risk_flags=flags,
        narrative_format=facility.note_format,
        narrative=sections,
        handoff=bool(handoff),
        round_check=round_check,
        late_entry=is_late(observed_at, now, facility),
        **meals,
    )
    if flags:
        _risk_flagged(note, actor, now)
    return note


def _cssrs_link(admission: Admission) -> str:
    """Where the nurse screens: the C-SSRS page once it exists (issue 12 item 3), else the
    client's chart."""
    try:
        return reverse("observations:cssrs_screen", args=[admission.public_id])
    except NoReverseMatch:
        return reverse("clients:chart", args=[admission.client.public_id])


def _risk_flagged(note: BehaviorNote, actor: User, now: datetime) -> None:
    """A C-SSRS screen owed now, and one alert for the nurse naming every flag of the note."""
    admission = note.admission
    labels = [RiskFlag(f).label for f in note.risk_flags]
    request = screen_request_open(
        actor=actor,
        admission=admission,
        reason=CssrsReason.RISK_FLAG,
        detail=("Behavior note: " + ", ".join(labels))[:300],
        behavior_note=note,
        now=now,
    )
    tz = admission.facility.tz
    name = admission.client.display_name
    critical = any(f in CRITICAL_FLAGS for f in note.risk_flags)
    observed = timezone.localtime(note.observed_at, tz)
    due = timezone.localtime(request.due_at, tz)
    alert_raise(
        facility=admission.facility,
        kind=ALERT_KIND,
        severity=AlertSeverity.CRITICAL if critical else AlertSeverity.WARNING,
        message=(
            f"{name}: risk flag in a behavior note by {actor.signature} ({observed:%H:%M}): "
            f"{', '.join(labels)}. C-SSRS screen due by {due:%H:%M}."
        ),
        dedupe_key=f"{ALERT_KIND}:{note.public_id}",
        client_public_id=admission.client.public_id,
        client_label=name,
        link=_cssrs_link(admission),
        now=now,
        audience="nurse",
    )


@transaction.atomic
def behavior_note_strike(
    *, actor: User, note: BehaviorNote, reason: str, now: datetime | None = None
) -> BehaviorNote:
    """Entered in error: the note stays on the chart, struck through, with who, when and why.
    Its author may strike it, or a nurse or supervisor (policy rule "behavior_note.strike")."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Reason: say what was wrong."})
    if len(reason) > 300:
        raise ValidationError({"reason": "Reason: at most 300 characters."})
    locked = (
        BehaviorNote.objects.select_for_update()
        .select_related("admission__facility")
        .get(pk=note.pk)
    )
    policy.require(actor, "behavior_note.strike", locked)
    if locked.struck_at is not None:
        raise ValidationError("This note was already struck.")
    locked.struck_at = now or timezone.now()
    locked.struck_by = actor
    locked.struck_reason = reason
    locked.save(update_fields=["struck_at", "struck_by", "struck_reason"])
    return locked


# ---------------------------------------------------------------- reading


def _pct(value: int | None) -> str:
    return f"{value} %" if value is not None else ""


def note_summary(note: BehaviorNote) -> list[tuple[str, str]]:
    """The structured part in words, as (label, text) pairs, empty fields left out."""
    out = []
    if note.mood or note.mood_words:
        words = f"“{note.mood_words}”" if note.mood_words else ""
        out.append(("Mood", " ".join(p for p in (note.get_mood_display(), words) if p)))
    if note.affect:
        text = note.get_affect_display()
        if note.affect_congruent is not None:
            text += ", congruent" if note.affect_congruent else ", not congruent"
        out.append(("Affect", text))
    if note.behaviors:
        out.append(("Behavior", ", ".join(Behavior(b).label.lower() for b in note.behaviors)))
    if note.participation:
        out.append(("Participation", note.get_participation_display()))
    if note.sleep_hours is not None or note.sleep_quality:
        parts = [f"{note.sleep_hours.normalize():f} h" if note.sleep_hours is not None else ""]
        parts.append(note.get_sleep_quality_display().lower() if note.sleep_quality else "")
        out.append(("Sleep", ", ".join(p for p in parts if p)))
    meals = [
        f"{label} {_pct(getattr(note, field))}"
        for field, label in MEALS
        if getattr(note, field) is not None
    ]
    if meals:
        out.append(("Meals eaten", ", ".join(meals)))
    if note.cravings is not None:
        out.append(("Cravings", f"{note.cravings}/10"))
    if note.risk_flags:
        out.append(("Risk flags", ", ".join(RiskFlag(f).label for f in note.risk_flags)))
    return out


def note_sections(note: BehaviorNote) -> list[tuple[str, str]]:
    """The narrative as (section label, text), in its format's order."""
    try:
        labels = notes.sections_of(note.narrative_format)
    except ValueError:
        return list(note.narrative.items())
    return [(label, note.narrative[key]) for key, label in labels if note.narrative.get(key)]


def struck_text(note: BehaviorNote, tz) -> str:
    if note.struck_at is None:
        return ""
    when = timezone.localtime(note.struck_at, tz)
    return (
        f"Entered in error: {note.struck_reason} "
        f"({note.struck_by.signature}, {when:%Y-%m-%d %H:%M})"
    )


def behavior_timeline(admission, *, since=None, until=None, user=None) -> list[TimelineEntry]:
    """The stay's behavior notes between two instants for the chart's timeline, struck ones
    shown struck with their reason: one query."""
    found = BehaviorNote.objects.filter(admission=admission).select_related(
        "recorded_by", "struck_by"
    )
    if since is not None:
        found = found.filter(observed_at__gte=since)
    if until is not None:
        found = found.filter(observed_at__lt=until)
    tz = admission.facility.tz
    sentinel = "00000000-0000-0000-0000-000000000000"
    pattern = reverse("observations:behavior_note", args=[sentinel])
    entries = []
    for note in found.order_by("-observed_at", "-id"):
        parts = [f"{label}: {text}" for label, text in note_summary(note)]
        parts += [f"{label}: {text}" for label, text in note_sections(note)]
        title = "Behavior note"
        if note.risk_flags:
            title += " · risk flag"
        if note.handoff:
            title += " · handoff"
        entries.append(
            TimelineEntry(
                kind="behavior",
                at=note.observed_at,
                title=title,
                text=" · ".join(parts),
                author=note.recorded_by.signature,
                href=pattern.replace(sentinel, str(note.public_id)),
                recorded_at=note.recorded_at,
                struck=note.struck_at is not None,
                struck_note=struck_text(note, tz),
                late=note.late_entry,
            )
        )
    return entries
