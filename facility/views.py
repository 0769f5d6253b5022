"""Pages of the facility core: ping, facility switch, alerts, staff accounts (the audit pages:
facility/audit_views.py)."""

import uuid
from urllib.parse import urlsplit

from allauth.account.internal.flows.password_reset import request_password_reset
from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from facility import policy, services
from facility.access import SESSION_FACILITY_KEY, current_facility, user_facilities
from facility.forms import ResolveAlertForm, StaffForm, add_service_errors
from facility.models import Alert, AlertSeverity, User


@policy.requires("signed_in")
@require_GET
def ping(request):
    """A minimal signed-in page: the floor the benchmarks measure other pages against."""
    facility = current_facility(request)
    return HttpResponse(f"ok {facility.pk if facility else '-'}", content_type="text/plain")


@policy.requires("signed_in")
@require_POST
def facility_switch(request):
    """Switch the facility the user is working in, among those they are assigned to."""
    try:
        public_id = uuid.UUID(request.POST.get("facility", ""))
    except ValueError as exc:
        raise Http404("No such facility.") from exc
    facility = user_facilities(request.user).filter(public_id=public_id).first()
    if facility is None:
        raise Http404("No such facility.")
    request.session[SESSION_FACILITY_KEY] = facility.pk
    messages.success(request, f"Now working in {facility.name}.")
    return redirect("home")


def _facility_or_404(request):
    facility = current_facility(request)
    if facility is None:
        raise Http404("You are not assigned to a facility.")
    return facility


def _opens_for(user, path: str) -> bool:
    """Whether `user` may open the Haven page at `path` (its view's GET capability, as
    `policy.requires` records it); unknown paths are not offered."""
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return False
    capability = getattr(match.func, "capabilities", {}).get("GET")
    return capability is None or policy.allows(user, capability)


def alert_href(alert: Alert, user=None) -> str:
    """Where an alert is acted on: its own link when it is a path inside Haven (and, given a
    `user`, one they may open: a floor alert about a security finding is the technicians' to
    act on, not the clinician's), else the chart of the client it is about, else nowhere
    (issue 10 item 4, issue 17 review)."""
    link = alert.link.strip()
    inside = link.startswith("/") and not link.startswith("//") and "\\" not in link
    if inside and (user is None or _opens_for(user, link)):
        return link
    if alert.client_public_id:
        chart = reverse("clients:chart", args=[alert.client_public_id])
        if user is None or _opens_for(user, chart):
            return chart
    return ""


@policy.requires("alerts.view")
@require_GET
def alert_dashboard(request):
    """Open alerts of the current facility, newest first; the list part refreshes by polling.

    `?client=<public id>` narrows the list to one client's alerts (the census links there),
    `?severity=critical|warning|info` to one severity (the supervisor dashboard links there). Every
    role on the floor sees them (issue 10); resolving is the supervisor's."""
    facility = _facility_or_404(request)
    open_alerts = Alert.objects.for_facility(facility).open().for_user(request.user)
    # A mangled link (a client id or a severity that is not one) lists every alert and says
    # so, rather than a bare "not found" page that hides them all. `?severity=` comes from the
    # dashboard's numbers; the counts above stay for all three.
    client_id, bad_link = request.GET.get("client", ""), []
    if client_id:
        try:
            open_alerts = open_alerts.filter(client_public_id=uuid.UUID(client_id))
        except ValueError:
            client_id = ""
            bad_link.append("an unknown client, so every client's alerts are shown")
    severity = request.GET.get("severity", "")
    if severity and severity not in AlertSeverity.values:
        severity = ""
        bad_link.append("an unknown severity, so every severity is shown")
    listed = open_alerts.filter(severity=severity) if severity else open_alerts
    alerts = list(listed.order_by("-raised_at")[:200])
    for alert in alerts:
        alert.href = alert_href(alert, request.user)
    counts = dict(
        open_alerts.values_list("severity").annotate(n=Count("id")).values_list("severity", "n")
    )
    context = {
        "facility": facility,
        "alerts": alerts,
        "counts": counts,
        "severity": severity,
        "severity_label": AlertSeverity(severity).label if severity else "",
        "bad_link": " and ".join(bad_link),
        "client_query": f"client={uuid.UUID(client_id)}&" if client_id else "",
        "client_filter": bool(client_id),
        "form": ResolveAlertForm(),
        "can_resolve": policy.allows(request.user, "alerts.resolve"),
    }
    template = "facility/alerts.html"
    if request.htmx:
        template += "#alert-list"
    return render(request, template, context)


