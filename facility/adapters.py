"""allauth hooks: staff accounts and their addresses are managed by admins (nobody signs up or
adds an address), set-password links go only to the account's own address, and failed
passwords and codes count towards Haven's database-backed lock-out (facility/throttle.py)
instead of allauth's cache-backed limits, which settings turn off.

Every step that checks a secret of a known account (sign-in password, sign-in code,
re-authentication password or code, current password at password change) is charged to the
same counters; a complete sign-in marks the browser as trusted for the account (device cookie).
"""

import logging
from urllib.parse import urlencode

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.forms import ChangePasswordForm as AllauthChangePasswordForm
from allauth.core import context
from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from facility import throttle
from facility.access import client_ip
from facility.models import AccessAction, AlertSeverity, SignInFailureKind, User

logger = logging.getLogger(__name__)


def _locked_error(lock: throttle.Lock) -> ValidationError:
    return ValidationError(throttle.locked_message(lock.minutes), code="too_many_login_attempts")


def _audit(request, *, login: str, what: str, outcome: str) -> None:
    from facility.services import access_log

    access_log(
        action=AccessAction.LOGIN_FAILED,
        username=login,
        what=what,
        ip=client_ip(request) if request is not None else None,
        outcome=outcome,
    )


def _refused(request, *, login: str, step: str, lock: throttle.Lock) -> ValidationError:
    """Audit an attempt refused by a lock-out; the error to show."""
    _audit(
        request, login=login, what=f"{step} refused: locked out ({lock.reason})", outcome="locked"
    )
    return _locked_error(lock)


def _failed(request, *, key: str, device: str) -> None:
    """Count one failure at the account of `key`; tell supervisors when it locks the account."""
    ip = client_ip(request) if request is not None else None
    throttle.failure_record(kind=SignInFailureKind.SIGN_IN, key=key, ip=ip, device=device)
    lock = throttle.signin_lock(key=key, ip=ip, device=device)
    user_id = throttle.key_user_id(key)
    if not lock or user_id is None or lock.reason == "address":
        return
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    from facility.services import alert_raise

    where = f" from {throttle.address(ip)}" if ip and "address" in lock.reason else ""
    failed_logins = {"user": user.username, "action": AccessAction.LOGIN_FAILED}
    for facility in user.facilities.all():
        alert_raise(
            facility=facility,
            kind="signin_lockout",
            severity=AlertSeverity.WARNING,
            message=(
                f"Sign-in locked for {user.username} ({lock.reason}){where} after repeated "
                "failed passwords or codes. If it was not them, check with them and consider "
                "resetting their password."
            ),
            dedupe_key=f"signin-lockout:{facility.pk}:{user.pk}",
            # The failed sign-ins, in the audit trail (issue 17).
            link=f"{reverse('audit_trail')}?{urlencode(failed_logins)}",
            once=False,
            # A security event about a colleague: the supervisor's, not the floor's (issue 17
            # review); the admin sees the locked account on "My work".
            audience="supervisor",
        )


def _guarded(user, check, *, step: str):
    """Run `check()` (raises ValidationError when the secret is wrong) under the account's
    lock-out: refused while locked, a wrong secret counted and audited."""
    request = context.request
    key = throttle.user_key(user)
    ip = client_ip(request)
    device = throttle.device_for(request, key)
    with transaction.atomic():
        throttle.account_lock(key)
        lock = throttle.signin_lock(key=key, ip=ip, device=device)
        if lock:
            failed = _refused(request, login=user.username, step=step, lock=lock)
        else:
            try:
                return check()
            except ValidationError as exc:
                _failed(request, key=key, device=device)
                _audit(request, login=user.username, what=f"{step}: wrong", outcome="failed")
                failed = exc
    # Raised outside the transaction, so what was just recorded is kept.
    raise failed


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    def _throttle_key(self, credentials) -> str:
        return throttle.account_key(credentials.get("username") or credentials.get("email") or "")

    def authenticate(self, request, **credentials):
        # One attempt per account at a time, from the lock-out check to the failure record.
        key = self._throttle_key(credentials)
        with transaction.atomic():
            throttle.account_lock(key)
            lock = throttle.signin_lock(
                key=key, ip=client_ip(request), device=throttle.device_for(request, key)
            )
            if not lock:
                return super().authenticate(request, **credentials)
            # Even the right password waits out a lock-out.
            login = credentials.get("username") or credentials.get("email") or ""
            failed = _refused(request, login=str(login), step="password", lock=lock)
        # Raised outside the transaction, so the audit row is kept.
        raise failed

    def pre_authenticate(self, request, **credentials) -> None:
        # allauth's cache-backed check is replaced by the one in `authenticate`.
        return None

    def authentication_failed(self, request, **credentials) -> None:
        # Django's user_login_failed signal audits it (facility/audit_signals.py).
        key = self._throttle_key(credentials)
        _failed(request, key=key, device=throttle.device_for(request, key))

    def post_login(self, request, user, **kwargs):
        response = super().post_login(request, user, **kwargs)
        if response is not None:
            throttle.device_cookie_set(request, response, user)
        return response

    def send_password_reset_mail(self, user, email, context) -> None:
        """Set-password links go to the address an admin entered on the account, never to
        another EmailAddress row that happens to name the account."""
        if (email or "").strip().lower() != (user.email or "").strip().lower() or not email:
            logger.warning("password reset for user %s refused: not the account's address", user.pk)
            return
        if not getattr(context.get("request"), "haven_invitation", False):
            super().send_password_reset_mail(user, email, context)
            return
        # A new account (staff pages): its own subject and text, not "Password Reset".
        where = ", ".join(user.facilities.order_by("name").values_list("name", flat=True))
        ctx = {
            **context,
            "email": email,
            "facility_names": where or "your facility",
            "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
            "needs_mfa": user.role in settings.HAVEN_MFA_REQUIRED_ROLES,
        }
        prefix = "account/email/staff_invitation"
        message = self.render_mail(prefix, email, ctx)
        # Without allauth's "[site] " prefix: the subject names Haven and the facility already.
        message.subject = " ".join(render_to_string(f"{prefix}_subject.txt", ctx).split())
        message.send()


class MfaAuthenticateForm(AuthenticateForm):
    """The sign-in code step: a wrong code counts against the account like a wrong password."""

    def clean_code(self) -> str:
        return _guarded(self.user, super().clean_code, step="sign-in code")


class MfaReauthenticateForm(ReauthenticateForm):
    """Confirming with a code (sensitive pages) counts like the sign-in code step."""

    def clean_code(self) -> str:
        return _guarded(self.user, super().clean_code, step="re-authentication code")


class ChangePasswordForm(AllauthChangePasswordForm):
    """The current password at password change counts like a sign-in password."""

    def clean_oldpassword(self) -> str:
        return _guarded(self.user, super().clean_oldpassword, step="current password")
