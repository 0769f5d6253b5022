"""What the policy would let the signed-in user do, for showing or hiding a button (the button a
technician may not use is not offered: facility/policy.py RULES decide, issue 9 item 9)."""

from django import template

from facility import policy
from medications.models import Administration, Outcome

register = template.Library()


@register.simple_tag(takes_context=True)
def may(context, capability: str, obj=None) -> bool:
    """{% may "mar.follow_up" administration as can_follow_up %}"""
    return policy.allows(context["request"].user, capability, obj)


@register.simple_tag(takes_context=True)
def may_observe(context, order) -> bool:
    """{% may_observe order as ok %}: may this user chart a dose of `order` as observed
    self-administration (technician scope: the facility's routes and controlled setting)?"""
    charting = Administration(order=order, outcome=Outcome.GIVEN, self_administered=True)
    return policy.allows(context["request"].user, "mar.record", charting)
