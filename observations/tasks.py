"""Periodic scans of the observations app, scheduled in settings.CELERY_BEAT_SCHEDULE."""

from celery import shared_task

from observations import services


@shared_task
def scan_missed_checks() -> int:
    """Missed round blocks, overdue level orders and continuous levels without an observer."""
    return services.scan_missed_checks()
