"""The rounds section of the client chart: current level, observer, last checks, missed today."""

from datetime import datetime, time

from django.utils import timezone

from facility import policy
from facility.models import Alert
from facility.registry import ChartSection, register_chart_section
from observations.forms import ObserverForm
from observations.models import LevelOrder
from observations.services import current_levels


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
        "observer_form": ObserverForm(facility=admission.facility)
        if level.is_continuous and policy.allows(user, "floor.chart", admission)
        else None,
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
