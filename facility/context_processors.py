"""What every page's layout needs: the current facility, the switcher, the idle timeout."""

from django.conf import settings

from facility.access import current_facility, my_facilities
from facility.glass import banner_accesses


def haven(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"idle_timeout_seconds": settings.HAVEN_IDLE_TIMEOUT_MINUTES * 60}
    return {
        "current_facility": current_facility(request),
        "my_facilities": my_facilities(request),
        "idle_timeout_seconds": settings.HAVEN_IDLE_TIMEOUT_MINUTES * 60,
        "idle_warning_seconds": settings.HAVEN_IDLE_WARNING_MINUTES * 60,
        # Break-the-glass banner: read only when a page draws it, and without a query unless
        # the user opened an access lately (facility/glass.py).
        "glass_accesses": lambda: banner_accesses(request),
    }
