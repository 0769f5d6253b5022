"""The C-SSRS screen version (specs/charting.md; issue 12 item 3): screens owed (at admission,
after a risk flag, when a clinician orders one), recording a screen with its triage, what a
result sets in motion (alerts; the 1:1 or q15 raise is offered on the result page and goes
through `levels.level_order`, the one raise path), the safety plan prompt, striking a screen,
and the overdue scan. The triage itself is observations.scales.cssrs_screen."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from clients.models import Admission
from facility import policy
from facility.models import Alert, AlertSeverity, User
from facility.services import alert_raise, alert_resolve, alerts_close, alerts_raise_many
from observations import scales
from observations.models import (
    BehaviorNote,
    CssrsReason,
    CssrsRequest,
    CssrsResult,
    CssrsScreen,
)

# A screen asked for by a risk flag is owed at once; the due time is when it shows as overdue.
RISK_FLAG_DUE = timedelta(minutes=30)
ORDERED_DUE = timedelta(hours=4)
# The screen owed at admission (NPSG.15.01.01 screens everyone at intake): Haven's *default* is
# within 4 hours of admission, after which the floor is alerted (the spec sets no deadline; an
# unscreened new client is the riskier reading).
ADMISSION_DUE = timedelta(hours=4)
# A screen entered after it was done (from a paper form) may be back-dated this far.
MAX_BACKDATE = timedelta(hours=24)
CLOCK_SLACK = timedelta(seconds=30)
SCREEN_TIME_PRECISION = timedelta(minutes=1)

HIGH_KIND = "cssrs_high"
MODERATE_KIND = "cssrs_moderate"
SAFETY_PLAN_KIND = "cssrs_safety_plan"
OVERDUE_KIND = "cssrs_overdue"
# The nurse's alert for a behavior note's risk flags (raised by services.behavior_notes): the
# screen that answers the flag closes it.
RISK_FLAG_ALERT_KIND = "behavior_risk"
# The one workflow that closes a safety-plan alert (facility.registry.register_workflow_alert).
SAFETY_PLAN_CLOSED_BY = "a safety plan recorded as started or reviewed on the C-SSRS result"

HIGH_AUDIENCE = "nurse,clinician,supervisor"
MODERATE_AUDIENCE = "clinician"
HIGH_MESSAGE = "High risk on C-SSRS: offer 1:1 now"
MODERATE_MESSAGE = "Moderate risk on C-SSRS: clinician review; q15 suggested"
SAFETY_PLAN_MESSAGE = "C-SSRS high risk: no safety plan started or reviewed yet"

# The questions as the screen asks them, in order; q3-q5 only after a yes to q2, q6_recent only
# after a yes to q6 (specs/charting.md).
FOLLOW_UPS = {"q2": ("q3", "q4", "q5"), "q6": ("q6_recent",)}
ALWAYS_ASKED = ("q1", "q2", "q6")
QUESTION_NUMBER = {"q1": "1", "q2": "2", "q3": "3", "q4": "4", "q5": "5", "q6": "6",
                   "q6_recent": "6 (past 3 months)"}  # fmt: skip


def screen_url(screen: CssrsScreen) -> str:
    return reverse("observations:cssrs_result", args=[screen.public_id])


# ---------------------------------------------------------------- requests


@transaction.atomic
def screen_request_open(
    *,
    actor: User,
    admission,
    reason: str,
    detail: str = "",
    behavior_note: BehaviorNote | None = None,
    now: datetime | None = None,
) -> CssrsRequest:
    """Ask for a C-SSRS screen for this stay (a risk flag, or a clinician's order). An open
    request for the same stay is reused, not duplicated: one screen answers them all."""
    now = now or timezone.now()
    capability = "cssrs.order" if reason == CssrsReason.ORDERED else "cssrs.screen"
    if reason == CssrsReason.RISK_FLAG:
        capability = "behavior_note.write"
    policy.require(actor, capability, admission)
    if admission.discharged_at is not None:
        raise PermissionDenied("This client has been discharged.")
    due = now + (ORDERED_DUE if reason == CssrsReason.ORDERED else RISK_FLAG_DUE)
    existing = (
        CssrsRequest.objects.select_for_update()
        .filter(admission=admission, answered_by__isnull=True, cancelled_at__isnull=True)
        .order_by("due_at")
        .first()
    )
    if existing is not None:
        changed = []
        if due < existing.due_at:
            existing.due_at = due
            changed.append("due_at")
        if reason == CssrsReason.RISK_FLAG and existing.reason != CssrsReason.RISK_FLAG:
            # A risk flag outranks an order or an admission screen: its overdue alert is
            # critical and says why.
            existing.reason = reason
            existing.behavior_note = behavior_note
            existing.detail = (detail or existing.detail)[:300]
            changed += ["reason", "behavior_note", "detail"]
        if changed:
            existing.save(update_fields=changed)
        return existing
    return CssrsRequest.objects.create(
        admission=admission,
        reason=reason,
        detail=detail,
        behavior_note=behavior_note,
        requested_at=now,
        requested_by=actor,
        due_at=due,
    )


@dataclass(frozen=True)
class Owed:
    """A screen one stay owes now: after admission (no screen yet this stay: `request` None,
    no due time) or an open request (risk flag, order) with its due time."""

    reason: str
    since: datetime
    due_at: datetime | None
    request: CssrsRequest | None
    overdue: bool

    @property
    def reason_label(self) -> str:
        return CssrsReason(self.reason).label


def screens_owed(admissions, now: datetime | None = None) -> dict[int, Owed]:
    """What each open stay owes (stays owing nothing are absent), in two queries whatever the
    number of stays: an open request wins (it has a due time); else a stay with no screen
    since admission (struck ones do not count) owes the admission screen."""
    now = now or timezone.now()
    admissions = [a for a in admissions if a.discharged_at is None]
    ids = [a.pk for a in admissions]
    if not ids:
        return {}
    requests: dict[int, CssrsRequest] = {}
    for request in CssrsRequest.objects.filter(
        admission_id__in=ids, answered_by__isnull=True, cancelled_at__isnull=True
    ).order_by("due_at"):
        requests.setdefault(request.admission_id, request)
    screened = set(
        CssrsScreen.objects.filter(admission_id__in=ids, struck_at__isnull=True)
        .order_by()
        .values_list("admission_id", flat=True)
        .distinct()
    )
    owed = {}
    for admission in admissions:
        request = requests.get(admission.pk)
        if request is not None:
            owed[admission.pk] = Owed(
                request.reason, request.requested_at, request.due_at, request, request.due_at < now
            )
        elif admission.pk not in screened:
            due = admission.admitted_at + ADMISSION_DUE
            owed[admission.pk] = Owed(CssrsReason.ADMISSION, admission.admitted_at, due, None,
                                      due < now)  # fmt: skip
    return owed


# ---------------------------------------------------------------- answers


def follow_ups_missing(answers: dict) -> list[str]:
    """The follow-up questions a yes asks for that have no answer yet (q3-q5 after a yes to 2,
    q6_recent after a yes to 6): the form asks them again instead of refusing."""
    missing = []
    for gate, follow_ups in FOLLOW_UPS.items():
        if answers.get(gate) is True:
            missing.extend(k for k in follow_ups if answers.get(k) is None)
    return missing


def clean_answers(answers: dict) -> dict:
    """The answers as the screen stores them: q1, q2 and q6 always; q3-q5 only when 2 is yes;
    q6_recent only when 6 is yes.

    A yes to a question that was not asked is refused, not dropped: a "yes" to a plan with
    intent (5) beside a "no" to thoughts (2) is a contradiction a mis-tap makes, and dropping it
    would triage a disclosed plan as "none". The screener asks again and corrects one or the
    other. A "no" to a question not asked is dropped (it says nothing)."""
    unknown = sorted(set(answers) - set(scales.CSSRS_KEYS))
    if unknown:
        raise ValidationError(f"Unknown C-SSRS question(s): {', '.join(unknown)}.")
    errors = {}
    for key, value in answers.items():
        if value not in (True, False, None):
            errors[key] = f"Question {QUESTION_NUMBER[key]}: answer yes or no."
    for key in ALWAYS_ASKED:
        if answers.get(key) is None:
            errors.setdefault(key, f"Question {QUESTION_NUMBER[key]}: answer yes or no.")
    if errors:
        raise ValidationError(errors)
    kept = {key: answers[key] for key in ALWAYS_ASKED}
    for gate, follow_ups in FOLLOW_UPS.items():
        for key in follow_ups:
            value = answers.get(key)
            if answers[gate]:
                if value is None:
                    errors[key] = (
                        f"Question {QUESTION_NUMBER[key]}: answer yes or no (asked because "
                        f"question {QUESTION_NUMBER[gate]} is yes)."
                    )
                else:
                    kept[key] = value
            elif value is True:
                errors[key] = (
                    f"Question {QUESTION_NUMBER[key]} is yes, but question "
                    f"{QUESTION_NUMBER[gate]} is no: it is asked only after a yes to "
                    f"{QUESTION_NUMBER[gate]}. Check both answers with the client."
                )
    if errors:
        raise ValidationError(errors)
    return kept


def _check_time(admission: Admission, screened_at: datetime, now: datetime) -> datetime:
    if screened_at > now + CLOCK_SLACK:
        raise ValidationError({"screened_at": "Screened at: cannot be in the future."})
    if screened_at < admission.admitted_at:
        raise ValidationError({"screened_at": "Screened at: before this client was admitted."})
    if screened_at < now - MAX_BACKDATE:
        raise ValidationError({"screened_at": "Screened at: at most 24 hours back."})
    return min(screened_at, now)


# ---------------------------------------------------------------- recording


def _alert_fields(screen: CssrsScreen, admission: Admission) -> dict:
    name = admission.client.display_name
    return {
        "facility": admission.facility,
        "client_public_id": admission.client.public_id,
        "client_label": name,
        "link": screen_url(screen),
    }


def _raise_result_alerts(screen: CssrsScreen, admission: Admission, now: datetime) -> None:
    """High: the nurse, the clinician and the supervisor, critical, and a safety-plan alert
    until one is recorded; moderate: the clinician. Low and none alert nobody."""
    fields = _alert_fields(screen, admission)
    name = fields["client_label"]
    if screen.result == CssrsResult.HIGH:
        alert_raise(
            **fields,
            kind=HIGH_KIND,
            severity=AlertSeverity.CRITICAL,
            message=f"{name}: {HIGH_MESSAGE}.",
            dedupe_key=f"{HIGH_KIND}:{screen.public_id}",
            audience=HIGH_AUDIENCE,
            now=now,
        )
        if screen.safety_plan is not True:
            _raise_safety_plan_alert(screen, admission, now)
    elif screen.result == CssrsResult.MODERATE:
        alert_raise(
            **fields,
            kind=MODERATE_KIND,
            severity=AlertSeverity.WARNING,
            message=f"{name}: {MODERATE_MESSAGE}.",
            dedupe_key=f"{MODERATE_KIND}:{screen.public_id}",
            audience=MODERATE_AUDIENCE,
            now=now,
        )


def _raise_safety_plan_alert(screen: CssrsScreen, admission: Admission, now: datetime) -> None:
    alert_raise(
        **_alert_fields(screen, admission),
        kind=SAFETY_PLAN_KIND,
        severity=AlertSeverity.CRITICAL,
        message=f"{admission.client.display_name}: {SAFETY_PLAN_MESSAGE}.",
        dedupe_key=f"{SAFETY_PLAN_KIND}:{screen.public_id}",
        audience=HIGH_AUDIENCE,
        now=now,
    )


def admission_overdue_key(admission: Admission) -> str:
    return f"cssrs-admission:{admission.public_id}"


def overdue_key(request: CssrsRequest) -> str:
    return f"{OVERDUE_KIND}:{request.public_id}"


@transaction.atomic
def cssrs_screen_record(
    *,
    actor: User,
    admission: Admission,
    answers: dict,
    reason: str,
    screened_at: datetime | None = None,
    remark: str = "",
    safety_plan: bool | None = None,
    now: datetime | None = None,
) -> CssrsScreen:
    """Record one C-SSRS screen (specs/charting.md, Suicide-risk screening).

    `answers` holds True/False (or None: not asked) for q1-q6 and q6_recent; see
    `clean_answers` for what is kept and what is refused. The result is
    `scales.cssrs_screen` of the kept answers. The screen answers every open request of the
    stay and closes their overdue alerts; a high or moderate result alerts (see
    `_raise_result_alerts`)."""
    policy.require(actor, "cssrs.screen", admission)
    now = now or timezone.now()
    admission = (
        Admission.objects.select_for_update()
        .select_related("client", "facility")
        .get(pk=admission.pk)
    )
    if admission.discharged_at is not None:
        raise PermissionDenied("This client has been discharged.")
    if reason not in CssrsReason.values:
        raise ValidationError({"reason": "Why: choose why this screen is done."})
    if safety_plan not in (True, False, None):
        raise ValidationError({"safety_plan": "Safety plan: answer yes or no."})
    kept = clean_answers(answers)
    screened_at = _check_time(admission, screened_at or now, now)
    screen = CssrsScreen.objects.create(
        admission=admission,
        reason=reason,
        answers=kept,
        result=scales.cssrs_screen(kept),
        screened_at=screened_at,
        recorded_at=now,
        recorded_by=actor,
        remark=remark.strip(),
        safety_plan=safety_plan,
    )
    # A screen answers only what was asked before it was done: a paper screen from before a
    # risk flag leaves the flag's request open. Screen times come from forms to the minute, so
    # a request made within the screen's minute counts as before it.
    answered = list(
        CssrsRequest.objects.select_for_update().filter(
            admission=admission,
            answered_by__isnull=True,
            cancelled_at__isnull=True,
            requested_at__lt=screened_at + SCREEN_TIME_PRECISION,
        )
    )
    if answered:
        CssrsRequest.objects.filter(pk__in=[r.pk for r in answered]).update(answered_by=screen)
    flags = Alert.objects.open().filter(
        kind=RISK_FLAG_ALERT_KIND,
        client_public_id=admission.client.public_id,
        raised_at__lt=screened_at + SCREEN_TIME_PRECISION,
    )
    alerts_close(
        [overdue_key(r) for r in answered]
        + [admission_overdue_key(admission)]
        + list(flags.values_list("dedupe_key", flat=True)),
        user=actor,
        note="C-SSRS screen recorded.",
        now=now,
    )
    _raise_result_alerts(screen, admission, now)
    return screen


@transaction.atomic
def cssrs_safety_plan_record(
    *, actor: User, screen: CssrsScreen, started: bool, now: datetime | None = None
) -> CssrsScreen:
    """The safety-plan prompt of a high screen: was a safety plan started or reviewed. A yes
    closes the safety-plan alert; a no keeps it open (and can later become a yes). A yes is
    never taken back: the plan was started."""
    policy.require(actor, "cssrs.screen", screen)
    now = now or timezone.now()
    locked = CssrsScreen.objects.select_for_update().get(pk=screen.pk)
    if locked.struck_at is not None:
        raise ValidationError("This screen was struck as entered in error.")
    if started not in (True, False):
        raise ValidationError({"safety_plan": "Safety plan: answer yes or no."})
    if locked.safety_plan is True:
        if started:
            return locked
        raise ValidationError(
            {"safety_plan": "Safety plan: already recorded as started or reviewed."}
        )
    locked.safety_plan = started
    locked.save(update_fields=["safety_plan"])
    if started:
        _close_safety_plan_alert(locked, actor, "Safety plan started or reviewed.")
    elif locked.result == CssrsResult.HIGH:
        admission = Admission.objects.select_related("client", "facility").get(
            pk=locked.admission_id
        )
        _raise_safety_plan_alert(locked, admission, now)
    return locked


def _close_safety_plan_alert(screen: CssrsScreen, actor: User, note: str) -> None:
    for alert in Alert.objects.open().filter(
        kind=SAFETY_PLAN_KIND, dedupe_key=f"{SAFETY_PLAN_KIND}:{screen.public_id}"
    ):
        alert_resolve(alert=alert, user=actor, note=note, workflow=True)


STRIKE_REFUSAL = "Only the person who recorded this screen, a nurse or a supervisor can strike it."


def may_strike(user: User, screen: CssrsScreen) -> bool:
    """One's own screen; anyone's for the charge roles (nurses, supervisors)."""
    return policy.allows(user, "cssrs.screen", screen) and (
        screen.recorded_by_id == user.pk or policy.allows(user, "cssrs.strike_any")
    )


@transaction.atomic
def cssrs_screen_strike(
    *, actor: User, screen: CssrsScreen, reason: str, now: datetime | None = None
) -> CssrsScreen:
    """Strike a screen entered in error (wrong client, wrong answers); it stays visible, struck,
    with the reason, and what it answered is owed again: the most urgent request it answered
    is asked again as a new request (the old one keeps its history), and a stay left with no
    screen owes the admission screen again. The alerts it raised stay open for a person to
    resolve (a strike never silences a high-risk alert); only its safety-plan prompt closes,
    since no plan can be recorded on a struck screen."""
    policy.require(actor, "cssrs.screen", screen)
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Reason: say why this screen is struck."})
    locked = CssrsScreen.objects.select_for_update().get(pk=screen.pk)
    if not may_strike(actor, locked):
        raise PermissionDenied(STRIKE_REFUSAL)
    if locked.struck_at is not None:
        raise ValidationError("This screen is already struck.")
    locked.struck_at = now
    locked.struck_by = actor
    locked.struck_reason = reason
    locked.save(update_fields=["struck_at", "struck_by", "struck_reason"])
    _close_safety_plan_alert(locked, actor, f"C-SSRS screen struck as entered in error: {reason}")
    admission = Admission.objects.get(pk=locked.admission_id)
    answered = list(CssrsRequest.objects.filter(answered_by=locked).order_by("due_at"))
    still_open = CssrsRequest.objects.filter(
        admission=admission, answered_by__isnull=True, cancelled_at__isnull=True
    ).exists()
    if answered and admission.discharged_at is None and not still_open:
        # One request answers them all (screen_request_open): the most urgent is asked again.
        old = answered[0]
        due = ORDERED_DUE if old.reason == CssrsReason.ORDERED else RISK_FLAG_DUE
        CssrsRequest.objects.create(
            admission=admission,
            reason=old.reason,
            detail=f"Asked again: the screen that answered it was struck ({reason})"[:300],
            behavior_note=old.behavior_note,
            requested_at=now,
            requested_by=actor,
            due_at=now + due,
        )
    return locked


# ---------------------------------------------------------------- the scan


def scan_cssrs_overdue(*, now: datetime | None = None) -> int:
    """Alert once per open request past its due time (a stay on leave too: the screen is owed
    on return, and the nurse should know). After a risk flag the alert is critical. The
    screen that answers the request closes it. Returns how many alerts were raised."""
    now = now or timezone.now()
    overdue = CssrsRequest.objects.filter(
        answered_by__isnull=True,
        cancelled_at__isnull=True,
        due_at__lt=now,
        admission__discharged_at__isnull=True,
    ).select_related("admission__client", "admission__facility")
    alerts = []
    for request in overdue:
        admission = request.admission
        name = admission.client.display_name
        due = timezone.localtime(request.due_at, admission.facility.tz)
        risk = request.reason == CssrsReason.RISK_FLAG
        alerts.append(
            Alert(
                facility=admission.facility,
                kind=OVERDUE_KIND,
                severity=AlertSeverity.CRITICAL if risk else AlertSeverity.WARNING,
                message=f"{name}: C-SSRS screen overdue ({request.get_reason_display().lower()}"
                f"), owed by {due:%H:%M}.",
                dedupe_key=overdue_key(request),
                client_public_id=admission.client.public_id,
                client_label=name,
                link=reverse("observations:cssrs_screen", args=[admission.public_id]),
                raised_at=now,
            )
        )
    alerts.extend(_admission_screens_overdue(now))
    return alerts_raise_many(alerts)


def _admission_screens_overdue(now: datetime) -> list[Alert]:
    """Open stays admitted more than ADMISSION_DUE ago with no screen this stay (struck ones do
    not count) and no open request (that one alerts by itself): one alert per stay."""
    screened = CssrsScreen.objects.filter(admission=OuterRef("pk"), struck_at__isnull=True)
    requested = CssrsRequest.objects.filter(
        admission=OuterRef("pk"), answered_by__isnull=True, cancelled_at__isnull=True
    )
    stays = (
        Admission.objects.filter(discharged_at__isnull=True, admitted_at__lt=now - ADMISSION_DUE)
        .exclude(Exists(screened))
        .exclude(Exists(requested))
        .select_related("client", "facility")
    )
    alerts = []
    for admission in stays:
        name = admission.client.display_name
        due = timezone.localtime(admission.admitted_at + ADMISSION_DUE, admission.facility.tz)
        alerts.append(
            Alert(
                facility=admission.facility,
                kind=OVERDUE_KIND,
                severity=AlertSeverity.WARNING,
                message=f"{name}: C-SSRS screen at admission not done, owed by {due:%H:%M}.",
                dedupe_key=admission_overdue_key(admission),
                client_public_id=admission.client.public_id,
                client_label=name,
                link=reverse("observations:cssrs_screen", args=[admission.public_id]),
                raised_at=now,
            )
        )
    return alerts
