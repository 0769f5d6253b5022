"""Incident report pages (issue 12 item 4): the list, a new report, a draft's form, the report
with what is added after submission (notifications, follow-ups, the debrief, the supervisor's
sign-off), and its PDF.

Every page of one report asks the policy's "incident.view" rule first: supervisors, the reporter
and the staff it names read it; anyone else at the facility gets a 403 with a plain message, and
anyone elsewhere a 404. Reports are not part of the chart: nothing here is linked from it.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from facility import policy
from facility.access import current_facility_or_404, user_facilities
from facility.forms import add_service_errors
from facility.pdf import pdf_response
from observations.incident_forms import (
    DebriefForm,
    FollowUpForm,
    IncidentForm,
    NotificationForm,
    ReviewForm,
)
from observations.models import (
    Incident,
    IncidentClient,
    IncidentStaff,
    IncidentStatus,
    Intervention,
)
from observations.services import incidents as services

REVIEWED_SHOWN = 50


def _denied(request, exc: PermissionDenied):
    return render(request, "observations/incident_denied.html", {"message": str(exc)}, status=403)


def _incident(request, public_id) -> Incident:
    """A report of one of the user's facilities, else 404; its facility's clock is active."""
    incident = get_object_or_404(
        Incident.objects.select_related("facility", "reported_by", "reviewed_by"),
        public_id=public_id,
        facility__in=user_facilities(request.user),
    )
    timezone.activate(incident.facility.tz)
    return incident


def _readable(view):
    """Find the report and ask "incident.view" before the view runs (403 with the reason)."""

    def wrapped(request, public_id, *args, **kwargs):
        incident = _incident(request, public_id)
        try:
            policy.require(request.user, "incident.view", incident)
        except PermissionDenied as exc:
            return _denied(request, exc)
        return view(request, incident, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _with_people(queryset):
    return queryset.select_related("reported_by", "facility").prefetch_related(
        Prefetch(
            "client_links",
            queryset=IncidentClient.objects.select_related("admission__client").order_by("pk"),
        ),
        Prefetch(
            "staff_links", queryset=IncidentStaff.objects.select_related("user").order_by("pk")
        ),
    )


@policy.requires("incident.view")
@require_GET
def incident_list(request):
    """The reports this user may read at their facility: drafts, awaiting review, reviewed."""
    facility = current_facility_or_404(request)
    timezone.activate(facility.tz)
    visible = _with_people(services.incidents_visible_to(request.user, facility))
    open_ = list(visible.exclude(status=IncidentStatus.REVIEWED).order_by("-occurred_at"))
    reviewed = list(
        visible.filter(status=IncidentStatus.REVIEWED).order_by("-occurred_at")[:REVIEWED_SHOWN]
    )
    return render(
        request,
        "observations/incident_list.html",
        {
            "facility": facility,
            "drafts": [i for i in open_ if i.status == IncidentStatus.DRAFT],
            "submitted": [i for i in open_ if i.status == IncidentStatus.SUBMITTED],
            "reviewed": reviewed,
            "reviewed_shown": REVIEWED_SHOWN,
            "can_report": policy.allows(request.user, "incident.report"),
            "is_reviewer": policy.allows(request.user, "incident.review"),
        },
    )


def _form_page(request, form, incident=None, status=200):
    return render(
        request,
        "observations/incident_form.html",
        {"form": form, "incident": incident, "facility": form.facility},
        status=400 if form.errors else status,
    )


def _submit(request, incident: Incident, form=None) -> bool:
    try:
        incident = services.incident_submit(actor=request.user, incident=incident)
    except (ValidationError, PermissionDenied) as exc:
        add_service_errors(form if form is not None else request, exc)
        return False
    named = incident.client_links.count()
    messages.success(
        request,
        "Incident report submitted. The supervisors were alerted"
        + (f"; {named} chart{'s' if named != 1 else ''} got an objective note." if named else "."),
    )
    return True


@policy.requires("incident.report")
@require_http_methods(["GET", "POST"])
def incident_new(request):
    """A new report, saved as a draft (or saved and submitted at once)."""
    facility = current_facility_or_404(request)
    timezone.activate(facility.tz)
    initial = {"occurred_at": timezone.localtime().replace(second=0, microsecond=0)}
    form = IncidentForm(
        request.POST or None, facility=facility, reporter=request.user, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_open(
                actor=request.user, facility=facility, fields=form.fields_for_service()
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            if "submit" not in request.POST:
                messages.success(request, "Draft saved. Submit it when it is complete.")
                return redirect("observations:incident_detail", public_id=incident.public_id)
            if _submit(request, incident, form):
                return redirect("observations:incident_detail", public_id=incident.public_id)
            messages.info(request, "Draft saved; it is not submitted yet.")
            return _form_page(request, form, incident)
    return _form_page(request, form)


@policy.requires("incident.report")
@require_http_methods(["GET", "POST"])
@_readable
def incident_edit(request, incident):
    """The reporter completes a draft: save it, or save and submit it."""
    if incident.reported_by_id != request.user.pk:
        return _denied(
            request, PermissionDenied("Only the reporter completes a draft incident report.")
        )
    if incident.status != IncidentStatus.DRAFT:
        messages.info(request, "This report was submitted: add a follow-up instead of editing.")
        return redirect("observations:incident_detail", public_id=incident.public_id)
    form = IncidentForm(
        request.POST or None,
        facility=incident.facility,
        reporter=incident.reported_by,
        incident=incident,
        initial=IncidentForm.initial_from(incident),
    )
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_update(
                actor=request.user, incident=incident, fields=form.fields_for_service()
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            if "submit" not in request.POST:
                messages.success(request, "Draft saved. Submit it when it is complete.")
                return redirect("observations:incident_detail", public_id=incident.public_id)
            if _submit(request, incident, form):
                return redirect("observations:incident_detail", public_id=incident.public_id)
            messages.info(request, "Draft saved; it is not submitted yet.")
    return _form_page(request, form, incident)


def _detail(request, incident: Incident, status: int = 200, **forms):
    user = request.user
    incident = _with_people(Incident.objects.filter(pk=incident.pk)).get()
    draft = incident.status == IncidentStatus.DRAFT
    can_add = policy.allows(user, "incident.report", incident)
    can_review = (
        incident.status == IncidentStatus.SUBMITTED
        and incident.reported_by_id != user.pk
        and policy.allows(user, "incident.review", incident)
    )
    now = timezone.localtime().replace(second=0, microsecond=0)
    return render(
        request,
        "observations/incident_detail.html",
        {
            "incident": incident,
            "critical": services.is_critical(incident),
            "interventions": [Intervention(v).label for v in incident.interventions],
            "notifications": incident.notifications.select_related("recorded_by"),
            "follow_ups": incident.follow_ups.select_related("recorded_by"),
            "is_reporter": incident.reported_by_id == user.pk,
            "draft": draft,
            "can_add": can_add,
            "can_review": can_review,
            "notify_form": forms.get("notify_form")
            or NotificationForm(initial={"notified_at": now}),
            "follow_up_form": forms.get("follow_up_form") or FollowUpForm(),
            "debrief_form": forms.get("debrief_form") or DebriefForm(initial={"debrief_at": now}),
            "review_form": forms.get("review_form") or ReviewForm(),
        },
        status=status,
    )


@policy.requires("incident.view")
@require_GET
@_readable
def incident_detail(request, incident):
    """The report as its readers see it, with the forms of what is added after submission."""
    return _detail(request, incident)


@policy.requires("incident.report")
@require_POST
@_readable
def incident_submit(request, incident):
    """The reporter submits a draft; what is missing is said on the draft's form."""
    if incident.reported_by_id != request.user.pk:
        return _denied(request, PermissionDenied("Only the reporter submits an incident report."))
    if _submit(request, incident):
        return redirect("observations:incident_detail", public_id=incident.public_id)
    if incident.status == IncidentStatus.DRAFT:
        return redirect("observations:incident_edit", public_id=incident.public_id)
    return redirect("observations:incident_detail", public_id=incident.public_id)


