"""Facility security rounds: the walk of the window in progress, every area OK or a finding,
and findings recorded between rounds (specs/rounds.md, Facility security rounds; issue 10 item 9).
The windows are in observations.security; the scan for windows that ended with no round is in
services/scans.py."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from facility import policy
from facility.models import AlertSeverity, Facility, User
from facility.services import alert_raise, violated_constraint
from observations.models import SecurityArea, SecurityCheck, SecurityFinding, SecurityRound
from observations.security import window_at

# A finding between rounds is entered from memory or a note: up to a day back, never ahead.
FINDING_MAX_BACKDATE = timedelta(hours=24)


@dataclass
class AreaResult:
    """One area as the walker marked it. `ok` has no default: an area is never OK by omission."""

    area: SecurityArea
    ok: bool
    finding: str = ""
    location_detail: str = ""
    action_taken: str = ""
    raise_alert: bool = False


def security_page_link(anchor: str = "") -> str:
    """Where security alerts are acted on: the security page (at the finding, if given)."""
    return reverse("observations:security") + (f"#{anchor}" if anchor else "")


def _finding_errors(name: str, finding: str, where: str, action: str) -> list[str]:
    """A finding records what, where and the action taken (specs/rounds.md): all three."""
    parts = (("what was found", finding), ("where", where), ("the action taken", action))
    missing = [label for label, text in parts if not text.strip()]
    if not missing:
        return []
    return [f"{name}: a finding needs what was found, where, and the action taken "
            f"(missing: {', '.join(missing)})."]  # fmt: skip


@transaction.atomic
def security_round_complete(
    *,
    actor: User,
    facility: Facility,
    results: list[AreaResult],
    all_ok_declared: bool = False,
    now: datetime | None = None,
) -> SecurityRound:
    """Record the walk of the window in progress: every active area marked OK or a finding,
    explicitly; with `all_ok_declared` the walker used the single "all OK" action, which is
    recorded as such and cannot carry a finding."""
    policy.require(actor, "floor.chart", facility)
    now = now or timezone.now()
    start, end = window_at(now, facility.tz, facility.shift_pattern)
    active = list(SecurityArea.objects.filter(facility=facility, active=True))
    marked = {r.area.pk for r in results}
    unmarked = [a.name for a in active if a.pk not in marked]
    if unmarked:
        raise ValidationError([f"{name}: mark it OK or record a finding." for name in unmarked])
    if marked - {a.pk for a in active}:
        raise ValidationError("An area on this form is not walked here any more; reload the page.")
    errors = []
    for r in results:
        if all_ok_declared and not r.ok:
            errors.append(f"{r.area.name}: marked a finding, so the round is not all OK.")
        elif not r.ok:
            errors += _finding_errors(r.area.name, r.finding, r.location_detail, r.action_taken)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            walk = SecurityRound.objects.create(
                facility=facility, window_start=start, window_end=end, completed_at=now,
                completed_by=actor, recorded_at=timezone.now(), all_ok_declared=all_ok_declared,
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
                f"at {r.location_detail.strip()} (action: {r.action_taken.strip()})",
                dedupe_key=f"security-finding:{walk.public_id}:{r.area.pk}",
                link=security_page_link(f"round-{walk.public_id}"),
                now=now,
            )
    return walk


@transaction.atomic
def security_finding_record(
    *,
    actor: User,
    area: SecurityArea,
    found_at: datetime,
    finding: str,
    location_detail: str,
    action_taken: str,
    now: datetime | None = None,
) -> SecurityFinding:
    """Record a finding made between rounds (specs/rounds.md: what, where, action taken).

    Found no later than now and no more than 24 hours back. Safer reading of "may raise an
    alert": a finding between rounds always alerts the supervisor. It is on no round that
    anyone reviews, and an unsecured door or sharps box must not depend on a tick to be seen.
    """
    policy.require(actor, "floor.chart", area)
    now = now or timezone.now()
    if not area.active:
        raise ValidationError({"area": "Area: choose one walked at this facility."})
    if found_at > now:
        raise ValidationError({"found_at": "Found at: cannot be in the future."})
    if found_at < now - FINDING_MAX_BACKDATE:
        raise ValidationError({"found_at": "Found at: at most 24 hours back."})
    errors = _finding_errors(area.name, finding, location_detail, action_taken)
    if errors:
        raise ValidationError(errors)
    # A double tap on "Record finding" must not chart it (and alert) twice: findings on one
    # area are taken one at a time, and the same finding at the same time is recorded once.
    SecurityArea.objects.select_for_update().only("pk").get(pk=area.pk)
    if SecurityFinding.objects.filter(
        area=area,
        found_at=found_at,
        finding=finding.strip(),
        location_detail=location_detail.strip(),
        action_taken=action_taken.strip(),
    ).exists():
        raise ValidationError("This finding is already recorded.")
    found = SecurityFinding.objects.create(
        facility_id=area.facility_id,
        area=area,
        found_at=found_at,
        recorded_at=timezone.now(),
        recorded_by=actor,
        finding=finding.strip(),
        location_detail=location_detail.strip(),
        action_taken=action_taken.strip(),
        alert_raised=True,
    )
    alert_raise(
        facility=area.facility,
        kind="security_finding",
        severity=AlertSeverity.WARNING,
        message=f"Security finding {timezone.localtime(found_at, area.facility.tz):%H:%M}: "
        f"{area.name} — {found.finding} at {found.location_detail} "
        f"(action: {found.action_taken})",
        dedupe_key=f"security-finding:{found.public_id}",
        link=security_page_link(f"finding-{found.public_id}"),
        now=now,
    )
    return found
