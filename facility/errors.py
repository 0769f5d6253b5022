"""The page a user gets when a request fails because PostgreSQL is not answering.

While the database restarts or fails over, every request fails for a few seconds. Django's own
answer is its bare "Server Error (500)" page, which tells staff nothing. Haven answers 503 with
Retry-After instead, says that the last action may not have been saved and what to do, and
renders without touching the database (no base.html: its header needs the signed-in user, whose
session is in PostgreSQL). Any other error keeps Django's 500 page. issue 17, item 4.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.views import defaults

# Connection refused or lost, "the database system is starting up / shutting down", a statement
# cancelled: transient, so "try again" is the right advice. Integrity and data errors are bugs.
UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 10


def server_error(request):
    """settings.ROOT_URLCONF's handler500: 503 for an unreachable database, else Django's 500."""
    if isinstance(sys.exc_info()[1], UNAVAILABLE):
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return defaults.server_error(request)
