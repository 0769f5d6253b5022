from django.urls import path

from observations import counseling_views
from observations.views import (
    behavior_notes,
    cssrs,
    incidents,
    notes,
    vitals,
    vitals_review,
    withdrawal,
)
from observations.views import groups as group_views
from observations.views import rounds as views

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
        "admissions/<uuid:public_id>/behavior-note/",
        behavior_notes.behavior_note_new,
        name="behavior_note_new",
    ),
    path("behavior-notes/<uuid:public_id>/", behavior_notes.behavior_note, name="behavior_note"),
    path(
        "behavior-notes/<uuid:public_id>/strike/",
        behavior_notes.behavior_note_strike,
        name="behavior_note_strike",
    ),
    path("admissions/<uuid:public_id>/cssrs/", cssrs.cssrs_screen, name="cssrs_screen"),
    path("admissions/<uuid:public_id>/cssrs/order/", cssrs.cssrs_order, name="cssrs_order"),
    path("cssrs/due/", cssrs.cssrs_due, name="cssrs_due"),
    path("cssrs/<uuid:public_id>/", cssrs.cssrs_result, name="cssrs_result"),
    path("cssrs/<uuid:public_id>/safety-plan/", cssrs.cssrs_safety_plan, name="cssrs_safety_plan"),
    path("cssrs/<uuid:public_id>/strike/", cssrs.cssrs_strike, name="cssrs_strike"),
    path("groups/", group_views.groups_today, name="groups"),
    path("groups/new/", group_views.group_new, name="group_new"),
    path("groups/<uuid:public_id>/", group_views.group_attendance, name="group_attendance"),
    # Progress notes and the chart timeline (issue 12 item 2).
    path("admissions/<uuid:public_id>/notes/new/", notes.note_new, name="note_new"),
    path("admissions/<uuid:public_id>/timeline/", notes.timeline, name="timeline"),
    path("notes/to-cosign/", notes.cosign_queue, name="cosign_queue"),
    path("notes/<uuid:public_id>/", notes.note, name="note"),
    path("notes/<uuid:public_id>/autosave/", notes.note_autosave, name="note_autosave"),
    path("notes/<uuid:public_id>/sign/", notes.note_sign, name="note_sign"),
    path("notes/<uuid:public_id>/discard/", notes.note_discard, name="note_discard"),
    path("notes/<uuid:public_id>/addendum/", notes.note_addendum, name="note_addendum"),
    path("notes/<uuid:public_id>/strike/", notes.note_strike, name="note_strike"),
    path("notes/<uuid:public_id>/cosign/", notes.note_cosign, name="note_cosign"),
    # Incident reports (issue 12 item 4): an administrative record, never linked from the chart.
    path("incidents/", incidents.incident_list, name="incidents"),
    path("incidents/new/", incidents.incident_new, name="incident_new"),
    path("incidents/<uuid:public_id>/", incidents.incident_detail, name="incident_detail"),
    path("incidents/<uuid:public_id>/edit/", incidents.incident_edit, name="incident_edit"),
    path("incidents/<uuid:public_id>/submit/", incidents.incident_submit, name="incident_submit"),
    path("incidents/<uuid:public_id>/notify/", incidents.incident_notify, name="incident_notify"),
    path(
        "incidents/<uuid:public_id>/follow-up/",
        incidents.incident_follow_up,
        name="incident_follow_up",
    ),
    path(
        "incidents/<uuid:public_id>/debrief/", incidents.incident_debrief, name="incident_debrief"
    ),
    path("incidents/<uuid:public_id>/review/", incidents.incident_review, name="incident_review"),
    path("incidents/<uuid:public_id>/pdf/", incidents.incident_pdf, name="incident_pdf"),
    path(
        "admissions/<uuid:public_id>/observation-sheet/",
        views.observation_sheet_pdf,
        name="observation_sheet",
    ),
    # SUD counseling notes (issue 16 item 8): kept apart, for their author and grantees only.
    path(
        "clients/<uuid:public_id>/counseling-notes/",
        counseling_views.counseling_notes,
        name="counseling_notes",
    ),
    path(
        "clients/<uuid:public_id>/counseling-notes/grant/",
        counseling_views.counseling_grant,
        name="counseling_grant",
    ),
    path(
        "admissions/<uuid:public_id>/counseling-notes/new/",
        counseling_views.counseling_note_new,
        name="counseling_note_new",
    ),
    path(
        "counseling-notes/<uuid:public_id>/",
        counseling_views.counseling_note,
        name="counseling_note",
    ),
    path(
        "counseling-notes/<uuid:public_id>/addendum/",
        counseling_views.counseling_note_addendum,
        name="counseling_note_addendum",
    ),
    path(
        "counseling-notes/<uuid:public_id>/strike/",
        counseling_views.counseling_note_strike,
        name="counseling_note_strike",
    ),
    path(
        "counseling-grants/<uuid:public_id>/revoke/",
        counseling_views.counseling_grant_revoke,
        name="counseling_grant_revoke",
    ),
]
