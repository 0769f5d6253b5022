"""The clients app's record category (issue 16): who the client is, their stays, allergies and
emergency contact, for a disclosure packet or the client's own copy (facility/registry.py)."""

from django.db.models import Q

from clients.models import Admission, Allergy
from facility.registry import RecordCategory, register_record_category


def demographics(*, client, start, end, user=None) -> dict:
    """Identity, the stays overlapping [start, end), every allergy (removed ones struck, with
    why), the emergency contact: two queries."""
    stays = list(
        Admission.objects.filter(client=client, admitted_at__lt=end)
        .filter(Q(discharged_at__isnull=True) | Q(discharged_at__gte=start))
        .select_related("unit", "facility")
        .order_by("admitted_at")
    )
    allergies = list(
        Allergy.objects.filter(client=client, recorded_at__lt=end).order_by("allergen", "pk")
    )
    return {"client": client, "stays": stays, "allergies": allergies}


register_record_category(
    RecordCategory(
        key="demographics",
        label="Identity, stays, allergies and emergency contact",
        template="clients/records/demographics.html",
        render=demographics,
        order=10,
    )
)
