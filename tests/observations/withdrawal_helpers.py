"""Shared by the withdrawal tests: item sets from totals, a protocol, a scored assessment, and a
verified PRN order with a score trigger (the medications side, through its own services)."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from observations.scales import CIWA_ITEMS, COWS_ITEMS
from observations.services import assessment_record, protocol_start

CIWA_KEYS = list(CIWA_ITEMS)
COWS_KEYS = list(COWS_ITEMS)


def ciwa(*values) -> dict:
    """CIWA-Ar items from ten values in the spec's order; one value → that total, spread."""
    if len(values) == 1:
        total, out = values[0], {}
        for key in CIWA_KEYS:
            take = min(total, max(CIWA_ITEMS[key]))
            out[key] = take
            total -= take
        assert total == 0
        return out
    return dict(zip(CIWA_KEYS, values, strict=True))


def cows(*values) -> dict:
    return dict(zip(COWS_KEYS, values, strict=True))


def start(nurse, admission, scale="ciwa_ar", *, at=None, **extra):
    return protocol_start(
        actor=nurse,
        admission=admission,
        scale=scale,
        reason="Alcohol withdrawal" if scale == "ciwa_ar" else "Opioid withdrawal",
        started_at=at or timezone.now() - timedelta(minutes=5),
        **extra,
    )


def score(nurse, admission, total, *, at=None, now=None, scale="ciwa_ar"):
    """A score charted when it was taken (`at`, default now)."""
    items = ciwa(total) if scale == "ciwa_ar" else total
    return assessment_record(
        actor=nurse,
        admission=admission,
        scale=scale,
        items=items,
        assessed_at=at or timezone.now(),
        now=now or at,
    )


def triggered_prn(nurse, verifier, admission, *, min_score=10, name="Chlordiazepoxide"):
    """A verified PRN chlordiazepoxide order: give 25 mg if CIWA-Ar ≥ min_score."""
    from medications.models import Medication
    from medications.services import order_transcribe, order_verify

    med = Medication.objects.create(
        facility=admission.facility, name=name, strength="25 mg", form="capsule",
        routes="oral",
    )  # fmt: skip
    order = order_transcribe(
        actor=nurse, admission=admission, medication=med, dose="25 mg",
        dose_units=Decimal("1"), route="oral", frequency="prn", times="",
        indication="Alcohol withdrawal", prn_min_interval_minutes=60, prn_max_per_24h=6,
        start_at=admission.admitted_at, prescriber_name="Dr. Table",
        prescriber_credentials="MD", prn_trigger_scale="ciwa_ar",
        prn_trigger_min_score=min_score,
    )  # fmt: skip
    order_verify(actor=verifier, order=order)
    return order
