"""Score-triggered PRN and hold parameters on the MAR (issue 11): names and numbers."""

from django import template

from medications.holds import VITALS, plain
from medications.triggers import SCALES

register = template.Library()


@register.filter
def scale_name(key: str) -> str:
    """ "ciwa_ar" → "CIWA-Ar" """
    return SCALES.get(key, key)


@register.filter
def hold_vital_label(key: str) -> str:
    """ "sbp" → "SBP" """
    spec = VITALS.get(key)
    return spec.label if spec else key


@register.filter
def hold_number(value) -> str:
    """88.0 → "88", 36.5 → "36.5" """
    return plain(value) if value is not None else ""
