"""The access matrix's rows for issue 16's counseling URLs (test_access_matrix.py)."""

from tests.facility.test_access_matrix import Post, Url, count, field_of  # noqa: F401

URLS: dict[str, Url] = {}
