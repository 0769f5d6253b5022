"""Periodic scans of the transport app, scheduled in settings.CELERY_BEAT_SCHEDULE."""

from celery import shared_task


@shared_task
def scan_trips_overdue() -> int:
    """Alert the supervisor 15 minutes after a trip's planned return, critically at 60."""
    from transport.services.trips import scan_trips_overdue as scan

    return scan()


@shared_task
def scan_fleet_expiries() -> int:
    """Take vehicles with expired documents out of service; warn 30 days before expiries."""
    from transport.services.fleet import scan_fleet_expiries as scan

    return scan()
