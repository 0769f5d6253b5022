"""The MAR section of the client chart: active orders and today's doses."""

from datetime import timedelta

from django.utils import timezone

from facility import policy
from facility.registry import ChartSection, register_chart_section, register_score_trigger_source
from medications.models import Order, ScheduledDose
from medications.services import dose_views, live_prefetch
from medications.services.holds import score_triggers


def _mar(request, client, admission):
    if admission is None:
        return {"admission": None}
    now = timezone.now()
    orders = list(
        Order.objects.filter(admission=admission, discontinued_at__isnull=True)
        .select_related("medication")
        .order_by("medication__name")
    )
    doses = list(
        ScheduledDose.objects.filter(
            order__admission=admission,
            scheduled_at__gte=now - timedelta(hours=12),
            scheduled_at__lt=now + timedelta(hours=12),
        )
        .select_related("order__medication")
        .prefetch_related(live_prefetch())
        .order_by("order_id", "scheduled_at")
    )
    views = sorted(dose_views(doses, now), key=lambda v: v.dose.scheduled_at)
    user = request.user
    return {
        "admission": admission,
        "orders": orders,
        "views": views,
        "can_open": policy.allows(user, "mar.use"),
    }


register_chart_section(
    ChartSection(
        key="mar",
        title="Medications (MAR)",
        template="medications/sections/mar.html",
        render=_mar,
        order=30,
    )
)

# The withdrawal board (observations) lists the PRN a score now indicates (issue 11).
register_score_trigger_source("medications", score_triggers)
