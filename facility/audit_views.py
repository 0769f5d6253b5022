"""The audit pages (issue 16 item 7): the facility's trail of access events and data changes,
its CSV export, and "who looked at this client" from the chart."""

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from facility import audit, policy
from facility.access import client_ip, current_facility, user_facilities
from facility.forms import HavenForm
from facility.models import AccessAction
from facility.registry import registry
from facility.services import access_log

PAGE_SIZE = 50


def _sort_label(key: str, label: str, descending: bool) -> str:
    if key == "when":
        return f"{label} ({'newest' if descending else 'oldest'} first)"
    return f"{label} ({'Z–A' if descending else 'A–Z'})"


SORT_CHOICES = [
    (f"{'-' if descending else ''}{key}", _sort_label(key, label, descending))
    for key, label in audit.SORT_LABELS.items()
    for descending in (True, False)
]


class AuditSearchForm(HavenForm):
    client = forms.CharField(
        required=False,
        max_length=100,
        label="Client",
        help_text="Name, MRN or date of birth (MM/DD/YYYY or YYYY-MM-DD)",
    )
    user = forms.CharField(required=False, max_length=150, label="Staff member")
    action = forms.ChoiceField(required=False, choices=audit.ACTION_CHOICES)
    start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, label="Sort by")

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError({"end": "End date must not be before the start date."})
        return data

    def query(self) -> audit.TrailQuery:
        data = self.cleaned_data
        return audit.TrailQuery(
            start=data.get("start"),
            end=data.get("end"),
            staff=(data.get("user") or "").strip(),
            client=(data.get("client") or "").strip(),
            action=data.get("action") or "",
            sort=data.get("sort") or audit.DEFAULT_SORT,
        )


def _facility_or_404(request):
    facility = current_facility(request)
    if facility is None:
        raise Http404("You are not assigned to a facility.")
    return facility


def _search(request, facility):
    """The bound form and its query (None when the form has errors)."""
    form = AuditSearchForm(request.GET)
    if not form.is_valid():
        return form, None
    query = form.query()
    audit.resolve_client(facility, query)
    return form, query


def _headers(request, sort: str) -> list[dict]:
    """Each column's sort link: ascending first, then descending; the current one marked."""
    params = request.GET.copy()
    params.pop("page", None)
    current = sort.lstrip("-")
    headers = []
    for key in audit.HEADERS:
        label = audit.SORT_LABELS[key]
        if key == current:
            following = key if sort.startswith("-") else f"-{key}"
            state = "descending" if sort.startswith("-") else "ascending"
        else:
            following = f"-{key}" if key == "when" else key
            state = ""
        params["sort"] = following
        headers.append(
            {"key": key, "label": label, "href": f"?{params.urlencode()}", "state": state}
        )
    return headers


@policy.requires("audit.view")
@require_GET
def audit_trail(request):
    """Access events and data changes of the facility, merged by time; searchable by client
    (name, MRN, date of birth), staff member, action and period; sortable by any column."""
    facility = _facility_or_404(request)
    form, query = _search(request, facility)
    rows = []
    page = None
    if query is not None:
        page = Paginator(audit.trail_rows(facility, query), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        rows = [audit.present(row) for row in page.object_list]
        audit.name_people(rows)  # staff names, and names for user ids in changes: one query
        for row in rows:  # on the facility's clock, with its zone (the trail is stored in UTC)
            local = timezone.localtime(row.at, facility.tz)
            row.local_date, row.local_time = f"{local:%Y-%m-%d}", f"{local:%H:%M:%S %Z}"
    params = request.GET.copy()
    params.pop("page", None)
    sort = query.sort if query is not None else audit.DEFAULT_SORT
    return render(
        request,
        "facility/audit.html",
        {
            "facility": facility,
            "form": form,
            "page": page,
            "rows": rows,
            "headers": _headers(request, sort),
            "query": params.urlencode(),
            "can_export": policy.allows(request.user, "audit.export"),
        },
    )


@policy.requires("audit.export")
@require_GET
def audit_export(request):
    """The same search as CSV, after the Part 2 notice; the export is itself audited."""
    facility = _facility_or_404(request)
    form, query = _search(request, facility)
    if query is None:
        return render(
            request,
            "facility/audit.html",
            {
                "facility": facility,
                "form": form,
                "page": None,
                "rows": [],
                "headers": _headers(request, audit.DEFAULT_SORT),
                "query": "",
                "can_export": True,
            },
            status=400,
        )
    stamp = timezone.localtime(timezone.now(), facility.tz).strftime("%Y%m%d-%H%M")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-trail-{stamp}.csv"'
    written = audit.write_csv(response, facility, query)
    access_log(
        action=AccessAction.EXPORT,
        actor=request.user,
        facility=facility,
        what=f"audit trail CSV, {written} rows: {audit.describe(query)}",
        ip=client_ip(request),
    )
    return response


@policy.requires("audit.client_access")
@require_GET
def audit_client_access(request, public_id):
    """Who looked at this client: views, prints, exports, break-the-glass and disclosures of
    the client's record, newest first (supervisors, from the chart)."""
    finder = registry.client_finder
    client = finder.get(user_facilities(request.user), public_id) if finder else None
    if client is None:
        raise Http404("No such client.")
    timezone.activate(client.facility.tz)
    access_log(
        action=AccessAction.VIEW,
        actor=request.user,
        facility=client.facility,
        client=client,
        what="who looked at this client (audit)",
        ip=client_ip(request),
    )
    page = Paginator(audit.client_looks(client.public_id), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "facility/audit_client_access.html",
        {"client": client, "page": page, "facility": client.facility},
    )
