"""The counts on the MAR board's links to the order worklists (issue 9, item 10)."""

from django import template

from facility import policy
from medications import services

register = template.Library()


@register.simple_tag
def order_worklist_counts(user) -> dict:
    """{"verify": n} for a nurse, {"cosign": n} for a prescriber: one count query each."""
    counts = {}
    if policy.allows(user, "order.verify"):
        counts["verify"] = services.orders_awaiting_check(user).count()
    if policy.allows(user, "order.cosign"):
        counts["cosign"] = services.orders_awaiting_cosign(user).count()
    return counts
