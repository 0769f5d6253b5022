"""Lock-out after failed sign-ins and failed second-person passwords, counted in PostgreSQL.

privacy.md (164.312(d)) asks for a lock-out after 5 failures in 15 minutes. A nursing station's
tablets share one address, so the count is per account *from* an address; the address alone has a
much higher ceiling (settings `HAVEN_SIGNIN_*`). Wrong authenticator codes at the sign-in code
step count like wrong passwords. Second-person passwords (PRN override, controlled-drug counts)
have their own per-account counter, so a wrong co-signature never locks anyone's sign-in.

Rows live in the database so a Redis restart does not lift a lock-out, and sign-in does not need
Redis at all. Callers hold `account_lock()` from the check to the record, so parallel guesses at
one account cannot slip past the count.
"""

import hashlib
import ipaddress
import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from facility.models import SignInFailure, SignInFailureKind, User


def account_key(login: str) -> str:
    """The counter an attempt at `login` (username or e-mail) is charged to.

    A known account is keyed by its id, so its username and its e-mail share one counter; anything
    else by a hash of what was typed (people type passwords into the username field).
    """
    login = login.strip().lower()
    user_id = (
        User.objects.filter(Q(username__iexact=login) | Q(email__iexact=login))
        .values_list("pk", flat=True)
        .first()
    )
    if user_id is not None:
        return user_key(user_id)
    return "login:" + hashlib.sha256(login.encode()).hexdigest()[:40]


def user_key(user_or_id) -> str:
    return f"user:{getattr(user_or_id, 'pk', user_or_id)}"


def address(ip: str | None) -> str | None:
    """An IPv6 client owns a whole /64; count it as one address (as allauth does)."""
    if not ip:
        return None
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if parsed.version == 6:
        return str(ipaddress.IPv6Network(f"{parsed}/64", strict=False).network_address)
    return str(parsed)


def account_lock(key: str) -> None:
    """Serialise attempts on one account until the surrounding transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"haven-signin:{key}"])


def _window() -> timedelta:
    return timedelta(minutes=settings.HAVEN_SIGNIN_WINDOW_MINUTES)


def _unlocks_at(failures, limit: int) -> datetime | None:
    """When the lock lifts: the limit-th newest failure leaves the window. None if not locked."""
    nth = list(failures.order_by("-at").values_list("at", flat=True)[limit - 1 : limit])
    return nth[0] + _window() if nth else None


def locked_minutes(*, kind: str, key: str, ip: str | None = None) -> int:
    """Minutes until this account may try again (from this address, for sign-in); 0 if it may."""
    now = timezone.now()
    recent = SignInFailure.objects.filter(kind=kind, at__gt=now - _window())
    limit = settings.HAVEN_SIGNIN_ACCOUNT_LIMIT
    if kind == SignInFailureKind.COSIGN:
        checks = [(recent.filter(username_key=key), limit)]
    else:
        ip = address(ip)
        checks = [(recent.filter(username_key=key, ip=ip), limit)]
        if ip is not None:
            checks.append((recent.filter(ip=ip), settings.HAVEN_SIGNIN_ADDRESS_LIMIT))
    unlocks = [at for qs, n in checks if (at := _unlocks_at(qs, n)) is not None]
    if not unlocks:
        return 0
    return max(1, math.ceil((max(unlocks) - now).total_seconds() / 60))


def locked_message(minutes: int) -> str:
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-in attempts. Try again in {minutes} {unit}."


def failure_record(*, kind: str, key: str, ip: str | None) -> None:
    """Count one failure, and forget the ones that no longer count."""
    now = timezone.now()
    SignInFailure.objects.filter(at__lte=now - _window()).delete()
    SignInFailure.objects.create(kind=kind, username_key=key, ip=address(ip), at=now)
