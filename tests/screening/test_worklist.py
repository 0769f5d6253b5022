""" "My work": screens to collect (issue 17 item 1), for the floor staff who collect them, each
row opening its collection page, for cause first; nothing of another facility; gone once
collected."""

import pytest
from django.urls import reverse

from screening.services.specimens import specimen_collect
from tests.conftest import admit
from tests.my_work_page import home, section
from tests.screening.specimen_helpers import collection, started


@pytest.mark.django_db
def test_screens_to_collect_open_their_collection_page_until_collected(
    client, cast, facility, admission, other_admission
):
    sky = admit(facility, cast["nurse"], first="Sky", last="Quill", n=2)
    on_admission = started(cast["technician"], admission)
    for_cause = started(
        cast["clinician"], sky, "for_cause", reason_detail="Found with a lighter and foil"
    )
    far = started(cast["other_technician"], other_admission)

    def collect(specimen) -> str:
        return reverse("screening:specimen_collect", args=[specimen.public_id])

    for role in ("technician", "nurse"):
        rows = section(home(client, cast[role]), "screens_to_collect")
        assert f'href="{collect(on_admission)}"' in rows and f'href="{collect(for_cause)}"' in rows
        assert rows.index(collect(for_cause)) < rows.index(collect(on_admission))
        assert collect(far) not in rows and "Birchfield" not in rows
        assert "For cause" in rows and "lighter" not in rows  # the reason, not its detail
    assert client.get(collect(on_admission)).status_code == 200  # as the nurse, who collects too
    for role in ("clinician", "supervisor", "admin"):
        assert section(home(client, cast[role]), "screens_to_collect") == ""

    specimen_collect(actor=cast["technician"], specimen=for_cause, collection=collection())
    rows = section(home(client, cast["technician"]), "screens_to_collect")
    assert collect(for_cause) not in rows and collect(on_admission) in rows
