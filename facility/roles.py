"""The role matrix of DESIGN.md §3, as permission names per role.

This file is the one reviewed place that says who may do what. `manage.py sync_roles` makes the
five Groups match it exactly (adding and removing permissions), and is run after every migrate.
Later apps add rows here, nowhere else.

CAPABILITIES names what code asks for ("may this user do this?") and the permission it needs;
facility/policy.py adds facility scope and the rules on the object's state. Views, services and
the access-matrix test all read these two tables.
"""

import re

from facility.models import Role

# Permissions granted to each role, as "app_label.codename".
ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.TECHNICIAN: {
        "facility.view_census",
        "facility.chart_floor",
        "facility.write_progress_note",
        "facility.use_mar",
        # Observed self-administration only (policy rule on "mar.record").
        "facility.record_administration",
        "facility.sign_controlled_count",
        # Issue 10: the floor sees its open alerts (the census "1 alert" opens); resolving
        # them stays with the supervisor.
        "facility.view_alerts",
        "facility.break_glass",
        # Issue 12: groups they run or sit in on.
        "facility.document_group",
    },
    Role.NURSE: {
        "facility.view_census",
        "facility.chart_floor",
        "facility.write_progress_note",
        "facility.raise_observation_level",
        "facility.use_mar",
        "facility.record_administration",
        "facility.give_medication",
        "facility.cosign_prn_override",
        "facility.strike_administration",
        "facility.receive_controlled_stock",
        "facility.transcribe_order",
        "facility.verify_order",
        "facility.discontinue_order",
        "facility.view_medication_orders",
        "facility.sign_controlled_count",
        "facility.view_alerts",
        "facility.print_shift_report",
        "facility.view_audit_trail",
        # Intake and discharge are nursing tasks on most residential units.
        "facility.admit_client",
        "facility.break_glass",
        # Issue 11: vitals frequency, withdrawal protocols (nursing standing orders) and scoring.
        "facility.order_monitoring",
        "facility.assess_withdrawal",
        # Issue 12: co-sign technicians' notes, hold groups.
        "facility.cosign_note",
        "facility.document_group",
        # Issue 13: order screens (for cause, scheduled), draw the random list, enter lab results.
        "facility.order_screen",
        "facility.record_lab_result",
    },
    Role.CLINICIAN: {
        "facility.view_census",
        "facility.write_progress_note",
        # An order can raise a level too; lowering one needs "level.order" (policy).
        "facility.raise_observation_level",
        "facility.order_observation_level",
        "facility.use_mar",
        "facility.view_medication_orders",
        # Enter and sign orders, co-sign verbal ones: only with MD, DO, NP or PA credentials.
        "facility.prescribe_order",
        "facility.manage_consents",
        "facility.break_glass",
        "facility.order_monitoring",
        "facility.assess_withdrawal",
        # Issue 12: co-sign notes, run groups (counselors facilitate most groups: a wider grant
        # than DESIGN.md's "view"), and see the alerts addressed to clinicians (risk screens).
        "facility.cosign_note",
        "facility.document_group",
        "facility.view_alerts",
        # Issue 13: a clinician orders a screen for cause.
        "facility.order_screen",
        # Issue 16: SUD counseling notes, kept apart (specs/privacy.md).
        "facility.write_counseling_note",
    },
    Role.SUPERVISOR: {
        "facility.view_census",
        "facility.chart_floor",
        "facility.write_progress_note",
        "facility.use_mar",
        "facility.view_medication_orders",
        "facility.sign_controlled_count",
        "facility.sign_off_discrepancy",
        "facility.manage_consents",
        "facility.print_shift_report",
        "facility.view_alerts",
        "facility.resolve_alert",
        "facility.view_audit_trail",
        "facility.admit_client",
        "facility.break_glass",
        # Issue 12: incident review and sign-off; groups.
        "facility.review_incident",
        "facility.document_group",
        # Issue 13.
        "facility.order_screen",
        "facility.record_lab_result",
        # Issue 14: the fleet (vehicles, drivers, clearing a vehicle for service) and its reports.
        "facility.manage_fleet",
        # Issue 16: signs off break-the-glass accesses, sees who opened a chart.
        "facility.review_access",
    },
    Role.ADMIN: {
        "facility.manage_staff",
        # DESIGN.md §3: break-the-glass is open to every role (reason, 60 minutes, reviewed);
        # it is how an admin would ever read a chart.
        "facility.break_glass",
        "facility.manage_code_lists",
        # Issue 14: vehicle and driver records (a supervisor clears a vehicle for service).
        "facility.manage_fleet",
        # The Django admin pages for facilities, units, beds and checklist items.
        "facility.view_facility",
        "facility.change_facility",
        "facility.add_facility",
        "facility.view_unit",
        "facility.change_unit",
        "facility.add_unit",
        "facility.view_bed",
        "facility.change_bed",
        "facility.add_bed",
        "clients.view_orientationitem",
        "clients.change_orientationitem",
        "clients.add_orientationitem",
        "observations.view_roundcode",
        "observations.change_roundcode",
        "observations.add_roundcode",
        "observations.view_securityarea",
        "observations.change_securityarea",
        "observations.add_securityarea",
        # Issue 12: the group curriculum and weekly clinical-hours targets ("groups.curriculum").
        "observations.view_grouptopic",
        "observations.change_grouptopic",
        "observations.add_grouptopic",
        "observations.view_clinicalhourstarget",
        "observations.change_clinicalhourstarget",
        "observations.add_clinicalhourstarget",
        # The medication catalog: ingredients drive the allergy check and the daily caps.
        "medications.view_medication",
        "medications.change_medication",
        "medications.add_medication",
        "medications.view_ingredient",
        "medications.change_ingredient",
        "medications.add_ingredient",
        "medications.view_medicationingredient",
        "medications.change_medicationingredient",
        "medications.add_medicationingredient",
        # Issue 13: the test devices (cups with cutoffs, breath devices) and the cups' lots.
        "screening.view_device",
        "screening.change_device",
        "screening.add_device",
        "screening.view_devicelot",
        "screening.change_devicelot",
        "screening.add_devicelot",
    },
}

