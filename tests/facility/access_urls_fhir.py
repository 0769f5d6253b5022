"""The access matrix's rows for issue 16's FHIR export (test_access_matrix.py): clinicians and
supervisors of the client's facility; a valid POST downloads the bundle (200) and logs one
disclosure at the client's request."""

from tests.facility.test_access_matrix import Post, Url, count, field_of  # noqa: F401

CATEGORIES = ["demographics", "medications", "vitals", "observation"]

URLS: dict[str, Url] = {
    "clients:fhir_export": Url(
        lambda w: [w.admission.client.public_id],
        True,
        200,
        Post(
            lambda w: {"basis": "client_request", "categories": CATEGORIES},
            count("clients.Disclosure", legal_basis="client_request", method="api"),
            ok=200,
        ),
    ),
}
