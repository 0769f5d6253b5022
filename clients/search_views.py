"""Client search (issue 17): find a client of the current facility by name, preferred name, MRN
or date of birth, and open the chart.

The search is clients/finder.py `matching`, the same query the audit trail uses. Each search is
logged in the access log with what was typed and how many clients it found: the words may name a
client, and the access log is where PHI-protected reads are recorded (privacy.md, audit
controls), so an auditor can see who looked for whom.
"""

from django import forms
from django.db.models import Exists, OuterRef, Subquery
from django.shortcuts import render
from django.views.decorators.http import require_GET

from clients.finder import SEARCH_LIMIT, matching
from clients.models import Admission
from facility import policy
from facility.access import client_ip, current_facility_or_404
from facility.forms import HavenForm
from facility.models import AccessAction
from facility.services import access_log

QUERY_MAX_LENGTH = 100


class ClientSearchForm(HavenForm):
    q = forms.CharField(
        label="Find a client",
        max_length=QUERY_MAX_LENGTH,
        required=False,
        help_text="Name or preferred name (in part; “last, first” works), MRN, or date of birth "
        "(MM/DD/YYYY or YYYY-MM-DD).",
        # "Find" in a tablet's header opens this page to type at once.
        widget=forms.TextInput(attrs={"type": "search", "autofocus": True, "autocomplete": "off"}),
    )


def _with_stay(clients):
    """Each client with their latest stay's bed, unit and discharge time, in the same query."""
    latest = Admission.objects.filter(client=OuterRef("pk")).order_by(
        "-discharged_at", "-admitted_at"
    )  # PostgreSQL sorts NULL first in DESC order: the open stay wins.
    return clients.annotate(
        stay_bed=Subquery(latest.values("bed__label")[:1]),
        stay_unit=Subquery(latest.values("unit__name")[:1]),
        stay_discharged_at=Subquery(latest.values("discharged_at")[:1]),
        stay_admitted_at=Subquery(latest.values("admitted_at")[:1]),
    )


@policy.requires("census.view")
@require_GET
def client_search(request):
    """The search page: empty until something is typed; at most SEARCH_LIMIT clients, discharged
    ones included and marked."""
    facility = current_facility_or_404(request)
    form = ClientSearchForm(request.GET or None)
    context = {"facility": facility, "form": form, "searched": False, "limit": SEARCH_LIMIT}
    if form.is_bound and form.is_valid() and " ".join(form.cleaned_data["q"].split()):
        text = " ".join(form.cleaned_data["q"].split())
        # Clients in care first, then by name: a current client never falls past the limit
        # behind discharged namesakes (issue 17 review).
        found = list(
            _with_stay(matching(facility, text))
            .annotate(
                in_care=Exists(
                    Admission.objects.filter(client=OuterRef("pk"), discharged_at__isnull=True)
                )
            )
            .order_by("-in_care", "legal_last_name", "legal_first_name", "id")[: SEARCH_LIMIT + 1]
        )
        context.update(
            searched=True,
            query=text,
            clients=found[:SEARCH_LIMIT],
            more=len(found) > SEARCH_LIMIT,
        )
        shown = f"{SEARCH_LIMIT}+" if len(found) > SEARCH_LIMIT else str(len(found))
        access_log(
            action=AccessAction.CLIENT_SEARCH,
            actor=request.user,
            facility=facility,
            what=f"“{text[:QUERY_MAX_LENGTH]}” · {shown} found",
            ip=client_ip(request),
        )
    return render(request, "clients/search.html", context)
