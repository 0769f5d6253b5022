"""The project's URLs. Naming every app here is the one allowed exception to one-way imports."""

from django.contrib import admin
from django.http import Http404
from django.urls import include, path, re_path

from facility import (
    audit_views,
    bundle_views,
    dashboard_views,
    glass_views,
    report_views,
    views,
    worklist_views,
)
from facility.admin import admin_site


def _managed_by_admins(request, *args, **kwargs):
    raise Http404("E-mail addresses are managed by administrators.")


urlpatterns = [
    path("", worklist_views.home, name="home"),
    path("ping/", views.ping, name="ping"),
    path("facility/switch/", views.facility_switch, name="facility_switch"),
    path("alerts/", views.alert_dashboard, name="alerts"),
    path("alerts/<uuid:public_id>/resolve/", views.alert_resolve, name="alert_resolve"),
    path("supervisor/", dashboard_views.dashboard, name="dashboard"),
    path("supervisor/live/", dashboard_views.dashboard_live, name="dashboard_live"),
    path("audit/", audit_views.audit_trail, name="audit_trail"),
    path("audit/export.csv", audit_views.audit_export, name="audit_export"),
    path(
        "audit/clients/<uuid:public_id>/",
        audit_views.audit_client_access,
        name="audit_client_access",
    ),
    # Break-the-glass (issue 16 item 5).
    path("emergency-access/", glass_views.glass_mine, name="glass_mine"),
    path("emergency-access/open/", glass_views.glass_open, name="glass_open"),
    path("emergency-access/review/", glass_views.glass_review, name="glass_review"),
    path(
        "emergency-access/review/<uuid:public_id>/",
        glass_views.glass_sign_off,
        name="glass_sign_off",
    ),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<uuid:public_id>/", views.staff_edit, name="staff_edit"),
    path("staff/<uuid:public_id>/deactivate/", views.staff_deactivate, name="staff_deactivate"),
    path("staff/<uuid:public_id>/reactivate/", views.staff_reactivate, name="staff_reactivate"),
    path("staff/<uuid:public_id>/reset-mfa/", views.staff_reset_mfa, name="staff_reset_mfa"),
    path("report/", report_views.shift_report, name="shift_report"),
    path("report.pdf", report_views.shift_report_pdf, name="shift_report_pdf"),
    path("report/bundle/", bundle_views.survey_bundle, name="survey_bundle"),
    path("report/handoff/give/", report_views.handoff_give, name="handoff_give"),
    path("report/handoff/receive/", report_views.handoff_receive, name="handoff_receive"),
    path("report/handoffs/<uuid:public_id>/", report_views.handoff_detail, name="handoff_detail"),
    path("report/handoffs/<uuid:public_id>/pdf/", report_views.handoff_pdf, name="handoff_pdf"),
    path("", include("clients.urls")),
    path("", include("observations.urls")),
    path("", include("medications.urls")),
    path("", include("screening.urls")),
    path("", include("transport.urls")),
    # Staff e-mail addresses are entered by admins (staff pages): nobody adds or removes their
    # own, so an unattended session cannot add an address and have a set-password link sent to it.
    re_path(r"^accounts/(email|confirm-email)/", _managed_by_admins, name="account_email_closed"),
    path("accounts/", include("allauth.urls")),
    path("manage/", admin_site.urls),
]

# No URL serves MEDIA_ROOT, in any mode: uploaded files (client photos) are PHI and are served
# only by scoped views such as clients:photo (issue 7).

admin.site.site_header = "Haven administration"

# PostgreSQL not answering (a restart, a failover) gets a 503 page that says what to do, not
# Django's bare "Server Error (500)" (facility/errors.py, issue 17 item 4).
handler500 = "facility.errors.server_error"
