"""The census board's due-meds column: doses due or late now, per client."""

from datetime import timedelta

from facility.registry import CensusSlot, register_census_slot
from medications.models import ScheduledDose
from medications.services import dose_views, live_prefetch


def _due_meds(admissions, now):
    doses = list(
        ScheduledDose.objects.filter(
            order__admission__in=[a.pk for a in admissions],
            scheduled_at__gte=now - timedelta(hours=6),
            scheduled_at__lte=now + timedelta(hours=6),
            cancelled_at__isnull=True,
        )
        .select_related("order")
        .prefetch_related(live_prefetch())
        .order_by("order_id", "scheduled_at")
    )
    counts = {}
    for view in dose_views(doses, now):
        if view.status in ("due", "late"):
            key = view.dose.order.admission_id
            due, late = counts.get(key, (0, 0))
            counts[key] = (due + (view.status == "due"), late + (view.status == "late"))
    cells = {}
    for admission_id, (due, late) in counts.items():
        parts = ([f"{due} due"] if due else []) + ([f"{late} late"] if late else [])
        cells[admission_id] = {"text": ", ".join(parts), "tone": "late" if late else "due"}
    return cells


register_census_slot(CensusSlot(key="meds", title="Meds", fill=_due_meds, order=20))
