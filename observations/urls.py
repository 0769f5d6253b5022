from django.urls import path

from observations import views

app_name = "observations"

urlpatterns = [
    path("rounds/", views.rounds_home, name="rounds"),
    path("rounds/compliance/", views.compliance_report, name="compliance"),
    path("security/", views.security_round, name="security"),
    path("rounds/<uuid:public_id>/", views.board, name="board"),
    path("rounds/<uuid:public_id>/status/", views.board_status, name="board_status"),
    path("admissions/<uuid:public_id>/level/", views.level_change, name="level_change"),
    path("admissions/<uuid:public_id>/observer/", views.observer_assign, name="observer_assign"),
    path("levels/<uuid:public_id>/confirm/", views.level_confirm, name="level_confirm"),
    path(
        "admissions/<uuid:public_id>/observation-sheet/",
        views.observation_sheet_pdf,
        name="observation_sheet",
    ),
]
