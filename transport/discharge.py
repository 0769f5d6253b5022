"""What transport settles when a stay ends, as one discharge step (facility/registry.py): a
client out on a trip is "discharged while out" (not expected at the van's return, no incident),
and one planned on a trip not yet gone does not go, with the reason (issue 14 review). Also the
trips a client is about to leave on, for the MAR's "sent with client"."""

from datetime import datetime

from facility.models import User
from facility.registry import DischargeStep, register_departure_source, register_discharge_step


def _run(*, actor: User, admission, at: datetime, data=None) -> None:
    from transport.services.trips import passengers_discharged

    passengers_discharged(admission=admission, actor=actor)


register_discharge_step(DischargeStep(key="transport", run=_run, order=40))


def _departures(admission_ids, *, start: datetime, end: datetime) -> dict[int, datetime]:
    """The MAR's "sent with client" (facility/registry.py): each client planned on a trip that
    leaves in [start, end) and has not left yet, with its planned departure."""
    from transport.models import PassengerStatus, TripPassenger, TripStatus

    rows = TripPassenger.objects.filter(
        admission_id__in=admission_ids,
        status=PassengerStatus.PLANNED,
        pick_up=False,
        trip__status=TripStatus.PLANNED,
        trip__planned_departure__gte=start,
        trip__planned_departure__lt=end,
    ).values_list("admission_id", "trip__planned_departure")
    found: dict[int, datetime] = {}
    for pk, at in rows:
        found[pk] = min(at, found.get(pk, at))
    return found


register_departure_source("transport", _departures)
