"""Periodic scans of the facility core, scheduled in settings.CELERY_BEAT_SCHEDULE."""

from celery import shared_task

from facility import handoff


@shared_task
def scan_handoffs_unreceived() -> int:
    """Alert the supervisor when a shift's report is not received 30 minutes into the next."""
    return handoff.scan_handoffs_unreceived()
