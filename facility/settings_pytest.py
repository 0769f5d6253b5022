"""The settings a bare `pytest` loads (pyproject.toml names this module): Haven's one settings file
with HAVEN_TESTING defaulting to on. `./run test` exports HAVEN_TESTING=1 itself.

A root conftest.py cannot do this: pytest-django reads the settings before any conftest is
imported. Test mode is decided by HAVEN_TESTING alone (facility/settings.py), so an explicit
HAVEN_TESTING=0 still gets production settings here.
"""

import os

os.environ.setdefault("HAVEN_TESTING", "1")

from facility.settings import *  # noqa: E402, F403
