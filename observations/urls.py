from django.urls import path

from observations.views import rounds as views
from observations.views import vitals, vitals_review, withdrawal

app_name = "observations"

urlpatterns = [
    path("rounds/", views.rounds_home, name="rounds"),
    path("rounds/compliance/", views.compliance_report, name="compliance"),
    path("rounds/downtime/", views.downtime_home, name="downtime_home"),
    path("security/", views.security_round, name="security"),
    path("security/findings/", views.security_finding, name="security_finding"),
    path("rounds/<uuid:public_id>/", views.board, name="board"),
    path("rounds/<uuid:public_id>/status/", views.board_status, name="board_status"),
    path("rounds/<uuid:public_id>/downtime/", views.downtime, name="downtime"),
    path("admissions/<uuid:public_id>/level/", views.level_change, name="level_change"),
    path("admissions/<uuid:public_id>/observer/", views.observer_assign, name="observer_assign"),
    path("levels/<uuid:public_id>/confirm/", views.level_confirm, name="level_confirm"),
    path("rounds/mine/", views.my_observation, name="my_observation"),
    path("handoffs/<uuid:public_id>/accept/", views.handoff_accept, name="handoff_accept"),
    path("handoffs/<uuid:public_id>/decline/", views.handoff_decline, name="handoff_decline"),
    path("handoffs/<uuid:public_id>/withdraw/", views.handoff_withdraw, name="handoff_withdraw"),
    path("admissions/<uuid:public_id>/vitals/", vitals.vitals_record, name="vitals_record"),
    path(
        "admissions/<uuid:public_id>/vitals/schedule/",
        vitals.vitals_schedule,
        name="vitals_schedule",
    ),
    path("vitals/<uuid:public_id>/", vitals.vitals_result, name="vitals_result"),
    path("rounds/<uuid:public_id>/vitals/", vitals.vitals_round, name="vitals_round"),
    path("vitals/review/", vitals_review.vitals_review_home, name="vitals_review_home"),
    path("vitals/review/<uuid:public_id>/", vitals_review.vitals_review, name="vitals_review"),
    path(
        "admissions/<uuid:public_id>/vitals/trends/",
        vitals_review.vitals_trends,
        name="vitals_trends",
    ),
    path("withdrawal/", withdrawal.board, name="withdrawal_board"),
    path(
        "admissions/<uuid:public_id>/withdrawal/start/",
        withdrawal.protocol_start,
        name="withdrawal_start",
    ),
    path(
        "withdrawal/protocols/<uuid:public_id>/end/", withdrawal.protocol_end, name="withdrawal_end"
    ),
    path(
        "admissions/<uuid:public_id>/withdrawal/<str:scale>/",
        withdrawal.score,
        name="withdrawal_score",
    ),
    path("withdrawal/scores/<uuid:public_id>/", withdrawal.result, name="withdrawal_result"),
    path("withdrawal/scores/<uuid:public_id>/strike/", withdrawal.strike, name="withdrawal_strike"),
    path(
        "admissions/<uuid:public_id>/observation-sheet/",
        views.observation_sheet_pdf,
        name="observation_sheet",
    ),
]
