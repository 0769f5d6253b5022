"""The access matrix's rows for issue 17's client search (test_access_matrix.py).

The search is a "my facility" page for the census roles: the other facility's staff get their
own facility's search (200), which never lists home's clients (tests/clients/test_search.py).
"""

from tests.facility.test_access_matrix import Url

URLS: dict[str, Url] = {
    "clients:search": Url(),
}
