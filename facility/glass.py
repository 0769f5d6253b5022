"""Break-the-glass: emergency access to one client's chart outside one's scope (issue 16 item 5).

specs/privacy.md "Emergency access" (164.312(a)(2)(ii)): a reason is required, the access lasts
HAVEN_BREAK_GLASS_MINUTES (60 by default), the supervisors of the client's facility are alerted
at once, and a review item waits until one of them signs it off.

What the access opens is decided in one place, `Client.objects.visible_to` (clients/models.py),
which adds the granted client for as long as the access lasts. It is read-only: every service
that writes asks `policy.require(actor, capability, obj)`, whose facility scope still refuses.

The core does not import the clients app: a client is found by MRN through the registry's
client locator (clients/glass.py) and named here by public id and MRN, like the access log.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from facility import policy
from facility.models import (
    AccessAction,
    AccessEvent,
    Alert,
    AlertSeverity,
    BreakGlassAccess,
    Facility,
    User,
)
from facility.services import access_log, alert_raise, alert_resolve

ALERT_KIND = "break_glass"
CLOSED_BY = "a supervisor's sign-off of the emergency access"
REASON_MIN = 10
REASON_MAX = 500
NOTE_MAX = 1000
REASON_SHORT = f"Reason: say why you need this chart now (at least {REASON_MIN} characters)."
# Where a request learns, without a query, that its user may hold an active access: the latest
# expiry, in the session (this browser) and in the cache (any device). Only a hint: when it says
# "maybe", one query answers; when both are missing, no access was opened by this user lately.
SESSION_KEY = "haven_glass_until"
ALREADY_VISIBLE = "You already have access to this client's chart."


class AlreadyVisible(Exception):
    """The user can already read this client's chart: nothing to break."""

    def __init__(self, client):
        super().__init__(ALREADY_VISIBLE)
        self.client = client


def minutes() -> int:
    return settings.HAVEN_BREAK_GLASS_MINUTES


def _cache_key(user_id: int) -> str:
    return f"glass-until:{user_id}"


def active(user, *, now: datetime | None = None):
    """The user's accesses that have not expired."""
    return BreakGlassAccess.objects.filter(user_id=user.pk, expires_at__gt=now or timezone.now())


def granted_client_ids(user, *, now: datetime | None = None):
    """A subquery of the public ids of the clients this user holds an active access to (used
    inside `Client.objects.visible_to`, so it costs no query of its own)."""
    return active(user, now=now).values("client_public_id")


def holds_access(user, client_public_id, *, now: datetime | None = None) -> bool:
    return active(user, now=now).filter(client_public_id=client_public_id).exists()


def _hint(access: BreakGlassAccess) -> None:
    """Tell every device of the user (the cache) that an access runs until `expires_at`."""
    until = access.expires_at.timestamp()
    ttl = max(1, int(until - timezone.now().timestamp()) + 60)
    previous = cache.get(_cache_key(access.user_id)) or 0
    cache.set(_cache_key(access.user_id), max(until, previous), ttl)


def remember(request, access: BreakGlassAccess) -> None:
    """The same hint in this browser's session (it outlives a cache flush)."""
    until = access.expires_at.timestamp()
    request.session[SESSION_KEY] = max(until, request.session.get(SESSION_KEY) or 0)


def until_label(access: BreakGlassAccess) -> str:
    """When the access ends, on the client's facility clock with its zone ("15:04 CST")."""
    return f"{timezone.localtime(access.expires_at, access.facility.tz):%H:%M %Z}"


def seen_through_access(request) -> None:
    """This request opened a client through an emergency access (clients/access.py): the banner
    must be drawn even if both hints were lost (a cache flush, another browser)."""
    request._glass_seen = True


def banner_accesses(request) -> list[BreakGlassAccess]:
    """The active accesses of the request's user, for the banner: at most one query per request,
    and none when neither hint says an access may be active and the page opened no client
    through one."""
    cached = getattr(request, "_glass_banner", None)
    if cached is not None:
        return cached
    found: list[BreakGlassAccess] = []
    user = request.user
    now = timezone.now()
    hints = [request.session.get(SESSION_KEY) or 0, cache.get(_cache_key(user.pk)) or 0]
    if max(hints) > now.timestamp() or getattr(request, "_glass_seen", False):
        found = list(active(user, now=now).select_related("facility").order_by("expires_at"))
        if not found:
            request.session.pop(SESSION_KEY, None)
        else:
            # Keep this browser's hint: the next pages draw the banner too.
            remember(request, found[-1])
        # On the client's facility clock, like the message shown when the access opened.
        for access in found:
            access.until_label = until_label(access)
    request._glass_banner = found
    return found


@dataclass(frozen=True)
class ClientRef:
    """What the core keeps of a client: enough for the access log and the alert."""

    public_id: object
    mrn: str
    facility: Facility


def can_already_see(user, client) -> bool:
    """The ordinary scope (clients/models.py `visible_to` without break-the-glass)."""
    return policy.allows(user, "census.view") and client.facility_id in user.facility_ids()


def _clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) < REASON_MIN:
        raise ValidationError({"reason": REASON_SHORT})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"Reason: at most {REASON_MAX} characters."})
    return reason


