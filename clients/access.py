"""Request helpers for pages about one client or one stay, shared by every app that charts on
clients (issue 8: no app imports another app's views).

Strangers get 404: a client outside the user's facilities does not exist for them (DESIGN.md §3).
"""

from django.shortcuts import get_object_or_404
from django.utils import timezone

from clients.models import Admission, Client


def client_for(request, public_id) -> Client:
    """A client the user may see, else 404.

    Times on the page are shown and entered on the client's facility clock, which may not be
    the facility the user is working in.
    """
    client = get_object_or_404(
        Client.objects.visible_to(request.user).select_related("facility"), public_id=public_id
    )
    timezone.activate(client.facility.tz)
    return client


def admission_for(request, public_id) -> Admission:
    """A stay of a client the user may see, else 404; activates the stay's facility clock."""
    admission = get_object_or_404(
        Admission.objects.select_related("client", "facility", "bed", "unit"),
        public_id=public_id,
        client__in=Client.objects.visible_to(request.user),
    )
    timezone.activate(admission.facility.tz)
    return admission


def admissions_visible_to(user):
    """Stays of the clients the user may see: the scope for records reached by their own id."""
    return Admission.objects.filter(client__in=Client.objects.visible_to(user))
