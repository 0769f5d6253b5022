""" "My work", the home page after sign-in (issue 17 item 1)."""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from facility import policy
from facility.access import current_facility
from facility.worklist import my_work


@policy.requires("signed_in")
@require_GET
def home(request):
    """What waits for the signed-in person at their facility: one section per kind of work,
    from the apps' `worklist.py`, each row linking to where it is done. The list part refreshes
    by polling (HTMX)."""
    facility = current_facility(request)
    sections = my_work(request.user, facility, timezone.now()) if facility else []
    if not sections:
        return render(request, "facility/no_role.html", status=403)
    template = "facility/my_work.html"
    if request.htmx:
        template += "#work-list"
    context = {
        "facility": facility,
        "busy": [s for s in sections if s.items],
        "quiet": [s for s in sections if not s.items],
    }
    return render(request, template, context)
