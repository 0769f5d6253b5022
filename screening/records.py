"""The screening app's record category (issue 16): drug screens (urine or oral fluid, the
point-of-care readings and the lab's results) and breath alcohol tests, for a disclosure
packet or the client's own copy (facility/registry.py). Belongings searches are not a
clinical record and stay out."""

from django.db.models import Prefetch

from facility.registry import RecordCategory, register_record_category
from screening.models import AnalyteResult, BreathTest, LabResult, PocTest, Specimen


def drug_screens(*, client, start, end, user=None) -> dict:
    """Specimens ordered in [start, end) with their readings and lab results, and breath tests:
    five queries."""
    specimens = list(
        Specimen.objects.filter(admission__client=client, ordered_at__gte=start, ordered_at__lt=end)
        .select_related("collector")
        .prefetch_related(
            Prefetch(
                "poc_tests",
                queryset=PocTest.objects.order_by("tested_at").prefetch_related(
                    Prefetch("analytes", queryset=AnalyteResult.objects.order_by("analyte"))
                ),
            ),
            Prefetch("lab_results", queryset=LabResult.objects.order_by("reported_at", "analyte")),
        )
        .order_by("ordered_at", "pk")
    )
    breath = list(
        BreathTest.objects.filter(admission__client=client, tested_at__gte=start, tested_at__lt=end)
        .select_related("operator")
        .order_by("tested_at", "pk")
    )
    return {"specimens": specimens, "breath": breath}


register_record_category(
    RecordCategory(
        key="drug_screens",
        label="Drug screens (UDS) and breath alcohol results",
        template="screening/records/drug_screens.html",
        render=drug_screens,
        order=80,
    )
)