# Capability -> the permission it needs (None: any active signed-in user). Object rules and
# facility scope are in facility/policy.py.
CAPABILITIES: dict[str, str | None] = {
    "signed_in": None,
    "census.view": "facility.view_census",
    "floor.chart": "facility.chart_floor",
    "progress_note.write": "facility.write_progress_note",
    "clients.admit": "facility.admit_client",
    "consents.manage": "facility.manage_consents",
    "level.change": "facility.raise_observation_level",
    "level.order": "facility.order_observation_level",
    "mar.use": "facility.use_mar",
    # Document a scheduled dose; without "mar.give" only observed self-administration.
    "mar.record": "facility.record_administration",
    # Any outcome and route, PRN doses.
    "mar.give": "facility.give_medication",
    "mar.cosign_prn_override": "facility.cosign_prn_override",
    # Strike one's own entry; anyone's with "mar.strike_any".
    "mar.strike": "facility.record_administration",
    "mar.strike_any": "facility.strike_administration",
    "mar.follow_up": "facility.record_administration",
    "order.view": "facility.view_medication_orders",
    "order.transcribe": "facility.transcribe_order",
    "order.verify": "facility.verify_order",
    "order.discontinue": "facility.discontinue_order",
    # A STAT or PRN order given before its second check (no second nurse on shift).
    "order.release": "facility.verify_order",
    # A prescriber's own order, and their co-signature of a verbal or telephone order; the
    # service also asks for prescribing credentials (PRESCRIBING_CREDENTIALS).
    "order.prescribe": "facility.prescribe_order",
    "order.cosign": "facility.prescribe_order",
    "controlled.sign": "facility.sign_controlled_count",
    "controlled.receive": "facility.receive_controlled_stock",
    "controlled.sign_off": "facility.sign_off_discrepancy",
    "report.print": "facility.print_shift_report",
    # Issue 15: the shift report on screen and its handoff are the floor's (the outgoing and the
    # oncoming charge staff, technicians included on units they run); printing it, the survey
    # bundle and the PDFs stay with "report.print"; the live dashboard is the supervisor's.
    "report.view": "facility.chart_floor",
    "report.handoff": "facility.chart_floor",
    "dashboard.view": "facility.resolve_alert",
    "alerts.view": "facility.view_alerts",
    # Enter checks from a paper downtime sheet, up to 24 hours back (issue 10 item 5): nurses and
    # supervisors, the people who keep the census's admissions and leaves, not technicians. It
    # reuses their permission; a dedicated one would need a migration.
    "rounds.downtime": "facility.admit_client",
    "alerts.resolve": "facility.resolve_alert",
    "audit.view": "facility.view_audit_trail",
    "staff.manage": "facility.manage_staff",
    # Change an account: every facility it reaches must be the admin's too (policy rule).
    "staff.change": "facility.manage_staff",
    "code_lists.manage": "facility.manage_code_lists",
    "break_glass": "facility.break_glass",
    # Issue 16 (specs/privacy.md): Part 2 consents, disclosures, the client's own copy,
    # amendments; break-the-glass review; the audit export; SUD counseling notes.
    "consents.view": "facility.view_census",
    "disclosure.make": "facility.manage_consents",
    "disclosure.accounting": "facility.manage_consents",
    "records.client_copy": "facility.manage_consents",
    "records.fhir": "facility.manage_consents",
    "amendment.record": "facility.manage_consents",
    "amendment.decide": "facility.manage_consents",
    "break_glass.review": "facility.review_access",
    "audit.client_access": "facility.review_access",
    "audit.export": "facility.review_access",
    "counseling_note.write": "facility.write_counseling_note",
    # Reading one needs the author's grant too (policy rule, observations).
    "counseling_note.view": "facility.view_census",
    # Issue 11: vitals by anyone who charts on the floor; schedules, protocols and the
    # CIWA-Ar/COWS scores by nurses and clinicians (a scored assessment is a nursing judgement).
    "vitals.record": "facility.chart_floor",
    "vitals.view": "facility.view_census",
    "vitals.schedule": "facility.order_monitoring",
    "withdrawal.order": "facility.order_monitoring",
    "withdrawal.assess": "facility.assess_withdrawal",
    "withdrawal.view": "facility.view_census",
    # Issue 12 (specs/charting.md). Behavior notes are floor charting; progress notes any
    # clinical role; a co-signature a nurse or clinician (not the author: service and database).
    "behavior_note.write": "facility.chart_floor",
    # Entered in error: one's own note (policy rule), anyone's for nurses and supervisors (the
    # charge roles of the floor, like "rounds.downtime": their permission, no migration).
    "behavior_note.strike": "facility.chart_floor",
    "behavior_note.strike_any": "facility.admit_client",
    "notes.view": "facility.view_census",
    "note.cosign": "facility.cosign_note",
    # The C-SSRS screen: anyone who writes notes (the screen version is made for lay staff);
    # ordering one is a clinician's call.
    "cssrs.screen": "facility.write_progress_note",
    "cssrs.order": "facility.order_observation_level",
    # Strike someone else's screen: the charge roles (nurses, supervisors), like behavior notes.
    "cssrs.strike_any": "facility.admit_client",
    # Incidents: anyone on the floor reports; reading one is also limited to its reporter, the
    # staff it names and supervisors (policy rule "incident.view"); supervisors review.
    "incident.report": "facility.chart_floor",
    "incident.view": "facility.view_census",
    "incident.review": "facility.review_incident",
    "groups.document": "facility.document_group",
    "groups.view": "facility.view_census",
    # The curriculum and weekly clinical-hours targets are setup (admins).
    "groups.curriculum": "facility.manage_code_lists",
    # Issue 13 (specs/screening.md). Technicians collect, keep custody, read cups, test breath and
    # search belongings (floor charting); ordering a screen for cause or drawing the day's random
    # list is a nurse's, clinician's or supervisor's; lab results are entered by nurses.
    "screening.view": "facility.view_census",
    "screening.order": "facility.order_screen",
    "screening.random_draw": "facility.order_screen",
    "screening.collect": "facility.chart_floor",
    "screening.custody": "facility.chart_floor",
    "screening.poc": "facility.chart_floor",
    "screening.lab_result": "facility.record_lab_result",
    "screening.breath": "facility.chart_floor",
    "screening.search": "facility.chart_floor",
    "screening.devices": "facility.manage_code_lists",
    # Issue 14 (specs/transport.md). Anyone on the floor plans, inspects and drives (sign-out and
    # sign-in are floor charting); vehicle and driver records and the mileage reports are the
    # fleet's (supervisors, admins); clearing a vehicle taken out of service is a supervisor's.
    # An outing restriction is a nurse's or clinician's call, like raising a level.
    "transport.view": "facility.view_census",
    "transport.plan": "facility.chart_floor",
    "transport.drive": "facility.chart_floor",
    "transport.inspect": "facility.chart_floor",
    "transport.fleet": "facility.manage_fleet",
    "transport.reports": "facility.manage_fleet",
    "transport.clear_vehicle": "facility.sign_off_discrepancy",
    "outing_restriction.set": "facility.raise_observation_level",
    # Discharge with stored property not settled: a supervisor's override with a reason.
    "property.override": "facility.sign_off_discrepancy",
}

# Credentials that may prescribe (issue 9, item 10): physicians, nurse practitioners and physician
# assistants. Compared word by word, without dots: "M.D." and "MD, PhD" prescribe; "RN" does not.
PRESCRIBING_CREDENTIALS = {"MD", "DO", "NP", "PA", "PA-C"}


def holds_prescribing_credentials(user) -> bool:
    """The user's credentials name a prescriber (MD, DO, NP, PA)."""
    words = re.split(r"[\s,;/]+", (user.credentials or "").upper().replace(".", ""))
    return bool(PRESCRIBING_CREDENTIALS & set(words))
