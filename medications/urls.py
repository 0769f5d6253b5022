from django.urls import path

from medications import views

app_name = "medications"

urlpatterns = [
    path("mar/", views.mar_board, name="mar"),
    path("mar/clients/<uuid:public_id>/", views.med_pass, name="med_pass"),
    path("mar/clients/<uuid:public_id>/orders/new/", views.order_new, name="order_new"),
    path(
        "mar/clients/<uuid:public_id>/orders/prescribe/",
        views.order_prescribe,
        name="order_prescribe",
    ),
    path("mar/orders/to-verify/", views.orders_to_verify, name="orders_to_verify"),
    path("mar/orders/to-cosign/", views.orders_to_cosign, name="orders_to_cosign"),
    path("mar/clients/<uuid:public_id>/print/", views.mar_pdf, name="mar_pdf"),
    path(
        "mar/clients/<uuid:public_id>/discharge-list/",
        views.discharge_med_list,
        name="discharge_med_list",
    ),
    path("mar/orders/<uuid:public_id>/", views.order_detail, name="order_detail"),
    path("mar/orders/<uuid:public_id>/verify/", views.order_verify, name="order_verify"),
    path("mar/orders/<uuid:public_id>/release/", views.order_release, name="order_release"),
    path("mar/orders/<uuid:public_id>/cosign/", views.order_cosign, name="order_cosign"),
    path(
        "mar/orders/<uuid:public_id>/discontinue/",
        views.order_discontinue,
        name="order_discontinue",
    ),
    path("mar/doses/<uuid:public_id>/document/", views.dose_document, name="dose_document"),
    path("mar/orders/<uuid:public_id>/prn/", views.prn_give, name="prn_give"),
    path("mar/controlled/", views.controlled, name="controlled"),
    path("mar/controlled/new/", views.stock_new, name="stock_new"),
    path("mar/controlled/<uuid:public_id>/receive/", views.stock_receive, name="stock_receive"),
    path("mar/controlled/<uuid:public_id>/waste/", views.stock_waste, name="stock_waste"),
    path("mar/controlled/<uuid:public_id>/count/", views.count_submit, name="count_submit"),
    path(
        "mar/counts/<uuid:public_id>/sign-off/",
        views.discrepancy_sign_off,
        name="discrepancy_sign_off",
    ),
    path("mar/counts/<uuid:public_id>/dea-106/", views.count_dea_106, name="count_dea_106"),
    path(
        "mar/administrations/<uuid:public_id>/follow-up/",
        views.prn_follow_up,
        name="prn_follow_up",
    ),
    path(
        "mar/administrations/<uuid:public_id>/strike/",
        views.administration_strike,
        name="administration_strike",
    ),
]
