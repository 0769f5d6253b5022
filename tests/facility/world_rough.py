"""Builders for issue 17's rough edges, for the tables sharing tests/facility/world.py's World."""

from datetime import timedelta

from django.utils import timezone

from tests.conftest import admit


def a_discharged_client(w):
    """A client of the home facility discharged half an hour ago: one "Readmit" is for. Made
    once per test (a second call finds it), so a body builder can make it before a snapshot."""
    from clients.models import Client
    from clients.services import admission_discharge

    known = Client.objects.filter(facility=w.facility, legal_last_name="Readmittable").first()
    if known is not None:
        return known
    stay = admit(w.facility, w.cast["nurse"], first="Gone", last="Readmittable", n=11)
    admission_discharge(
        actor=w.cast["nurse"], admission=stay, discharge_type="completed",
        discharged_at=timezone.now() - timedelta(minutes=30),
    )  # fmt: skip
    return stay.client
