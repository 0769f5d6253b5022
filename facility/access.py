"""Request helpers: the current facility of a request, scoped lookups, the co-signer check.

Strangers get 404 (a facility or client outside one's assignment does not exist for them); a
known person lacking a capability gets 403 from facility/policy.py (DESIGN.md §3).
"""

from django.conf import settings
from django.http import Http404, HttpRequest

from facility.models import Facility, User

SESSION_FACILITY_KEY = "haven_facility_id"


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from, for the audit trail.

    X-Forwarded-For is trusted only behind the configured TLS proxy, and only its last entry
    (the one the proxy appended); anything before it is whatever the client chose to send.
    """
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and settings.SECURE_PROXY_SSL_HEADER:
        return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def verify_cosigner(request: HttpRequest, *, username: str, password: str, facility: Facility):
    """The second person at the cart proves it with their own password.

    The co-signer must be active and work at the facility of the record; one message covers a
    wrong password, an unknown name and someone from elsewhere, so the form is no password oracle.
    Failures count per signed-in person and co-signer, plus a ceiling per signed-in person
    (facility/throttle.py), never on anyone's sign-in: a colleague's typos cannot stop the
    co-signer signing for someone else, nor co-signing themselves. Failures are audited under the
    signed-in person.
    """
    from allauth.account.auth_backends import AuthenticationBackend
    from django.contrib.auth import authenticate
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from facility import throttle
    from facility.models import AccessAction, SignInFailureKind
    from facility.services import access_log

    username = username.strip()
    if not username:
        return None
    actor = getattr(request, "user", None)
    actor = actor if actor is not None and actor.is_authenticated else None
    actor_key = throttle.user_key(actor) if actor is not None else "anonymous"
    key = throttle.account_key(username)
    ip = client_ip(request)

    def audit(outcome: str, why: str) -> None:
        access_log(
            action=AccessAction.COSIGN_FAILED,
            actor=actor,
            facility=facility,
            what=f"second person {username[:60]}: {why}",
            ip=ip,
            outcome=outcome,
        )

    with transaction.atomic():
        throttle.account_lock(f"cosign-by:{actor_key}")
        lock = throttle.cosign_lock(actor_key=actor_key, key=key)
        if lock:
            audit("locked", f"refused, too many failures ({lock.reason})")
            failed = "Second person: too many failed attempts; try later."
        else:
            # Not a sign-in: keep Django's failed-login signal from auditing it as one.
            request._haven_cosign = True
            try:
                user = authenticate(request, username=username, password=password)
            finally:
                request._haven_cosign = False
            # allauth's backend stashes a deactivated user whose password matched; they never sign.
            AuthenticationBackend.unstash_authenticated_user()
            if user is not None and facility.pk in user.facility_ids():
                return user
            throttle.failure_record(
                kind=SignInFailureKind.COSIGN, key=key, ip=ip, actor_key=actor_key
            )
            audit("failed", "wrong password, or not active at this facility")
            failed = "Second person: username or password is not correct, or they do not work here."
            now_locked = throttle.cosign_lock(actor_key=actor_key, key=key)
            if now_locked:
                _cosign_lockout_alert(facility, actor, username, now_locked.reason)
    # Raised outside the transaction, so the count and the audit row are kept.
    raise ValidationError(failed)


def _cosign_lockout_alert(facility: Facility, actor, username: str, reason: str) -> None:
    """Repeated wrong second-person passwords may be someone guessing: tell the supervisor."""
    from urllib.parse import urlencode

    from django.urls import reverse

    from facility.models import AlertSeverity
    from facility.services import alert_raise

    who = actor.username if actor is not None else "someone"
    alert_raise(
        facility=facility,
        kind="cosign_lockout",
        severity=AlertSeverity.WARNING,
        message=(
            f"Co-signing as {username[:60]} is paused ({reason}) after repeated wrong passwords "
            f"typed by {who}. If it was not a slip, check with both and consider a password reset."
        ),
        dedupe_key=f"cosign-lockout:{facility.pk}:{username[:60].lower()}",
        # The failed attempts, in the audit trail (issue 17: an alert links where it is acted on).
        link=f"{reverse('audit_trail')}?{urlencode({'action': 'cosign_failed'})}",
        once=False,
        # A security event about colleagues: the supervisor's, not the floor's (issue 17 review).
        audience="supervisor",
    )


def user_facilities(user: User):
    return Facility.objects.filter(staff=user).order_by("name")


def my_facilities(request: HttpRequest) -> list[Facility]:
    """The signed-in user's facilities by name, read once per request (one query): the current
    facility, the layout's switcher and the policy's scope checks all use this list."""
    cached = getattr(request, "_haven_facilities", None)
    if cached is None:
        user = request.user
        cached = list(user_facilities(user)) if user.is_authenticated else []
        if user.is_authenticated:
            # The same set User.facility_ids() would read again (policy.in_scope).
            user._facility_ids = [f.pk for f in cached]
        request._haven_facilities = cached
    return cached


def current_facility(request: HttpRequest) -> Facility | None:
    """The facility the user is working in: the one they switched to, else their first."""
    cached = getattr(request, "_haven_facility", False)
    if cached is not False:
        return cached
    facility = None
    if request.user.is_authenticated:
        wanted = request.session.get(SESSION_FACILITY_KEY)
        facilities = my_facilities(request)
        if wanted:
            facility = next((f for f in facilities if f.pk == wanted), None)
        if facility is None and facilities:
            facility = facilities[0]
    request._haven_facility = facility
    return facility


def current_facility_or_404(request: HttpRequest) -> Facility:
    """The facility the user is working in; 404 for a user assigned to none."""
    facility = current_facility(request)
    if facility is None:
        raise Http404("You are not assigned to a facility.")
    return facility
