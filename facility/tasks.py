"""Periodic scans of the facility core, scheduled in settings.CELERY_BEAT_SCHEDULE."""

from celery import shared_task

from facility import handoff


@shared_task
def scan_handoffs_unreceived() -> int:
    """Alert the supervisor when a shift's report is not received 30 minutes into the next."""
    return handoff.scan_handoffs_unreceived()


@shared_task
def seal_audit_changes() -> int:
    """Seal the data changes older than the grace period into the access log's chain."""
    from facility.audit_chain import seal_data_changes

    return 1 if seal_data_changes() is not None else 0


@shared_task
def anchor_audit_chain() -> int:
    """Sign the chain's length and head into the anchor log outside the database."""
    from facility.audit_chain import anchor_write

    return anchor_write()["length"]


@shared_task
def verify_audit_chain() -> bool:
    """Nightly: seal, verify against seals and anchors, anchor, alert when broken or unanchored."""
    from facility.audit_chain import verify

    report = verify()
    return report.intact and not report.missing_anchor