def _added(request, incident, form_name: str, form, call, done: str):
    """Bind a form of the report page, call the service, and come back to the report."""
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except PermissionDenied as exc:
            return _denied(request, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("observations:incident_detail", public_id=incident.public_id)
    return _detail(request, incident, status=400, **{form_name: form})


@policy.requires("incident.report")
@require_POST
@_readable
def incident_notify(request, incident):
    """Log a notification: who, how, when; family only on consent or a medical emergency."""
    return _added(
        request,
        incident,
        "notify_form",
        NotificationForm(request.POST),
        lambda data: services.incident_notify(actor=request.user, incident=incident, **data),
        "Notification logged.",
    )


@policy.requires("incident.report")
@require_POST
@_readable
def incident_follow_up(request, incident):
    return _added(
        request,
        incident,
        "follow_up_form",
        FollowUpForm(request.POST),
        lambda data: services.incident_follow_up(
            actor=request.user, incident=incident, text=data["text"]
        ),
        "Follow-up added.",
    )


@policy.requires("incident.report")
@require_POST
@_readable
def incident_debrief(request, incident):
    return _added(
        request,
        incident,
        "debrief_form",
        DebriefForm(request.POST),
        lambda data: services.incident_debrief(
            actor=request.user,
            incident=incident,
            debrief_at=data["debrief_at"],
            note=data["debrief_note"],
        ),
        "Debrief recorded.",
    )


@policy.requires("incident.review")
@require_POST
@_readable
def incident_review(request, incident):
    """A supervisor other than the reporter signs the report off."""
    return _added(
        request,
        incident,
        "review_form",
        ReviewForm(request.POST),
        lambda data: services.incident_review(
            actor=request.user, incident=incident, note=data["review_note"]
        ),
        "Incident report signed off.",
    )


@policy.requires("incident.view")
@require_GET
@_readable
def incident_pdf(request, incident):
    """The report printed, with the Part 2 notice; the print is audited (one row naming the
    first client, the others' MRNs in its description)."""
    incident = _with_people(Incident.objects.filter(pk=incident.pk)).get()
    clients = [link.admission.client for link in incident.client_links.all()]
    at = timezone.localtime(incident.occurred_at, incident.facility.tz)
    mrns = ", ".join(c.mrn for c in clients)
    return pdf_response(
        request,
        template="observations/pdf/incident.html",
        context={
            "incident": incident,
            "clients": clients,
            "interventions": [Intervention(v).label for v in incident.interventions],
            "notifications": incident.notifications.select_related("recorded_by"),
            "follow_ups": incident.follow_ups.select_related("recorded_by"),
        },
        facility=incident.facility,
        title="Incident report",
        unit=incident.location or "Location not given",
        period=f"{at:%Y-%m-%d %H:%M}" + (f" · clients {mrns}" if mrns else ""),
        filename=f"incident-{at:%Y%m%d-%H%M}.pdf",
        client=clients[0] if clients else None,
    )
