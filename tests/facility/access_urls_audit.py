"""The access matrix's rows for issue 16's audit URLs (test_access_matrix.py).

The trail and its export are "my facility" pages (the other facility's staff get their own
trail, 200). The trail is for everyone holding "audit.view" (nurses too, DESIGN.md's matrix);
the export needs "audit.export", a supervisor's (facility.review_access): the matrix reads the
allowed roles from the view's capability, so a nurse's export is its 403 row. Who looked at a
client names home's client, so the other facility gets 404.
"""

from tests.facility.test_access_matrix import Post, Url, count, field_of  # noqa: F401

URLS: dict[str, Url] = {
    "audit_export": Url(),
    "audit_client_access": Url(lambda w: [w.admission.client.public_id], scoped=True),
}
