"""The banner "Draft incident opened — complete it" for the person whose action opened one.

A draft incident can open from another app's service (a naloxone dose, a count sign-off) or from
a round, none of which knows the incidents pages. The opener (observations.services.incidents)
notes each draft it opens during the request; this middleware, after the view, turns the ones
that were committed and belong to the signed-in person into a message with a link. It must sit
after MessageMiddleware in settings.MIDDLEWARE, so the messages it adds are stored.
"""

from django.contrib import messages
from django.urls import reverse
from django.utils.html import format_html

from observations.services import incidents


class IncidentDraftBannerMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = incidents.collect_opened_drafts()
        try:
            response = self.get_response(request)
        finally:
            opened = incidents.opened_drafts(token)
        user = getattr(request, "user", None)
        if opened and user is not None and user.is_authenticated:
            mine = [pid for pid, reporter in opened if reporter == user.pk]
            # A draft opened by a service that then failed was rolled back: no banner for it.
            for incident in incidents.Incident.objects.filter(public_id__in=mine):
                messages.warning(
                    request,
                    format_html(
                        'Draft incident opened ({}) — <a href="{}">complete it</a>.',
                        incident.get_incident_type_display().lower(),
                        reverse("observations:incident_edit", args=[incident.public_id]),
                    ),
                )
        return response
