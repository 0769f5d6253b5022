"""Sign-in events go to the access log (privacy.md: login, logout, failed login are audited)."""

from allauth.account.signals import password_changed
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from facility.access import client_ip
from facility.models import AccessAction
from facility.services import access_log


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    access_log(action=AccessAction.LOGIN, actor=user, ip=client_ip(request) if request else None)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        access_log(
            action=AccessAction.LOGOUT, actor=user, ip=client_ip(request) if request else None
        )


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    if getattr(request, "_haven_cosign", False):
        return  # a second-person password: verify_cosigner audits it under the signed-in person
    attempted = (credentials or {}).get("username") or (credentials or {}).get("email") or ""
    access_log(
        action=AccessAction.LOGIN_FAILED,
        username=str(attempted),
        ip=client_ip(request) if request else None,
        outcome="failed",
    )


@receiver(password_changed, dispatch_uid="haven_password_changed")
def _password_changed(sender, request, user, **kwargs):
    access_log(
        action=AccessAction.PASSWORD_CHANGE,
        actor=user,
        what=f"{user.username} changed their own password",
        ip=client_ip(request) if request else None,
    )
