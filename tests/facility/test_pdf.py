"""The printing core: every PDF carries the Part 2 notice exactly, numbered pages, audited."""

import io
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from facility.models import AccessEvent
from tests.conftest import admit

# privacy.md, word for word (compared after collapsing whitespace, case-sensitive).
STATEMENT_1 = (
    "This record which has been disclosed to you is protected by Federal confidentiality rules "
    "(42 CFR part 2). These rules prohibit you from using or disclosing this record, or testimony "
    "that describes the information contained in this record, in any civil, criminal, "
    "administrative, or legislative proceedings by any Federal, State, or local authority, "
    "against the patient, unless authorized by the consent of the patient, except as provided at "
    "42 CFR 2.12(c)(5) or as authorized by a court in accordance with 42 CFR 2.64 or 2.65. In "
    "addition, the Federal rules prohibit you from making any other use or disclosure of this "
    "record unless at least one of the following applies: (i) Further use or disclosure is "
    "expressly permitted by the written consent of the individual whose information is being "
    "disclosed in this record or as otherwise permitted by 42 CFR part 2. (ii) You are a covered "
    "entity or business associate and have received the record for treatment, payment, or health "
    "care operations, or (iii) You have received the record from a covered entity or business "
    "associate as permitted by 45 CFR part 164, subparts A and E. A general authorization for the "
    "release of medical or other information is NOT sufficient to meet the required elements of "
    "written consent to further use or redisclose the record (see 42 CFR 2.31)."
)
STATEMENT_2 = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.django_db
def test_census_pdf_carries_the_notice_page_numbers_and_is_audited(client, cast, facility):
    # Enough beds and clients for more than one page.
    from facility.models import Bed, Unit

    unit = Unit.objects.create(facility=facility, name="North")
    for n in range(60):
        Bed.objects.create(unit=unit, label=f"N{n:02d}")
    for n in range(40):
        admit(facility, cast["nurse"], n=n)
    client.force_login(cast["technician"])
    response = client.get(reverse("clients:census_pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    reader = PdfReader(io.BytesIO(response.content))
    pages = [collapse(p.extract_text()) for p in reader.pages]
    total = len(pages)
    assert total >= 2
    whole = " ".join(pages)
    assert whole.count(STATEMENT_1) == 1
    assert "prohibit you from making any further disclosure" not in whole
    for number, text in enumerate(pages, start=1):
        assert STATEMENT_2 in text, f"page {number} lacks statement 2"
        assert f"Page {number} of {total}" in text
        assert "Alder House" in text
    assert "Printed by Technician, BHT" in pages[0]
    assert "Test0 Person0" in whole
    event = AccessEvent.objects.get(action="print")
    assert event.user == cast["technician"] and event.what == "Census"


@pytest.mark.django_db
def test_admins_cannot_print_the_census(client, cast, admission):
    client.force_login(cast["admin"])
    assert client.get(reverse("clients:census_pdf")).status_code == 403
    assert not AccessEvent.objects.filter(action="print").exists()
