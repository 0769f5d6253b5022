"""The rounds section of the client chart: current level, observer and any hand-off waiting for
its incoming observer, last checks, missed today."""

from datetime import datetime, time

from django.utils import timezone

from facility import policy
from facility.models import Alert
from facility.registry import ChartSection, register_chart_section
from observations.forms import ObserverForm
from observations.models import LevelOrder
from observations.services import current_levels, pending_handoff


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
