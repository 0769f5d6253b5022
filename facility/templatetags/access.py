"""Asking the access policy from a template: show a link only to those it would open for."""

from django import template

from facility import policy

register = template.Library()


@register.simple_tag(takes_context=True)
def allows(context, capability: str | None) -> bool:
    """`{% allows "alerts.view" as may %}`: the signed-in user holds the capability (an empty
    capability: anyone who sees the page)."""
    request = context.get("request")
    if request is None:
        return False
    return not capability or policy.allows(request.user, capability)
