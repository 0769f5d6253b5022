"""What a discharge settled in the MAR, for the discharge confirmation page (issue 9 item 3):
the orders it discontinued and how each of the client's own controlled stocks left."""

from django import template
from django.db.models import Q, Sum

from medications.discharge import REASON
from medications.models import ControlledStock, MovementKind

register = template.Library()


@register.simple_tag
def discharge_summary(admission) -> dict:
    """{"orders": those discontinued for the discharge, "stocks": the client's own stocks
    disposed of, each with `disposed` (the quantity that left)}."""
    orders = list(
        admission.orders.filter(discontinue_reason=REASON)
        .select_related("medication")
        .order_by("medication__name")
    )
    left = Sum("movements__change", filter=Q(movements__kind=MovementKind.DISPOSITION))
    stocks = list(
        ControlledStock.objects.filter(admission=admission)
        .exclude(disposition="")
        .select_related("medication", "disposed_by", "disposition_witness")
        .annotate(disposed=left)
        .order_by("medication__name")
    )
    for stock in stocks:
        stock.disposed = -(stock.disposed or 0)
    return {"orders": orders, "stocks": stocks}
