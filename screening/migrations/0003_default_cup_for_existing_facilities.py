# Facilities made before issue 13 get the default point-of-care cup here (new ones get it when
# created: screening.defaults). The catalog is copied, not imported, so this migration means the
# same thing forever.

from django.db import migrations

CUTOFFS = {
    "AMP": 1000, "MET": 1000, "BAR": 300, "BZO": 300, "BUP": 10, "COC": 300, "THC": 50,
    "OPI": 2000, "MOP": 300, "MTD": 300, "EDDP": 300, "OXY": 100, "FEN": 1, "MDMA": 500,
    "PCP": 25, "TCA": 1000, "TRA": 100, "K2": 20, "ETG": 500,
}  # fmt: skip
PADS = ["creatinine", "pH", "specific gravity", "oxidants", "nitrite"]
CUP = {"make": "Multi-drug", "model": "19-panel cup (Haven default cutoffs)"}


def seed(apps, schema_editor):
    Facility = apps.get_model("facility", "Facility")
    Device = apps.get_model("screening", "Device")
    for facility in Facility.objects.all():
        if not Device.objects.filter(facility=facility, kind="cup", **CUP).exists():
            Device.objects.create(
                facility=facility, kind="cup", cutoffs=dict(CUTOFFS), adulterant_pads=list(PADS),
                **CUP,
            )  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("screening", "0002_custody_chain_trigger"), ("facility", "0013_issue13_screening_permissions")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
