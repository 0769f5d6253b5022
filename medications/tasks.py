"""Periodic work of the MAR, scheduled in settings.CELERY_BEAT_SCHEDULE."""

from celery import shared_task

from medications import services


@shared_task
def scan_doses() -> int:
    """Keep doses 48 hours ahead, then flag late and missed doses, overdue PRN follow-ups, shift
    counts, and orders not co-signed or still unverified in time."""
    services.doses_extend_horizon()
    return (
        services.scan_doses()
        + services.scan_prn_reassessments()
        + services.scan_shift_counts()
        + services.scan_orders()
    )
