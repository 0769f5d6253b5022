"""What the fleet and trip views share."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError

from facility.forms import add_service_errors


def service_done(request, form, message: str, call, *args, **kwargs) -> bool:
    """Run a service call for a valid form: True once done, `message` shown as a success;
    False with the service's refusal (ValidationError, PermissionDenied) on the form."""
    try:
        call(*args, **kwargs)
    except (ValidationError, PermissionDenied) as exc:
        add_service_errors(form, exc)
        return False
    messages.success(request, message)
    return True
