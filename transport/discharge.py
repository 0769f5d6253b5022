"""What transport settles when a stay ends, as one discharge step (facility/registry.py): a
client out on a trip is "discharged while out" (not expected at the van's return, no incident),
and one planned on a trip not yet gone does not go, with the reason (issue 14 review)."""

from datetime import datetime

from facility.models import User
from facility.registry import DischargeStep, register_discharge_step


def _run(*, actor: User, admission, at: datetime, data=None) -> None:
    from transport.services.trips import passengers_discharged

    passengers_discharged(admission=admission)


register_discharge_step(DischargeStep(key="transport", run=_run, order=40))
