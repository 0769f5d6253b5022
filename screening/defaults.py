"""A facility's default test devices: one point-of-care cup with the spec's cutoffs and
adulterant pads (specs/screening.md, "Point-of-care cup results").

Seeded when a facility is made (registered in screening/apps.py, like observations' round codes)
and by seed_demo, never by a page on first view. Lots (number and expiry, printed on each box)
and breath alcohol devices (a real serial and calibration date) are entered by admins in Setup:
Haven cannot make them up.
"""

from django.db import transaction

from facility.models import Facility
from screening.models import Device, DeviceKind

# The default catalog of the spec, in ng/mL, in its order (the order pages list analytes in;
# PostgreSQL's jsonb does not keep a dict's key order).
DEFAULT_CUTOFFS = {
    "AMP": 1000, "MET": 1000, "BAR": 300, "BZO": 300, "BUP": 10, "COC": 300, "THC": 50,
    "OPI": 2000, "MOP": 300, "MTD": 300, "EDDP": 300, "OXY": 100, "FEN": 1, "MDMA": 500,
    "PCP": 25, "TCA": 1000, "TRA": 100, "K2": 20, "ETG": 500,
}  # fmt: skip
ANALYTE_ORDER = list(DEFAULT_CUTOFFS)

# What each code tests for, as a nurse reads it next to the code.
ANALYTE_NAMES = {
    "AMP": "Amphetamine", "MET": "Methamphetamine", "BAR": "Barbiturates",
    "BZO": "Benzodiazepines", "BUP": "Buprenorphine", "COC": "Cocaine",
    "THC": "Marijuana (THC)", "OPI": "Opiates", "MOP": "Morphine", "MTD": "Methadone",
    "EDDP": "Methadone metabolite (EDDP)", "OXY": "Oxycodone", "FEN": "Fentanyl",
    "MDMA": "Ecstasy (MDMA)", "PCP": "Phencyclidine", "TCA": "Tricyclic antidepressants",
    "TRA": "Tramadol", "K2": "Synthetic cannabinoids (K2)", "ETG": "Alcohol (EtG)",
}  # fmt: skip

ADULTERANT_PADS = ["creatinine", "pH", "specific gravity", "oxidants", "nitrite"]

DEFAULT_CUP = {"make": "Multi-drug", "model": "19-panel cup (Haven default cutoffs)"}


def analyte_sort_key(code: str) -> tuple[int, str]:
    """The spec's order first, then any analyte a device adds, alphabetically."""
    try:
        return (ANALYTE_ORDER.index(code), code)
    except ValueError:
        return (len(ANALYTE_ORDER), code)


def ordered_analytes(cutoffs: dict) -> list[str]:
    return sorted(cutoffs, key=analyte_sort_key)


@transaction.atomic
def devices_seed_defaults(facility: Facility) -> int:
    """Give a facility the default cup (idempotent): one INSERT when it is missing. Like every
    facility default, it comes with the facility's creation, the audited event."""
    have = Device.objects.filter(
        facility=facility, kind=DeviceKind.CUP, make=DEFAULT_CUP["make"], model=DEFAULT_CUP["model"]
    ).exists()
    if have:
        return 0
    Device.objects.bulk_create(
        [
            Device(
                facility=facility,
                kind=DeviceKind.CUP,
                cutoffs=dict(DEFAULT_CUTOFFS),
                adulterant_pads=list(ADULTERANT_PADS),
                **DEFAULT_CUP,
            )
        ]
    )
    return 1
