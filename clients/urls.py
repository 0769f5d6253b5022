from django.urls import path

from clients import views

app_name = "clients"

urlpatterns = [
    path("census/", views.census, name="census"),
    path("census/print/", views.census_pdf, name="census_pdf"),
    path("admit/", views.admit, name="admit"),
    path("clients/<uuid:public_id>/", views.client_chart, name="chart"),
    path("clients/<uuid:public_id>/photo/", views.client_photo, name="photo"),
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
]
