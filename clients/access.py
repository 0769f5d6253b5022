"""Request helpers for pages about one client or one stay, shared by every app that charts on
clients (issue 8: no app imports another app's views).

Strangers get 404: a client outside the user's facilities does not exist for them (DESIGN.md §3).

Break-the-glass (facility/glass.py): a client visible only through an emergency access is logged
on every page that opens it ("break-the-glass: <path>", once per request), and a person whose
access to that client ended in the last day gets a 404 that says so.
"""

from datetime import timedelta

from django.http import Http404
from django.utils import timezone

from clients.models import Admission, Client
from facility import glass, policy
from facility.access import client_ip
from facility.models import AccessAction, BreakGlassAccess
from facility.services import access_log

# How long after an emergency access ends its holder is told so instead of a bare 404.
GLASS_ENDED_TOLD_FOR = timedelta(hours=24)


def _log_glass_view(request, client) -> None:
    """One VIEW row per request for a page opened only through an emergency access."""
    if getattr(request, "_glass_view_logged", False) or glass.can_already_see(request.user, client):
        return
    request._glass_view_logged = True
    glass.seen_through_access(request)
    access_log(
        action=AccessAction.VIEW,
        actor=request.user,
        facility=client.facility,
        client=client,
        what=f"break-the-glass: {request.path}"[:200],
        ip=client_ip(request),
    )


def _not_found(request, client_public_id) -> Http404:
    """404; when the user's emergency access to this client ended lately, the page says when."""
    user = request.user
    if client_public_id is not None and policy.allows(user, "break_glass"):
        now = timezone.now()
        ended = (
            BreakGlassAccess.objects.filter(
                user_id=user.pk,
                client_public_id=client_public_id,
                expires_at__lte=now,
                expires_at__gt=now - GLASS_ENDED_TOLD_FOR,
            )
            .select_related("facility")
            .order_by("-expires_at")
            .first()
        )
        if ended is not None:
            at = timezone.localtime(ended.expires_at, ended.facility.tz)
            # templates/404.html shows it (the request is in the 404 page's context).
            request.glass_ended_message = (
                f"Your emergency access to {ended.client_label} ended at {at:%H:%M %Z}. "
                "Open a new one from Emergency if you still need it."
            )
    return Http404("No such client.")


def client_for(request, public_id, *, log_glass: bool = True) -> Client:
    """A client the user may see, else 404.

    Times on the page are shown and entered on the client's facility clock, which may not be
    the facility the user is working in. `log_glass=False` for a view that logs the emergency
    view itself (the chart).
    """
    client = (
        Client.objects.visible_to(request.user)
        .select_related("facility")
        .filter(public_id=public_id)
        .first()
    )
    if client is None:
        raise _not_found(request, public_id)
    timezone.activate(client.facility.tz)
    if log_glass:
        _log_glass_view(request, client)
    elif not glass.can_already_see(request.user, client):
        glass.seen_through_access(request)
    return client


def admission_for(request, public_id) -> Admission:
    """A stay of a client the user may see, else 404; activates the stay's facility clock."""
    admission = (
        Admission.objects.select_related("client", "facility", "bed", "unit")
        .filter(public_id=public_id, client__in=Client.objects.visible_to(request.user))
        .first()
    )
    if admission is None:
        client_public_id = None
        if policy.allows(request.user, "break_glass"):
            client_public_id = (
                Admission.objects.filter(public_id=public_id)
                .values_list("client__public_id", flat=True)
                .first()
            )
        raise _not_found(request, client_public_id)
    timezone.activate(admission.facility.tz)
    if admission.client.facility_id == admission.facility_id:
        admission.client.facility = admission.facility  # no query for the log's facility
    _log_glass_view(request, admission.client)
    return admission


def admissions_visible_to(user):
    """Stays of the clients the user may see: the scope for records reached by their own id."""
    return Admission.objects.filter(client__in=Client.objects.visible_to(user))
