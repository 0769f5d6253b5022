"""Facility security rounds: the walk of the window in progress, every area OK or a finding
(specs/rounds.md, Security rounds). The windows are in observations.security; the scan for windows
that ended with no round is in services/scans.py."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from facility import policy
from facility.models import AlertSeverity, Facility, User
from facility.services import alert_raise, violated_constraint
from observations.models import SecurityArea, SecurityCheck, SecurityRound
from observations.security import window_at


@dataclass
class AreaResult:
    area: SecurityArea
    ok: bool
    finding: str = ""
    location_detail: str = ""
    action_taken: str = ""
    raise_alert: bool = False


@transaction.atomic
def security_round_complete(
    *, actor: User, facility: Facility, results: list[AreaResult], now: datetime | None = None
) -> SecurityRound:
    """Record the walk of the window in progress: every active area OK or a finding."""
    policy.require(actor, "floor.chart", facility)
    now = now or timezone.now()
    start, end = window_at(now, facility.tz, facility.shift_pattern)
    active = set(
        SecurityArea.objects.filter(facility=facility, active=True).values_list("pk", flat=True)
    )
    if {r.area.pk for r in results} != active:
        raise ValidationError("Mark every area OK or record a finding.")
    errors = []
    for r in results:
        if not r.ok and not (r.finding.strip() and r.action_taken.strip()):
            errors.append(f"{r.area.name}: a finding needs what was found and the action taken.")
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            walk = SecurityRound.objects.create(
                facility=facility, window_start=start, window_end=end, completed_at=now,
                completed_by=actor, recorded_at=timezone.now(),
            )  # fmt: skip
    except IntegrityError as exc:
        if violated_constraint(exc) == "observations_securityround_once":
            raise ValidationError("This window's security round is already recorded.") from exc
        raise
    for r in results:
        SecurityCheck.objects.create(
            round=walk,
            area=r.area,
            ok=r.ok,
            finding=r.finding.strip(),
            location_detail=r.location_detail.strip(),
            action_taken=r.action_taken.strip(),
            alert_raised=r.raise_alert and not r.ok,
        )
        if r.raise_alert and not r.ok:
            alert_raise(
                facility=facility,
                kind="security_finding",
                severity=AlertSeverity.WARNING,
                message=f"Security round: {r.area.name} — {r.finding.strip()} "
                f"(action: {r.action_taken.strip()})",
                dedupe_key=f"security-finding:{walk.public_id}:{r.area.pk}",
                now=now,
            )
    return walk
