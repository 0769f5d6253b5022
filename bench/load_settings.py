"""Production settings for the load test's gunicorn (bench/load_run.py), with one change:
collectstatic writes to a directory of the run's own (HAVEN_LOAD_STATIC_ROOT) instead of the
tree's staticfiles/, which WhiteNoise would otherwise serve ahead of the sources to any
development server running from the same tree.

Everything else (DEBUG off, manifest static storage, CONN_MAX_AGE, sessions, middleware) is
facility/settings.py as read from the environment load_run.py sets.
"""

import os
from pathlib import Path

from facility.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ["HAVEN_LOAD_STATIC_ROOT"])
