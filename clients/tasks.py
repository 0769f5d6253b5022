"""Periodic scans of the clients app, scheduled in settings.CELERY_BEAT_SCHEDULE."""

from celery import shared_task

from clients import consents, services


@shared_task
def scan_orientation_overdue() -> int:
    """Alert on admissions whose orientation checklist is not done after 24 hours."""
    return services.scan_orientation_overdue()


@shared_task
def scan_leaves_overdue() -> int:
    """Alert when a client on leave is 15 minutes past the expected return (AWOL at 60)."""
    return services.scan_leaves_overdue()


@shared_task
def scan_consents_expiring() -> int:
    """Warn clinicians and supervisors 14 days before a dated consent expires (issue 16)."""
    return consents.scan_consents_expiring()
