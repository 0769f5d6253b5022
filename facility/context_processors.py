"""What every page's layout needs: the current facility, the switcher, the idle timeout."""

from django.conf import settings

from facility.access import current_facility, my_facilities


def haven(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"idle_timeout_seconds": settings.HAVEN_IDLE_TIMEOUT_MINUTES * 60}
    return {
        "current_facility": current_facility(request),
        "my_facilities": my_facilities(request),
        "idle_timeout_seconds": settings.HAVEN_IDLE_TIMEOUT_MINUTES * 60,
        "idle_warning_seconds": settings.HAVEN_IDLE_WARNING_MINUTES * 60,
    }
