"""Session and response safeguards that apply to every page (privacy.md, HIPAA 164.312)."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from facility import policy

LAST_SEEN_KEY = "haven_last_seen"
MFA_OK_KEY = "haven_mfa_ok"
# Requests that poll in the background (alert badges, boards) do not count as activity: a
# tablet left on the census must still log out when nobody touches it.
POLL_HEADER = "HTTP_X_HAVEN_POLL"


class IdleTimeoutMiddleware:
    """End a session after HAVEN_IDLE_TIMEOUT_MINUTES without a request from a person."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            last = request.session.get(LAST_SEEN_KEY)
            limit = settings.HAVEN_IDLE_TIMEOUT_MINUTES * 60
            if last is not None and now - last > limit:
                logout(request)
                messages.info(request, "You were signed out after a period of inactivity.")
                if request.headers.get("HX-Request"):
                    response = self.get_response(request)
                    response.status_code = 204
                    response["HX-Redirect"] = reverse("account_login")
                    return response
                return redirect(f"{reverse('account_login')}?next={request.path}")
            # Saving the session costs a write per request; a minute's precision is plenty for
            # a 15-minute limit.
            if not request.META.get(POLL_HEADER) and (last is None or now - last >= 60):
                request.session[LAST_SEEN_KEY] = now
        response = self.get_response(request)
        # A page's background request after the session ended elsewhere (signed out in another
        # tab, the session store flushed, the account deactivated) is sent to sign in: htmx
        # would follow the redirect and swap the sign-in page into the list (issue 17 review).
        login = reverse("account_login")
        if (
            request.headers.get("HX-Request")
            and response.status_code == 302
            and response.get("Location", "").startswith(login)
        ):
            redirected = HttpResponse(status=204)
            redirected["HX-Redirect"] = response["Location"]
            return redirected
        return response


class RequireMfaMiddleware:
    """Send supervisors and admins without TOTP to enrolment before anything else."""

    allowed_prefixes = ("/accounts/", "/static/", "/media/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and policy.mfa_required(user)
            and not request.session.get(MFA_OK_KEY)
            and not request.path.startswith(self.allowed_prefixes)
        ):
            from allauth.mfa.models import Authenticator

            if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
                request.session[MFA_OK_KEY] = True
            else:
                messages.warning(
                    request,
                    "Your role requires two-factor authentication. Set up an authenticator app "
                    "to continue.",
                )
                return redirect("mfa_activate_totp")
        return self.get_response(request)


class NoStoreMiddleware:
    """Pages for signed-in staff carry PHI: tell every cache and the browser not to keep them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(settings.STATIC_URL):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response


class FacilityTimezoneMiddleware:
    """Show and parse times in the time zone of the facility the user is working in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils import timezone

        from facility.access import current_facility

        facility = current_facility(request) if request.user.is_authenticated else None
        if facility is not None:
            timezone.activate(facility.tz)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
