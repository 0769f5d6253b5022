"""Lock-out after failed sign-ins and failed second-person passwords, counted in PostgreSQL.

privacy.md (164.312(d)) asks for a lock-out after 5 failures in 15 minutes. A nursing station's
tablets share one address, so a lock-out must not become a way to shut a whole station out. The
OWASP "device cookie" approach does it: after a successful sign-in the browser gets a signed
cookie naming the account as trusted there (`device_cookie_set`). Attempts at an account from a
browser that trusts it are counted per account and browser only, so nothing from an untrusted
browser locks them out. Attempts from an untrusted browser are counted per account from the
address, per account across all addresses (distributed guessing), and per address across all
accounts (settings `HAVEN_SIGNIN_*`). Wrong authenticator codes and current passwords count like
wrong sign-in passwords.

Second-person passwords (PRN override, controlled-drug counts) have their own counter per
signed-in person and co-signer, plus a ceiling per signed-in person, so a wrong co-signature
never locks anyone's sign-in and one colleague cannot stop another from co-signing.

Rows live in the database so a Redis restart does not lift a lock-out, and sign-in does not need
Redis at all. Callers hold `account_lock()` from the check to the record, so parallel guesses at
one account cannot slip past the count.
"""

import hashlib
import ipaddress
import math
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from facility.models import SignInFailure, SignInFailureKind, User

DEVICE_COOKIE = "haven_device"
DEVICE_SALT = "haven.device-cookie"
# A shared tablet remembers this many accounts; the oldest sign-in drops out first.
DEVICE_MAX_ACCOUNTS = 12


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


def key_user_id(key: str) -> int | None:
    """The account id of a `user:<pk>` key; None for an unknown login."""
    return int(key.removeprefix("user:")) if key.startswith("user:") else None


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


# Device cookies ----------------------------------------------------------------------------------


def _device_max_age() -> int:
    return settings.HAVEN_DEVICE_COOKIE_DAYS * 86400


def _fingerprint(user_id: int, password_hash: str) -> str:
    """Changes with the password: a reset or a new password revokes every browser's trust."""
    return salted_hmac(DEVICE_SALT, f"{user_id}:{password_hash}").hexdigest()[:16]


def _device_read(request) -> tuple[str, dict[str, list]]:
    """(device id, {account id: [signed-in at, fingerprint]}) from a valid cookie; ("", {})."""
    raw = request.COOKIES.get(DEVICE_COOKIE) if request is not None else None
    if not raw:
        return "", {}
    try:
        data = signing.loads(raw, salt=DEVICE_SALT, max_age=_device_max_age())
        device = str(data["d"])
        accounts = {str(k): [int(v[0]), str(v[1])] for k, v in dict(data["a"]).items()}
    except (signing.BadSignature, KeyError, TypeError, ValueError, AttributeError, IndexError):
        return "", {}
    oldest = time.time() - _device_max_age()
    return device, {k: v for k, v in accounts.items() if v[0] > oldest}


def device_for(request, key: str) -> str:
    """The id of this browser if it trusts the account of `key` (a past sign-in with the
    account's current password, and the account still active); else ""."""
    user_id = key_user_id(key)
    device, accounts = _device_read(request)
    entry = accounts.get(str(user_id)) if user_id is not None else None
    if entry is None:
        return ""
    password = (
        User.objects.filter(pk=user_id, is_active=True).values_list("password", flat=True).first()
    )
    return device if password and entry[1] == _fingerprint(user_id, password) else ""


def device_cookie_set(request, response, user) -> None:
    """Trust this browser for `user` from now on (called after a complete sign-in)."""
    device, accounts = _device_read(request)
    accounts[str(user.pk)] = [int(time.time()), _fingerprint(user.pk, user.password)]
    newest = sorted(accounts.items(), key=lambda item: item[1][0])[-DEVICE_MAX_ACCOUNTS:]
    value = signing.dumps(
        {"d": device or secrets.token_urlsafe(16), "a": dict(newest)}, salt=DEVICE_SALT
    )
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=_device_max_age(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


# Counting ----------------------------------------------------------------------------------------


def _window() -> timedelta:
    return timedelta(minutes=settings.HAVEN_SIGNIN_WINDOW_MINUTES)


def _recent(kind: str):
    return SignInFailure.objects.filter(kind=kind, at__gt=timezone.now() - _window())


def _unlocks_at(failures, limit: int) -> datetime | None:
    """When the lock lifts: the limit-th newest failure leaves the window. None if not locked."""
    nth = list(failures.order_by("-at").values_list("at", flat=True)[limit - 1 : limit])
    return nth[0] + _window() if nth else None


@dataclass(frozen=True)
class Lock:
    minutes: int
    reason: str  # for the audit trail: which counter is full

    def __bool__(self) -> bool:
        return self.minutes > 0


UNLOCKED = Lock(0, "")


def _first_lock(checks) -> Lock:
    """The longest of the full counters among `checks` [(failures, limit, reason)]."""
    now = timezone.now()
    found = [(at, reason) for qs, n, reason in checks if (at := _unlocks_at(qs, n)) is not None]
    if not found:
        return UNLOCKED
    at, reason = max(found)
    return Lock(max(1, math.ceil((at - now).total_seconds() / 60)), reason)


def signin_lock(*, key: str, ip: str | None, device: str = "") -> Lock:
    """Whether an attempt at the account of `key` is refused, from this address and browser."""
    recent = _recent(SignInFailureKind.SIGN_IN)
    limit = settings.HAVEN_SIGNIN_ACCOUNT_LIMIT
    if device:
        # A browser that trusts the account: its own counter, nothing else applies.
        return _first_lock(
            [(recent.filter(username_key=key, device=device), limit, "account on this device")]
        )
    untrusted = recent.filter(device="")
    ip = address(ip)
    checks = [
        (untrusted.filter(username_key=key, ip=ip), limit, "account from this address"),
        (
            untrusted.filter(username_key=key),
            settings.HAVEN_SIGNIN_UNTRUSTED_ACCOUNT_LIMIT,
            "account from all addresses",
        ),
    ]
    if ip is not None:
        checks.append((untrusted.filter(ip=ip), settings.HAVEN_SIGNIN_ADDRESS_LIMIT, "address"))
    return _first_lock(checks)


def cosign_lock(*, actor_key: str, key: str) -> Lock:
    """Whether the signed-in person (`actor_key`) may try the co-signer of `key` now."""
    everyone = _recent(SignInFailureKind.COSIGN)
    recent = everyone.filter(actor_key=actor_key)
    return _first_lock(
        [
            (recent.filter(username_key=key), settings.HAVEN_SIGNIN_ACCOUNT_LIMIT, "pair"),
            (recent, settings.HAVEN_COSIGN_ACTOR_LIMIT, "signed-in person"),
            # Several colleagues guessing one person's password: co-signing (never their
            # sign-in) stops for that person once the untrusted-account ceiling is reached.
            (
                everyone.filter(username_key=key),
                settings.HAVEN_SIGNIN_UNTRUSTED_ACCOUNT_LIMIT,
                "second person, from everyone",
            ),
        ]
    )


def locked_message(minutes: int) -> str:
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-in attempts. Try again in {minutes} {unit}."


def failure_record(
    *, kind: str, key: str, ip: str | None, device: str = "", actor_key: str = ""
) -> None:
    """Count one failure, and forget the ones that no longer count."""
    now = timezone.now()
    SignInFailure.objects.filter(at__lte=now - _window()).delete()
    SignInFailure.objects.create(
        kind=kind, username_key=key, ip=address(ip), device=device, actor_key=actor_key, at=now
    )
