"""Who may see what: the current facility of a request, and the view decorators.

Strangers get 404 (a facility or client outside one's assignment does not exist for them); a
known person lacking a permission gets 403 (DESIGN.md §3).
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
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

    Wrong passwords count on the co-signer's own counter (facility/throttle.py), never on their
    sign-in: after the limit, co-signing for that account is refused for the window, and a
    locked sign-in does not stop them co-signing. The co-signer must be active and work at the
    facility of the record.
    """
    from allauth.account.auth_backends import AuthenticationBackend
    from django.contrib.auth import authenticate
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from facility import throttle
    from facility.models import SignInFailureKind

    username = username.strip()
    if not username:
        return None
    key = throttle.account_key(username)
    with transaction.atomic():
        throttle.account_lock(key)
        if throttle.locked_minutes(kind=SignInFailureKind.COSIGN, key=key):
            raise ValidationError("Second person: too many failed attempts; try later.")
        user = authenticate(request, username=username, password=password)
        # allauth's backend stashes a deactivated user whose password matched; they never sign.
        AuthenticationBackend.unstash_authenticated_user()
        if user is None:
            throttle.failure_record(kind=SignInFailureKind.COSIGN, key=key, ip=client_ip(request))
    if user is None:
        raise ValidationError("Second person: username or password is not correct.")
    if facility.pk not in user.facility_ids():
        raise ValidationError("Second person: must work at this facility.")
    return user


def user_facilities(user: User):
    return Facility.objects.filter(staff=user).order_by("name")


def current_facility(request: HttpRequest) -> Facility | None:
    """The facility the user is working in: the one they switched to, else their first."""
    cached = getattr(request, "_haven_facility", False)
    if cached is not False:
        return cached
    facility = None
    user = request.user
    if user.is_authenticated:
        wanted = request.session.get(SESSION_FACILITY_KEY)
        facilities = user_facilities(user)
        if wanted:
            facility = facilities.filter(pk=wanted).first()
        if facility is None:
            facility = facilities.first()
    request._haven_facility = facility
    return facility


def facility_for(request: HttpRequest, public_id) -> Facility:
    """A facility by public id, if the user is assigned to it; 404 otherwise."""
    facility = user_facilities(request.user).filter(public_id=public_id).first()
    if facility is None:
        raise Http404("No such facility.")
    return facility


def require_perm(*perms: str):
    """Login first, then the permission (403 if missing). Stack method decorators below this."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perms(perms):
                raise PermissionDenied("Your role does not allow this.")
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator
