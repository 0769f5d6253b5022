"""Set-password links for staff accounts, and what using one proves (issue 7).

allauth's own reset-token generator creates an *unverified* EmailAddress row for any account
without one whenever a token is made, which any anonymous reset request does; allauth then
refuses to let that person enrol a TOTP authenticator until the address is verified. Staff
addresses are entered by admins and proven by the person using the link sent to them, so Haven's
generator never writes, and using a link marks the address verified.
"""

from allauth.account import signals
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.dispatch import receiver


class StaffPasswordResetTokenGenerator(PasswordResetTokenGenerator):
    """Django's token, also bound to the account's e-mail address; reads only, never writes."""

    def _make_hash_value(self, user, timestamp) -> str:
        return f"{super()._make_hash_value(user, timestamp)}|{(user.email or '').lower()}"


@receiver(signals.password_reset, dispatch_uid="haven_staff_email_proven")
def _set_password_link_used(sender, request, user, **kwargs) -> None:
    from facility.access import client_ip
    from facility.services import staff_email_proven

    staff_email_proven(user=user, ip=client_ip(request) if request is not None else None)
