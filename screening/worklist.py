"""Screening's section of "My work" (issue 17 item 1; facility/registry.py WorklistSection):
the specimens ordered and not yet collected (the screening home's "To collect": screens ordered
for cause or scheduled, the day's random draw, admission and return-from-pass screens), for the
floor staff who collect them. One query."""

from django.db.models import Case, IntegerField, Value, When
from django.urls import reverse

from facility.registry import WorkItem, WorklistSection, register_worklist_section
from facility.worklist import CAP
from screening.models import SpecimenReason
from screening.services.specimens import to_collect

# For cause first (something happened), then the day's random draw (collected the same day,
# unannounced), then the rest; oldest first within each.
_REASON_RANK = Case(
    When(reason=SpecimenReason.FOR_CAUSE, then=Value(0)),
    When(reason=SpecimenReason.RANDOM, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def _to_collect(*, user, facility, now) -> list[WorkItem]:
    """Specimens to collect at the facility, for clients still in care (the collection page
    refuses a discharged client's)."""
    specimens = (
        to_collect(facility)
        .filter(admission__discharged_at__isnull=True)
        .annotate(rank=_REASON_RANK)
        .order_by("rank", "ordered_at")[:CAP]
    )
    items = []
    for s in specimens:
        # As the screening home says it: the reason, not its detail (minimum necessary).
        reason = s.get_reason_display()
        if s.recollection_of_id:
            reason += " · observed recollection"
        items.append(
            WorkItem(
                label=f"{s.admission.client.display_name} ({s.admission.unit.name}) · "
                f"{s.get_specimen_type_display()} {s.specimen_id}",
                href=reverse("screening:specimen_collect", args=[s.public_id]),
                detail=reason,
                when=s.ordered_at,
                tone="late" if s.reason == SpecimenReason.FOR_CAUSE else "due",
            )
        )
    return items


register_worklist_section(
    WorklistSection(
        "screens_to_collect",
        "Screens to collect",
        _to_collect,
        roles=("technician", "nurse"),
        capability="screening.collect",
        order=70,
        more="screening:specimens",
        empty="No screen waits to be collected.",
    )
)
