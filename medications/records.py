"""The medications app's record category (issue 16): orders and every documented dose (given,
refused, held, sent with the client...) for a disclosure packet or the client's own copy."""

from django.db.models import Q

from facility.registry import RecordCategory, register_record_category
from medications.models import Administration, Order


def medications(*, client, start, end, user=None) -> dict:
    """Orders active at some moment of [start, end) and the administrations recorded in it,
    struck ones shown struck: two queries."""
    orders = list(
        Order.objects.filter(admission__client=client, start_at__lt=end)
        .filter(Q(stop_at__isnull=True) | Q(stop_at__gte=start))
        .select_related("medication")
        .order_by("start_at", "pk")
    )
    administrations = list(
        Administration.objects.filter(
            order__admission__client=client, recorded_at__gte=start, recorded_at__lt=end
        )
        .select_related("order__medication", "dose", "recorded_by")
        .order_by("recorded_at", "pk")
    )
    for a in administrations:
        a.when = a.given_at or (a.dose.scheduled_at if a.dose else a.recorded_at)
    return {"orders": orders, "administrations": administrations}


register_record_category(
    RecordCategory(
        key="medications",
        label="Medications and administrations",
        template="medications/records/medications.html",
        render=medications,
        order=20,
    )
)
