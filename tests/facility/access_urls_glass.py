"""The access matrix's rows for issue 16's glass URLs (test_access_matrix.py).

Break-the-glass is open to every role (DESIGN.md §3). The open form names a client of the
other facility: at home everyone is outside its scope, so each POST opens an access; the other
facility's staff already see that client, so theirs opens nothing ("you already have access").
The access signed off is held by someone of the other facility who is none of the people walked,
so no walker gains a grant.
"""

from tests.facility.test_access_matrix import Post, Url, count, field_of  # noqa: F401


def an_other_client(w):
    """A client of the other facility (Birch House)."""
    from clients.models import Client
    from tests.conftest import admit

    found = Client.objects.filter(facility=w.other_facility).order_by("id").first()
    return found or admit(w.other_facility, w.cast["other_nurse"], n=7).client


def open_body(w) -> dict:
    return {
        "mrn": an_other_client(w).mrn,
        "facility": "",
        "reason": "Client arrived at our door in crisis, need allergies.",
    }


def a_glass_access(w):
    """An emergency access to home's client, held by a nurse of the other facility."""
    from facility.glass import glass_open
    from facility.models import User
    from tests.conftest import make_user

    holder = User.objects.filter(username="glass_holder").first() or make_user(
        "glass_holder", "nurse", w.other_facility, mfa=False
    )
    access, _ = glass_open(
        actor=holder,
        mrn=w.admission.client.mrn,
        reason="Transferred overnight, need the MAR history.",
    )
    return access


URLS: dict[str, Url] = {
    "glass_mine": Url(),
    # What the home staff open (an admin of the other facility cannot see its own clients'
    # charts either, so the other facility's admin opens one too: not counted here).
    "glass_open": Url(
        post=Post(
            open_body,
            count("facility.BreakGlassAccess", user__facilities__name="Alder House"),
            other=302,
        )
    ),
    "glass_review": Url(),
    "glass_sign_off": Url(
        lambda w: [a_glass_access(w).public_id],
        True,
        None,
        Post(
            lambda w: {"note": "Called the holder: a real emergency."},
            count("facility.BreakGlassAccess", reviewed_at__isnull=False),
        ),
    ),
}
