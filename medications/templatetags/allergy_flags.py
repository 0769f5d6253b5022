"""The med pass's allergy flag: orders a drug allergy now blocks that their override (if any)
does not cover, because the allergy was recorded after the order was written (issue 9)."""

from django import template

from medications.allergies import conflicts_by_order

register = template.Library()


@register.simple_tag
def allergy_conflicts(client, orders) -> dict[int, str]:
    """{% allergy_conflicts client orders as conflicts %}: order pk -> the allergens; one query
    for all the orders."""
    return conflicts_by_order(client, orders)