def glass_open(
    *,
    actor: User,
    mrn: str,
    reason: str,
    facility: Facility | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> tuple[BreakGlassAccess, bool]:
    """Open emergency access to the client with this MRN; returns (access, created).

    An access to the same client still running is returned as it is (nothing extended). A client
    the actor can already read raises AlreadyVisible. An unknown MRN is audited as a failed
    break-the-glass and refused with a field message.
    """
    from facility.registry import locate_clients

    policy.require(actor, "break_glass")
    now = now or timezone.now()
    mrn = (mrn or "").strip()
    reason = _clean_reason(reason)
    found = locate_clients(mrn, facility=facility) if mrn else []
    if not found:
        access_log(
            action=AccessAction.BREAK_GLASS,
            actor=actor,
            facility=facility,
            what=f"break-the-glass refused: no client with MRN {mrn[:40]}",
            ip=ip,
            outcome="not_found",
        )
        where = f" at {facility.name}" if facility else ""
        raise ValidationError({"mrn": f"No client has this MRN{where}. Check it and try again."})
    if len(found) > 1:
        raise ValidationError(
            {"facility": "Several facilities use this MRN: choose the client's facility."}
        )
    client = found[0]
    if can_already_see(actor, client):
        raise AlreadyVisible(client)
    with transaction.atomic():
        # One access per person and client at a time: two taps cannot open two.
        User.objects.select_for_update().filter(pk=actor.pk).first()
        running = (
            active(actor, now=now)
            .filter(client_public_id=client.public_id)
            .order_by("-expires_at")
            .first()
        )
        if running is not None:
            _hint(running)
            return running, False
        access = BreakGlassAccess.objects.create(
            user=actor,
            facility_id=client.facility_id,
            client_public_id=client.public_id,
            client_label=client.mrn,
            reason=reason,
            opened_at=now,
            expires_at=now + timedelta(minutes=minutes()),
        )
        ref = SimpleNamespace(public_id=client.public_id, mrn=client.mrn)
        access_log(
            action=AccessAction.BREAK_GLASS,
            actor=actor,
            facility=client.facility,
            client=ref,
            what=f"break-the-glass opened for {minutes()} min: {reason}",
            ip=ip,
        )
        role = actor.get_role_display() if hasattr(actor, "get_role_display") else actor.role
        alert_raise(
            facility=client.facility,
            kind=ALERT_KIND,
            severity=AlertSeverity.WARNING,
            message=(
                f"Emergency access: {actor} ({role}) opened {client.mrn}'s chart. "
                f"Reason: {reason}. Review and sign off."
            ),
            dedupe_key=f"{ALERT_KIND}:{access.public_id}",
            client_public_id=client.public_id,
            client_label=client.mrn,
            link=reverse("glass_review"),
            now=now,
            audience="supervisor",
        )
    _hint(access)
    return access, True


def reviewable(user):
    """Accesses waiting for this supervisor's sign-off: at their facilities, not their own."""
    return (
        BreakGlassAccess.objects.filter(
            facility_id__in=user.facility_ids(), reviewed_at__isnull=True
        )
        .exclude(user_id=user.pk)
        .select_related("user", "facility")
        .order_by("opened_at", "id")
    )


def pages_viewed(accesses) -> dict[int, list[AccessEvent]]:
    """For each access, what its holder opened of that client while it lasted (from the access
    log), in one query."""
    accesses = list(accesses)
    result: dict[int, list[AccessEvent]] = {a.pk: [] for a in accesses}
    if not accesses:
        return result
    events = AccessEvent.objects.filter(
        user_id__in={a.user_id for a in accesses},
        client_public_id__in={a.client_public_id for a in accesses},
        at__gte=min(a.opened_at for a in accesses),
        at__lte=max(a.expires_at for a in accesses),
    ).exclude(action__in=[AccessAction.BREAK_GLASS, AccessAction.BREAK_GLASS_REVIEW])
    for event in events.order_by("at", "id"):
        for access in accesses:
            if (
                event.user_id == access.user_id
                and event.client_public_id == access.client_public_id
                and access.opened_at <= event.at <= access.expires_at
            ):
                result[access.pk].append(event)
    return result


@transaction.atomic
def glass_review(
    *, actor: User, access: BreakGlassAccess, note: str, ip: str | None = None
) -> BreakGlassAccess:
    """A supervisor of the client's facility signs the access off, once, with a note; the alert
    raised when it opened closes with it."""
    policy.require(actor, "break_glass.review", access)
    if access.user_id == actor.pk:
        raise PermissionDenied("You cannot review your own emergency access.")
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Review note: say what you checked."})
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": f"Review note: at most {NOTE_MAX} characters."})
    locked = BreakGlassAccess.objects.select_for_update().get(pk=access.pk)
    if locked.reviewed_at is not None:
        raise ValidationError({"note": "This access has already been signed off."})
    locked.reviewed_at = timezone.now()
    locked.reviewed_by = actor
    locked.review_note = note
    locked.save(update_fields=["reviewed_at", "reviewed_by", "review_note"])
    access_log(
        action=AccessAction.BREAK_GLASS_REVIEW,
        actor=actor,
        facility=locked.facility,
        client=SimpleNamespace(public_id=locked.client_public_id, mrn=locked.client_label),
        what=f"signed off {locked.user.username}'s break-the-glass: {note}",
        ip=ip,
    )
    for alert in Alert.objects.open().filter(
        kind=ALERT_KIND, dedupe_key=f"{ALERT_KIND}:{locked.public_id}"
    ):
        alert_resolve(alert=alert, user=actor, note=f"Access signed off: {note}", workflow=True)
    return locked
