"""The C-SSRS screen version (specs/charting.md; issue 12 item 3): screens owed (at admission,
after a risk flag, when a clinician orders one), recording a screen with its triage, and what a
result sets in motion. The triage itself is observations.scales.cssrs_screen."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from facility import policy
from facility.models import User
from observations.models import BehaviorNote, CssrsReason, CssrsRequest

# A screen asked for by a risk flag is owed at once; the due time is when it shows as overdue.
RISK_FLAG_DUE = timedelta(minutes=30)
ORDERED_DUE = timedelta(hours=4)


@transaction.atomic
def screen_request_open(
    *,
    actor: User,
    admission,
    reason: str,
    detail: str = "",
    behavior_note: BehaviorNote | None = None,
    now: datetime | None = None,
) -> CssrsRequest:
    """Ask for a C-SSRS screen for this stay (a risk flag, or a clinician's order). An open
    request for the same stay is reused, not duplicated: one screen answers them all."""
    now = now or timezone.now()
    capability = "cssrs.order" if reason == CssrsReason.ORDERED else "cssrs.screen"
    if reason == CssrsReason.RISK_FLAG:
        capability = "behavior_note.write"
    policy.require(actor, capability, admission)
    due = now + (ORDERED_DUE if reason == CssrsReason.ORDERED else RISK_FLAG_DUE)
    existing = (
        CssrsRequest.objects.select_for_update()
        .filter(admission=admission, answered_by__isnull=True, cancelled_at__isnull=True)
        .order_by("due_at")
        .first()
    )
    if existing is not None:
        if due < existing.due_at:
            existing.due_at = due
            existing.save(update_fields=["due_at"])
        return existing
    return CssrsRequest.objects.create(
        admission=admission,
        reason=reason,
        detail=detail,
        behavior_note=behavior_note,
        requested_at=now,
        requested_by=actor,
        due_at=due,
    )
