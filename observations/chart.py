"""The sections observations adds to the client chart: rounds (current level, observer and any
hand-off waiting for its incoming observer, last checks, missed today) and vital signs (latest set,
trends, history)."""

from datetime import datetime, time

from django.utils import timezone

from facility import policy
from facility.models import Alert
from facility.registry import ChartSection, register_chart_section
from observations.forms import ObserverForm
from observations.models import LevelOrder
from observations.services import current_levels, pending_handoff
from observations.vitals_chart import vitals_section


def _rounds(request, client, admission):
    if admission is None or not admission.is_open:
        return {"admission": None}
    now = timezone.now()
    level = current_levels([admission], now)[admission.pk]
    tz = admission.facility.tz
    midnight = datetime.combine(timezone.localtime(now, tz).date(), time.min, tzinfo=tz)
    checks = list(
        admission.round_checks.select_related("location", "status", "recorded_by").order_by(
            "-observed_at"
        )[:8]
    )
    missed_today = Alert.objects.filter(
        kind="missed_check", client_public_id=client.public_id, raised_at__gte=midnight
    ).count()
    observer = (
        admission.observer_assignments.filter(ended_at__isnull=True)
        .select_related("observer")
        .first()
    )
    user = request.user
    can_chart = level.is_continuous and policy.allows(user, "floor.chart", admission)
    handoff = pending_handoff(admission) if level.is_continuous else None
    return {
        "admission": admission,
        "level": level,
        "checks": checks,
        "missed_today": missed_today,
        "observer": observer,
        "history": list(
            LevelOrder.objects.filter(admission=admission).select_related("ordered_by")[:10]
        ),
        "can_change": policy.allows(user, "level.change", admission),
        "can_confirm": policy.allows(user, "level.order", admission),
        "handoff": handoff,
        # Only the person offered accepts or declines; anyone who charts may withdraw.
        "offered_to_me": handoff is not None and handoff.to_observer_id == user.pk,
        "can_chart": can_chart,
        "observer_form": ObserverForm(facility=admission.facility)
        if can_chart and handoff is None
        else None,
        "i_observe": observer is not None and observer.observer_id == user.pk,
    }


register_chart_section(
    ChartSection(
        key="rounds",
        title="Observation level and rounds",
        template="observations/sections/rounds.html",
        render=_rounds,
        order=5,
    )
)


# --- Vital signs (issue 11 items 1, 2 and 4): built in observations/vitals_chart.py ----------

register_chart_section(
    ChartSection(
        key="vitals",
        title="Vital signs",
        template="observations/sections/vitals.html",
        render=vitals_section,
        order=20,
        capability="vitals.view",
    )
)


# --- Withdrawal (issue 11 item 5) -------------------------------------------------------------


def _withdrawal(request, client, admission):
    """Open protocols with when the next score is due, ended ones, and the scores of the stay
    (struck ones shown struck). Three to five queries, whatever the history."""
    from observations import withdrawal as rules
    from observations.models import ScaleAssessment, WithdrawalProtocol
    from observations.services.withdrawal import protocol_statuses

    if admission is None:
        return {"admission": None}
    now = timezone.now()
    protocols = list(
        WithdrawalProtocol.objects.filter(admission=admission)
        .select_related("ordered_by", "ended_by")
        .order_by("-started_at")
    )
    open_ = [p for p in protocols if p.ended_at is None]
    statuses = protocol_statuses([admission.pk], now=now, protocols=open_) if open_ else {}
    scores = list(
        ScaleAssessment.objects.filter(admission=admission)
        .select_related("recorded_by")
        .order_by("-assessed_at", "-id")[:20]
    )
    user = request.user
    return {
        "admission": admission,
        "open": [statuses[p.pk] for p in open_ if p.pk in statuses],
        "ended": [p for p in protocols if p.ended_at is not None][:5],
        "scores": [
            (s, rules.SCALE_NAMES[s.scale], rules.BAND_NAMES.get(s.band, s.band)) for s in scores
        ],
        "can_order": admission.is_open and policy.allows(user, "withdrawal.order", admission),
        "can_assess": admission.is_open and policy.allows(user, "withdrawal.assess", admission),
        "scales": list(rules.SCALE_NAMES.items()),
    }


register_chart_section(
    ChartSection(
        key="withdrawal",
        title="Withdrawal (CIWA-Ar, COWS)",
        template="observations/sections/withdrawal.html",
        render=_withdrawal,
        order=25,
        capability="withdrawal.view",
    )
)


def _register_withdrawal_readings():
    """The latest CIWA-Ar and COWS per stay for other apps (the MAR's score-triggered PRN)."""
    from facility.registry import register_reading_source
    from observations.services.withdrawal import latest_scores

    register_reading_source("withdrawal", latest_scores)


_register_withdrawal_readings()
