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


@shared_task
def scan_incidents() -> int:
    """Incident reports unreviewed after 24 hours, critical ones not reported to the state in
    time, debriefs not recorded (issue 12 item 4)."""
    from observations.services.incidents import scan_incidents

    return scan_incidents()


@shared_task
def scan_cssrs_overdue() -> int:
    """C-SSRS screens asked for (risk flag, order) and not done by their due time (issue 12)."""
    from observations.services.cssrs import scan_cssrs_overdue

    return scan_cssrs_overdue()
