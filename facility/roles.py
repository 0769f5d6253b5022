"""The role matrix of DESIGN.md §3, as permission names per role.

This file is the one reviewed place that says who may do what. `manage.py sync_roles` makes the
five Groups match it exactly (adding and removing permissions), and is run after every migrate.
Later apps add rows here, nowhere else.
"""

from facility.models import Role

# Permissions granted to each role, as "app_label.codename".
ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.TECHNICIAN: {
        "facility.view_census",
        "facility.chart_floor",
        "facility.write_progress_note",
        "facility.record_administration",
        "facility.sign_controlled_count",
        "facility.break_glass",
    },
    Role.NURSE: {
        "facility.view_census",
        "facility.chart_floor",
        "facility.write_progress_note",
        "facility.raise_observation_level",
        "facility.record_administration",
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
    },
    Role.CLINICIAN: {
        "facility.view_census",
        "facility.write_progress_note",
        "facility.order_observation_level",
        "facility.view_medication_orders",
        "facility.manage_consents",
        "facility.break_glass",
    },
    Role.SUPERVISOR: {
        "facility.view_census",
        "facility.chart_floor",
        "facility.write_progress_note",
        "facility.view_medication_orders",
        "facility.sign_controlled_count",
        "facility.manage_consents",
        "facility.print_shift_report",
        "facility.view_alerts",
        "facility.resolve_alert",
        "facility.view_audit_trail",
        "facility.admit_client",
        "facility.break_glass",
    },
    Role.ADMIN: {
        "facility.manage_staff",
        "facility.manage_code_lists",
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
    },
}

# Role names as shown on the Group (the Group is named after the role's value).
ROLE_GROUP_NAMES = {role.value: role.label for role in Role}
