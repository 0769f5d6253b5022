"""The access matrix's rows for issue 16's counseling URLs (test_access_matrix.py).

The notes and the grant walked here are a counselor's, a clinician who is none of the people
walked: a note or a grant exists only for its author (and the note for the author's grantees,
none here), so everyone else at home with the capability gets 404 for them, as for a record that
does not exist. Writing a note and granting are for clinicians ("counseling_note.write").
"""

from datetime import timedelta

from django.utils import timezone

from tests.facility.test_access_matrix import Post, Url, count, field_of  # noqa: F401
from tests.facility.world import World, now_field


def a_counselor(w: World):
    from facility.models import User
    from tests.conftest import make_user

    found = User.objects.filter(username="counselor").first()
    return found or make_user("counselor", "clinician", w.facility, mfa=False)


def a_counseling_note(w: World):
    """A counselor's signed counseling note of the home client (made once per test)."""
    from observations.counseling import counseling_note_record
    from observations.models import CounselingNote

    author = a_counselor(w)
    found = CounselingNote.objects.filter(admission=w.admission, author=author).first()
    return found or counseling_note_record(
        actor=author,
        admission=w.admission,
        occurred_at=timezone.now() - timedelta(minutes=10),
        body="Session on triggers at weekends.",
    )


def a_counseling_grant(w: World):
    """The counselor's grant to the witness (not walked) for the home client."""
    from observations.counseling import counseling_grant
    from observations.models import CounselingNoteGrant

    author = a_counselor(w)
    client = w.admission.client
    found = CounselingNoteGrant.objects.filter(
        client=client, author=author, revoked_at__isnull=True
    ).first()
    return found or counseling_grant(actor=author, client=client, grantee=w.cast["witness"])


def _client(w: World) -> list:
    return [w.admission.client.public_id]


URLS: dict[str, Url] = {
    # Everyone who sees the census opens the list: it shows only the notes they may read.
    "observations:counseling_notes": Url(_client, True),
    "observations:counseling_grant": Url(
        _client,
        True,
        None,
        Post(
            lambda w: {"grantee": str(w.cast["nurse"].public_id)},
            count("observations.CounselingNoteGrant"),
        ),
    ),
    "observations:counseling_note_new": Url(
        lambda w: [w.admission.public_id],
        True,
        200,
        Post(
            lambda w: {"occurred_at": now_field(w), "body": "Session on cravings, 45 min."},
            count("observations.CounselingNote"),
        ),
    ),
    "observations:counseling_note": Url(lambda w: [a_counseling_note(w).public_id], True, 404),
    "observations:counseling_note_addendum": Url(
        lambda w: [a_counseling_note(w).public_id],
        True,
        None,
        Post(lambda w: {"text": "Not the author's."}, None, ok=404),
    ),
    "observations:counseling_note_strike": Url(
        lambda w: [a_counseling_note(w).public_id],
        True,
        None,
        Post(lambda w: {"reason": "Not the author's."}, None, ok=404),
    ),
    "observations:counseling_grant_revoke": Url(
        lambda w: [a_counseling_grant(w).public_id],
        True,
        None,
        Post(lambda w: {}, None, ok=404),
    ),
}
