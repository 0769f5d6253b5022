"""What observations settle when a stay ends, as one discharge step (facility/registry.py):

- the observer's watch ends, so they are free for another 1:1
  (observations.services.observers.watch_end_at_discharge);
- every withdrawal protocol still open ends with reason "discharge" at the discharge time, and
  its open overdue-reassessment alerts close: nothing stays owed after the stay (issue 11).
"""

from datetime import datetime

from facility.models import Alert, User
from facility.registry import DischargeStep, register_discharge_step
from facility.services import alerts_close
from observations.models import WithdrawalProtocol
from observations.services.observers import watch_end_at_discharge
from observations.services.withdrawal import OVERDUE_KIND

REASON = "discharge"


def protocols_end_at_discharge(*, actor: User, admission, at: datetime) -> int:
    """End the stay's open withdrawal protocols at `at` (never before a protocol's start, for a
    back-dated discharge time) with reason "discharge", and close their overdue alerts. Returns
    how many protocols ended. In the discharge's transaction."""
    protocols = list(
        WithdrawalProtocol.objects.select_for_update().filter(
            admission=admission, ended_at__isnull=True
        )
    )
    if not protocols:
        return 0
    for protocol in protocols:
        protocol.ended_at = max(at, protocol.started_at)
        protocol.ended_by = actor
        protocol.end_reason = REASON
        protocol.save(update_fields=["ended_at", "ended_by", "end_reason"])
    # One overdue alert per protocol per owed time (services.withdrawal.overdue_key).
    ids = {str(p.public_id) for p in protocols}
    keys = [
        key
        for key in Alert.objects.open()
        .filter(client_public_id=admission.client.public_id, kind=OVERDUE_KIND)
        .values_list("dedupe_key", flat=True)
        if key.split(":")[1] in ids
    ]
    alerts_close(keys, user=actor, note="Client discharged: protocol ended.")
    return len(protocols)


def _run(*, actor: User, admission, at: datetime, data=None) -> None:
    watch_end_at_discharge(actor=actor, admission=admission, at=at, data=data)
    protocols_end_at_discharge(actor=actor, admission=admission, at=at)


register_discharge_step(DischargeStep(key="observations", run=_run, order=20))
