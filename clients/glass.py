"""The clients app's side of break-the-glass (facility/glass.py holds the services).

- `locate`: the registry's client locator, finding a client by MRN in any facility, whatever
  the case, dashes or spaces (the core does not import this app).
- `chart_requires`: the chart view's gate. It asks "census.view" like before; a person without
  it (an admin) passes only to a chart they hold an active emergency access to.
- `section_shown`: under emergency access a person without the chart's read capabilities sees
  the sections every chart reader sees (their capability is the census's read permission).
"""

from functools import wraps

from django.contrib.auth.decorators import login_required

from facility import glass, policy
from facility.roles import CAPABILITIES

VIA_GLASS = "client chart (break-the-glass)"


def mrn_key(mrn: str) -> str:
    """An MRN as compared: upper case, without dashes or spaces (`h01-000017` = `H01000017`)."""
    return "".join(ch for ch in (mrn or "").upper() if ch not in "- \t")


def locate(mrn: str | None, *, facility=None, public_ids=None) -> list:
    from django.db.models import Value
    from django.db.models.functions import Replace, Upper

    from clients.models import Client

    if public_ids is not None:  # naming clients the core knows by id (one query)
        return list(Client.objects.filter(public_id__in=public_ids).select_related("facility"))
    key = mrn_key(mrn)
    if not key:
        return []
    stored = Upper(Replace(Replace("mrn", Value("-"), Value("")), Value(" "), Value("")))
    found = (
        Client.objects.annotate(mrn_key=stored)
        .filter(mrn_key=key)
        .select_related("facility")
        .order_by("id")
    )
    if facility is not None:
        found = found.filter(facility=facility)
    return list(found[:5])


def chart_requires(capability: str):
    """Like `policy.requires(capability)` for a GET of one client's page, letting through a
    holder of "break_glass" with an active access to that client (else the same 403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, public_id, *args, **kwargs):
            user = request.user
            glass_reader = policy.allows(user, "break_glass")
            if not policy.allows(user, capability) and not (
                glass_reader and glass.holds_access(user, public_id)
            ):
                policy.require(user, capability)
            return view(request, public_id, *args, **kwargs)

        checked = login_required(wrapped)
        checked.capabilities = {"GET": capability, "POST": capability}
        return checked

    return decorator


def via_glass(user, client) -> bool:
    """The user reads this chart only through an emergency access."""
    return not glass.can_already_see(user, client)


def section_shown(user, capability: str, *, glass_view: bool) -> bool:
    if policy.allows(user, capability):
        return True
    return glass_view and CAPABILITIES.get(capability) == CAPABILITIES["census.view"]


def register() -> None:
    from facility.registry import register_client_locator, register_workflow_alert

    register_client_locator(locate)
    # The alert raised when the glass is broken closes only with the supervisor's sign-off.
    register_workflow_alert(glass.ALERT_KIND, glass.CLOSED_BY)
