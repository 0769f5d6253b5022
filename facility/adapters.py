"""allauth hooks: staff accounts are created by admins (nobody signs themselves up), and failed
passwords and sign-in codes count towards Haven's database-backed lock-out (facility/throttle.py)
instead of allauth's cache-backed `login_failed` limit, which settings turn off."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.mfa.base.forms import AuthenticateForm
from django.core.exceptions import ValidationError
from django.db import transaction

from facility import throttle
from facility.access import client_ip
from facility.models import SignInFailureKind


def _locked_error(minutes: int) -> ValidationError:
    return ValidationError(throttle.locked_message(minutes), code="too_many_login_attempts")


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    def _throttle_key(self, credentials) -> str:
        return throttle.account_key(credentials.get("username") or credentials.get("email") or "")

    def authenticate(self, request, **credentials):
        # One attempt per account at a time, from the lock-out check to the failure record.
        with transaction.atomic():
            throttle.account_lock(self._throttle_key(credentials))
            return super().authenticate(request, **credentials)

    def pre_authenticate(self, request, **credentials) -> None:
        # Replaces allauth's cache-backed check: even the right password waits out a lock-out.
        minutes = throttle.locked_minutes(
            kind=SignInFailureKind.SIGN_IN,
            key=self._throttle_key(credentials),
            ip=client_ip(request),
        )
        if minutes:
            raise _locked_error(minutes)

    def authentication_failed(self, request, **credentials) -> None:
        throttle.failure_record(
            kind=SignInFailureKind.SIGN_IN,
            key=self._throttle_key(credentials),
            ip=client_ip(request),
        )


class MfaAuthenticateForm(AuthenticateForm):
    """The sign-in code step: a wrong code counts against the account like a wrong password."""

    def clean_code(self) -> str:
        key = throttle.user_key(self.user)
        ip = client_ip(context.request)
        with transaction.atomic():
            throttle.account_lock(key)
            minutes = throttle.locked_minutes(kind=SignInFailureKind.SIGN_IN, key=key, ip=ip)
            if minutes:
                raise _locked_error(minutes)
            try:
                return super().clean_code()
            except ValidationError as exc:
                throttle.failure_record(kind=SignInFailureKind.SIGN_IN, key=key, ip=ip)
                failed = exc
        # Raised outside the transaction, so the failure just recorded is kept.
        raise failed
