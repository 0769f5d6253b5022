from django.urls import path

from clients import consent_views, disclosure_views, fhir_views, search_views, views

app_name = "clients"

urlpatterns = [
    path("census/", views.census, name="census"),
    path("census/print/", views.census_pdf, name="census_pdf"),
    path("clients/search/", search_views.client_search, name="search"),
    path("admit/", views.admit, name="admit"),
    path("clients/<uuid:public_id>/", views.client_chart, name="chart"),
    path("clients/<uuid:public_id>/photo/", views.client_photo, name="photo"),
    path("clients/<uuid:public_id>/fhir/", fhir_views.fhir_export_view, name="fhir_export"),
    path("clients/<uuid:public_id>/readmit/", views.readmit, name="readmit"),
    path("clients/<uuid:public_id>/allergies/", views.allergies, name="allergies"),
    path("clients/<uuid:public_id>/allergies/nkda/", views.allergies_nkda, name="allergies_nkda"),
    path("allergies/<uuid:public_id>/remove/", views.allergy_remove, name="allergy_remove"),
    path("admissions/<uuid:public_id>/move/", views.move_bed, name="move_bed"),
    path("admissions/<uuid:public_id>/discharge/", views.discharge, name="discharge"),
    path("admissions/<uuid:public_id>/leave/", views.leave_start, name="leave_start"),
    path(
        "admissions/<uuid:public_id>/orientation/<int:item_id>/",
        views.orientation_tick,
        name="orientation_tick",
    ),
    path("leaves/<uuid:public_id>/return/", views.leave_return, name="leave_return"),
    path(
        "admissions/<uuid:public_id>/outing-restriction/",
        views.outing_restriction_set,
        name="outing_restriction_set",
    ),
    path(
        "admissions/<uuid:public_id>/outing-restriction/lift/",
        views.outing_restriction_lift,
        name="outing_restriction_lift",
    ),
    # Issue 16: Part 2 consents and amendment requests (clients/consent_views.py).
    path(
        "clients/<uuid:public_id>/consents/new/",
        consent_views.consent_new,
        name="consent_new",
    ),
    path("consents/<uuid:public_id>/", consent_views.consent_detail, name="consent_detail"),
    path(
        "consents/<uuid:public_id>/signed-copy/",
        consent_views.consent_signed_copy,
        name="consent_signed_copy",
    ),
    path("consents/<uuid:public_id>/revoke/", consent_views.consent_revoke, name="consent_revoke"),
    path(
        "clients/<uuid:public_id>/amendments/new/",
        consent_views.amendment_new,
        name="amendment_new",
    ),
    path(
        "amendments/<uuid:public_id>/decide/",
        consent_views.amendment_decide,
        name="amendment_decide",
    ),
    # Issue 16: disclosures, the client's own copy, the accounting (clients/disclosure_views.py).
    path(
        "clients/<uuid:public_id>/disclose/",
        disclosure_views.disclosure_consent,
        name="disclosure_consent",
    ),
    path(
        "clients/<uuid:public_id>/disclose/other/",
        disclosure_views.disclosure_other,
        name="disclosure_other",
    ),
    path("clients/<uuid:public_id>/own-copy/", disclosure_views.client_copy, name="client_copy"),
    path("clients/<uuid:public_id>/accounting/", disclosure_views.accounting, name="accounting"),
    path(
        "clients/<uuid:public_id>/accounting/print/",
        disclosure_views.accounting_pdf,
        name="accounting_pdf",
    ),
]
