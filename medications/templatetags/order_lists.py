"""The counts on the MAR board's links to the order worklists, and who is offered the
prescriber's pages (issue 9, item 10)."""

from django import template

from facility import policy
from facility.roles import holds_prescribing_credentials
from medications import services

register = template.Library()

NOT_A_PRESCRIBER = (
    "Only an MD, DO, NP or PA enters and signs an order; your credentials are “{}”. "
    "Give the order to a nurse to transcribe."
)


def prescribing_refusal(user) -> str | None:
    """Why this user may not enter, sign or co-sign orders, or None if they may: the
    capability and prescribing credentials (MD, DO, NP, PA) both."""
    if not policy.allows(user, "order.prescribe"):
        return policy.REFUSALS.get("order.prescribe", policy.DEFAULT_REFUSAL)
    if not holds_prescribing_credentials(user):
        return NOT_A_PRESCRIBER.format(user.credentials or "none")
    return None


@register.simple_tag
def may_prescribe(user) -> bool:
    """{% may_prescribe request.user as ok %}: offer "Enter and sign an order", "To co-sign"."""
    return prescribing_refusal(user) is None


@register.simple_tag
def order_worklist_counts(user) -> dict:
    """{"verify": n} for a nurse, {"cosign": n} for a prescriber: one count query each."""
    counts = {}
    if policy.allows(user, "order.verify"):
        counts["verify"] = services.orders_awaiting_check(user).count()
    if policy.allows(user, "order.cosign") and may_prescribe(user):
        counts["cosign"] = services.orders_awaiting_cosign(user).count()
    return counts
