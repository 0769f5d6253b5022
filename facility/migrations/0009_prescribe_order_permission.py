"""A permission for prescribers (issue 9, item 10): enter and sign an order, co-sign a verbal or
telephone order. `manage.py sync_roles` grants it to clinicians."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("facility", "0008_technician_scope_and_order_settings"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="clinicalpermission",
            options={
                "default_permissions": (),
                "managed": False,
                "permissions": [
                    ("view_census", "Can view the census and client charts"),
                    ("chart_floor", "Can chart rounds, notes, vitals, scales, searches, screens"),
                    ("write_progress_note", "Can write progress notes"),
                    ("order_observation_level", "Can order an observation level"),
                    (
                        "raise_observation_level",
                        "Can raise an observation level now, order to follow",
                    ),
                    ("use_mar", "Can open the MAR and the med pass"),
                    (
                        "record_administration",
                        "Can document observed self-administration of a dose",
                    ),
                    ("give_medication", "Can give medications: any route and outcome, PRN doses"),
                    ("cosign_prn_override", "Can co-sign a PRN given past its limits"),
                    (
                        "strike_administration",
                        "Can strike anyone's administration entered in error",
                    ),
                    ("receive_controlled_stock", "Can receive controlled stock from the pharmacy"),
                    ("sign_off_discrepancy", "Can sign off a controlled-count discrepancy"),
                    ("transcribe_order", "Can transcribe a medication order"),
                    ("verify_order", "Can verify a medication order"),
                    ("discontinue_order", "Can discontinue a medication order"),
                    (
                        "prescribe_order",
                        "Can enter and sign orders, co-sign verbal and telephone orders",
                    ),
                    ("view_medication_orders", "Can view medication orders"),
                    ("sign_controlled_count", "Can sign a controlled-substance count or waste"),
                    ("manage_consents", "Can manage consents and disclosures"),
                    ("print_shift_report", "Can print a shift report"),
                    ("view_alerts", "Can view alerts"),
                    ("admit_client", "Can admit, move and discharge clients"),
                    ("manage_staff", "Can manage staff accounts"),
                    ("manage_code_lists", "Can manage facilities, units, beds and code lists"),
                    ("break_glass", "Can break the glass"),
                ],
            },
        ),
    ]
