"""Periodic scans of the observations app, scheduled in settings.CELERY_BEAT_SCHEDULE."""

from celery import shared_task

from observations import services


@shared_task
def scan_missed_checks() -> int:
    """Missed round blocks, overdue level orders and continuous levels without an observer."""
    return services.scan_missed_checks()


@shared_task
def scan_vitals_overdue() -> int:
    """Vital-sign sets owed by a client's schedule and now overdue (issue 11 item 3)."""
    return services.scan_vitals_overdue()


@shared_task
def scan_reassessments_overdue() -> int:
    """Withdrawal reassessments (CIWA-Ar, COWS) owed by a protocol and now overdue (issue 11)."""
    return services.scan_reassessments_overdue()