@policy.requires("alerts.resolve")
@require_POST
def alert_resolve(request, public_id):
    facility = _facility_or_404(request)
    alert = get_object_or_404(Alert, public_id=public_id, facility=facility)
    form = ResolveAlertForm(request.POST)
    if form.is_valid():
        try:
            services.alert_resolve(alert=alert, user=request.user, note=form.cleaned_data["note"])
            messages.success(request, "Alert resolved.")
        except ValidationError as exc:
            add_service_errors(request, exc)
    else:
        messages.error(request, form.errors["note"][0])
    return redirect("alerts")


def _staff_scope(request):
    """Staff an admin manages: those sharing at least one of the admin's facilities."""
    return (
        User.objects.filter(facilities__in=user_facilities(request.user))
        .distinct()
        .prefetch_related("facilities")
    )


@policy.requires("staff.manage")
@require_GET
def staff_list(request):
    staff = _staff_scope(request).order_by("-is_active", "full_name")
    mfa_users = set(
        Authenticator.objects.filter(type=Authenticator.Type.TOTP).values_list("user_id", flat=True)
    )
    return render(request, "facility/staff_list.html", {"staff": staff, "mfa_users": mfa_users})


def _staff_form(request, data=None, instance=None):
    initial = None
    if instance is not None:
        initial = {
            "username": instance.username,
            "full_name": instance.full_name,
            "email": instance.email,
            "initials": instance.initials,
            "credentials": instance.credentials,
            "role": instance.role,
            "facilities": list(instance.facilities.all()),
        }
    form = StaffForm(data, instance=instance, initial=initial)
    form.fields["facilities"].queryset = user_facilities(request.user)
    return form


@policy.requires("staff.manage")
@require_http_methods(["GET", "POST"])
def staff_create(request):
    """Create an account and e-mail the person a link to set their own password."""
    form = _staff_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.staff_create(actor=request.user, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            request.haven_invitation = True  # the invitation e-mail (facility/adapters.py)
            request_password_reset(request, user.email, [user], None)
            messages.success(
                request,
                f"{user.full_name} can now set a password from the link sent to {user.email}.",
            )
            return redirect("staff_list")
    return render(request, "facility/staff_form.html", {"form": form, "creating": True})


def _staff_member(request, public_id, *, to_change: bool = False) -> User:
    """A staff member the admin may see; to change them, all their facilities must be the
    admin's too (else an admin of one site could take over an account that reaches another)."""
    member = get_object_or_404(_staff_scope(request), public_id=public_id)
    if to_change:
        policy.require(request.user, "staff.change", member)
    return member


@policy.requires("staff.manage")
@require_http_methods(["GET", "POST"])
def staff_edit(request, public_id):
    member = _staff_member(request, public_id, to_change=request.method == "POST")
    form = _staff_form(request, request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        data.pop("username")
        if member.pk == request.user.pk and not policy.role_grants(data["role"], "staff.manage"):
            form.add_error("role", "Role: you cannot remove your own admin role.")
        else:
            try:
                services.staff_update(actor=request.user, user=member, **data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Saved {member.full_name}.")
                return redirect("staff_list")
    return render(
        request, "facility/staff_form.html", {"form": form, "member": member, "creating": False}
    )


@policy.requires("staff.manage")
@require_http_methods(["GET", "POST"])
def staff_deactivate(request, public_id):
    """A page naming the person and what happens; only its confirmed POST deactivates."""
    member = _staff_member(request, public_id, to_change=True)
    if member.pk == request.user.pk:
        messages.error(request, "You cannot deactivate your own account.")
        return redirect("staff_list")
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            messages.error(
                request,
                f"{member.full_name} was not deactivated: confirm on this page to deactivate.",
            )
            return redirect("staff_deactivate", public_id=member.public_id)
        try:
            services.staff_deactivate(actor=request.user, user=member)
        except ValidationError as exc:
            add_service_errors(request, exc)
        else:
            messages.success(
                request, f"{member.full_name} is deactivated and signed out everywhere."
            )
        return redirect("staff_list")
    return render(request, "facility/staff_deactivate.html", {"member": member})


@policy.requires("staff.manage")
@require_POST
def staff_reactivate(request, public_id):
    member = _staff_member(request, public_id, to_change=True)
    services.staff_reactivate(actor=request.user, user=member)
    messages.success(request, f"{member.full_name} can sign in again.")
    return redirect("staff_list")


@policy.requires("staff.manage")
@require_POST
def staff_reset_mfa(request, public_id):
    member = _staff_member(request, public_id, to_change=True)
    services.staff_reset_mfa(actor=request.user, user=member)
    messages.success(request, f"{member.full_name} will set up two-factor again at next sign-in.")
    return redirect("staff_list")
