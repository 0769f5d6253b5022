"""The facility's calendar for tests. Haven judges "today" on the facility's clock, never on the
server's UTC date: between midnight UTC and midnight at the facility the two differ, and a test
that dates a record with `timezone.localdate()` then fails only at those hours."""

from datetime import date

from django.utils import timezone


def local_today(facility) -> date:
    return timezone.localtime(timezone.now(), facility.tz).date()
