"""The shift report pages (issue 15 items 2-3): who sees them, what they show and in which order,
the picker's hostile input, the PDF, the handoff buttons and the frozen report."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from pypdf import PdfReader

from facility.models import AccessEvent, Bed, Handoff, Unit
from facility.registry import ReportItem, ReportSection, registry
from facility.shift_report import build_shift_report
from tests.conftest import admit

NY = ZoneInfo("America/New_York")
# Tuesday 12 May 2026, 10:00 in Alder House: the day shift (07–15) is in progress.
MORNING = datetime(2026, 5, 12, 10, 0, tzinfo=NY)


@pytest.fixture
def morning():
    with time_machine.travel(MORNING, tick=False):
        yield MORNING


@pytest.fixture
def flagged():
    """A report section of this test's own: one urgent line (09:15 local) about the stays whose
    client is named Flagged, so the order and the grouping are known whatever else is
    registered."""
    section = ReportSection(
        key="test_flagged",
        title="Flagged for the test",
        clients=lambda scope: {
            a: [
                ReportItem(
                    text="Asked to call her sister",
                    tag="Request",
                    concern=3,
                    at=datetime(2026, 5, 12, 9, 15, tzinfo=NY),
                    href="/alerts/",
                )
            ]
            for a in flagged_ids(scope)
        },  # fmt: skip
        order=1,
    )
    saved = list(registry.report_sections)
    registry.register_report_section(section)
    yield section
    registry.report_sections = saved


def flagged_ids(scope) -> list[int]:
    from clients.models import Admission

    return list(
        Admission.objects.filter(
            pk__in=scope.admission_ids, client__legal_last_name="Flagged"
        ).values_list("pk", flat=True)
    )


def text(response) -> str:
    return response.content.decode()


def report(client, **query):
    return client.get(reverse("shift_report"), query)


# ---------------------------------------------------------------- who


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, status",
    [("technician", 200), ("nurse", 200), ("supervisor", 200), ("clinician", 403), ("admin", 403)],
)
def test_the_floor_reads_the_report_and_the_others_are_refused(client, cast, morning, role, status):
    client.force_login(cast[role])
    assert report(client).status_code == status


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in(client, facility):
    for name in ("shift_report", "shift_report_pdf"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_another_facilitys_unit_is_not_found(client, cast, other_facility, morning):
    client.force_login(cast["nurse"])
    theirs = Unit.objects.filter(facility=other_facility).first()
    assert report(client, unit=str(theirs.public_id)).status_code == 404
    assert client.get(reverse("shift_report_pdf"), {"unit": theirs.public_id}).status_code == 404


@pytest.mark.django_db
def test_clients_of_another_facility_never_appear(client, cast, facility, other_facility, morning):
    admit(facility, cast["nurse"], first="Home", last="Resident")
    admit(other_facility, cast["other_nurse"], first="Elsewhere", last="Stranger")
    client.force_login(cast["nurse"])
    body = text(report(client))
    assert "Resident" in body and "Stranger" not in body


# ---------------------------------------------------------------- what, in which order


@pytest.mark.django_db
def test_clients_are_shown_as_the_report_orders_them_with_lines_grouped(
    client, cast, facility, morning, flagged
):
    stays = [admit(facility, cast["nurse"], n=i) for i in range(3)]
    flagged_stay = admit(facility, cast["nurse"], first="Wren", last="Flagged")
    client.force_login(cast["technician"])
    response = report(client)
    assert response.status_code == 200
    body = text(response)
    built = build_shift_report(facility, day=MORNING.date(), shift_key="day", now=MORNING)
    # The urgent client is first; every client is on the page once, in the report's order.
    assert built.expanded[0].client.admission_id == flagged_stay.pk
    names = [escape(b.client.name) for b in built.expanded] + [
        escape(b.client.name) for b in built.quiet
    ]
    positions = [body.index(f">{n}</a>") for n in names]
    assert positions == sorted(positions)
    assert len(names) == len(stays) + 1
    # The line: its section's title, tag, local time and link.
    card = body[body.index("Wren") :]
    card = card[: card.index("</article>")]
    assert "<h4>Flagged for the test</h4>" in card
    assert (
        '<time class="report-time">09:15</time><a class="report-body" href="/alerts/">'
        '<span class="report-tag">Request</span> Asked to call her sister</a>'
    ) in card
    assert "Day 07–15, Tue 12 May 2026" in body
    assert "in progress: so far" in body


@pytest.mark.django_db
def test_a_past_shift_is_opened_from_the_picker(client, cast, facility, morning):
    client.force_login(cast["nurse"])
    east = Unit.objects.get(facility=facility, name="East")
    response = report(client, day="2026-05-11", shift="night", unit=str(east.public_id))
    assert response.status_code == 200
    body = text(response)
    assert "East · Night 23–07, Mon 11 May 2026" in body
    assert "Mon 11 May 23:00 – Tue 12 May 07:00" in body
    assert "so far" not in body
    assert "Next shift" in body and "Previous shift" in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, message",
    [
        ({"day": "9999-12-31"}, "Day: enter a date between"),
        ({"day": "1900-01-01"}, "Day: enter a date between"),
        ({"day": "2026-13-45"}, "Day: enter a date (YYYY-MM-DD)."),
        ({"day": "2026-05-11\x00"}, "Day: enter a date (YYYY-MM-DD)."),
        ({"day": "x" * 100_011}, "Day: enter a date (YYYY-MM-DD)."),
        ({"shift": "brunch"}, "Shift: choose one of this facility&#x27;s shifts."),
        ({"shift": "day\u202e"}, "Shift: choose one of this facility&#x27;s shifts."),
        ({"shift": "evening"}, "Shift: that shift has not started yet."),
        ({"unit": "abc"}, "Unit: choose one of this facility&#x27;s units."),
        ({"unit": "abc\x00"}, "Unit: remove the control characters"),
        ({"unit": "x" * 37}, "Unit: at most 36 characters"),
    ],
)
def test_hostile_picker_input_gets_a_field_message(client, cast, morning, query, message):
    client.force_login(cast["nurse"])
    for name in ("shift_report", "shift_report_pdf"):
        response = client.get(reverse(name), query)
        assert response.status_code == 400, (name, response.status_code)
        assert message in text(response)


@pytest.mark.django_db
def test_the_page_makes_as_many_queries_for_twenty_clients_as_for_five(client, cast, facility):
    east = Unit.objects.get(facility=facility, name="East")
    Bed.objects.bulk_create(Bed(unit=east, label=f"X{n:02d}") for n in range(12))
    client.force_login(cast["nurse"])

    def queries() -> int:
        with time_machine.travel(MORNING, tick=False), CaptureQueriesContext(connection) as seen:
            assert report(client).status_code == 200
        return len(seen)

    with time_machine.travel(MORNING - timedelta(hours=2), tick=False):
        for i in range(5):
            admit(facility, cast["nurse"], n=i)
    queries()  # warm: content types and other per-process caches
    five = queries()
    with time_machine.travel(MORNING - timedelta(hours=2), tick=False):
        for i in range(5, 20):
            admit(facility, cast["nurse"], n=i)
    assert queries() == five


# ---------------------------------------------------------------- the PDF


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.django_db
def test_the_pdf_has_the_part2_notice_the_clients_and_is_audited(client, cast, facility, morning):
    admit(facility, cast["nurse"], first="Ansel", last="Printwell")
    client.force_login(cast["nurse"])
    response = client.get(reverse("shift_report_pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    body = pdf_text(response.content)
    assert "Shift report" in body and "Printwell" in body
    assert "42 CFR part 2 prohibits unauthorized use or disclosure" in body
    assert "Day 07–15, Tue 12 May 2026" in body
    event = AccessEvent.objects.filter(action="print").latest("id")
    assert (event.user, event.what) == (cast["nurse"], "Shift report")
    client.force_login(cast["technician"])
    assert client.get(reverse("shift_report_pdf")).status_code == 403


# ---------------------------------------------------------------- the handoff


def handoff_body(facility, unit=None, day="2026-05-12", shift="day") -> dict:
    return {"unit": str(unit.public_id) if unit else "", "day": day, "shift": shift}


# The day shift's last hour: its report may be marked given from 14:00 (facility/handoff.py).
LAST_HOUR = datetime(2026, 5, 12, 14, 30, tzinfo=NY)


@pytest.mark.django_db
def test_the_report_is_not_handed_over_before_the_last_hour_of_its_shift(
    client, cast, facility, morning
):
    """Decision (issue 15 review, 5): at 10:00 the day shift's page offers no button and says
    when it opens; a post anyway is a field message and makes no handoff."""
    client.force_login(cast["nurse"])
    page = text(report(client))
    assert ">Report given</button>" not in page
    assert "can be marked given from Tue 12 May 14:00" in page
    refused = client.post(reverse("handoff_give"), handoff_body(facility), follow=True)
    assert "can be handed over from 14:00, 60 minutes before it ends" in text(refused)
    assert not Handoff.objects.filter(given_at__isnull=False).exists()


@pytest.mark.django_db
def test_given_received_frozen_and_verified_through_the_pages(client, cast, facility, morning):
    admit(facility, cast["nurse"], first="Juno", last="Handed")
    east = Unit.objects.get(facility=facility, name="East")
    body = handoff_body(facility, east)
    client.force_login(cast["nurse"])
    with time_machine.travel(LAST_HOUR, tick=False):
        _given_received_frozen(client, cast, east, body)


def _given_received_frozen(client, cast, east, body):
    page = text(report(client, unit=str(east.public_id)))
    assert "Not given" in page and ">Report given</button>" in page
    given = client.post(reverse("handoff_give"), body, follow=True)
    assert "Report marked given at 14:30." in text(given)
    # A double tap: refused with a clear message, one row.
    again = client.post(reverse("handoff_give"), body, follow=True)
    assert "Report already marked given by Nurse, RN at 14:30." in text(again)
    # The giver is not offered "received", and is refused if they post it.
    assert ">Report received</button>" not in text(again)
    mine = client.post(reverse("handoff_receive"), body, follow=True)
    assert "you gave this report; the oncoming staff member receives it." in text(mine)

    client.force_login(cast["technician"])
    received = client.post(reverse("handoff_receive"), body, follow=True)
    handoff = Handoff.objects.get()
    assert handoff.received_by == cast["technician"] and handoff.sha256
    assert f"SHA-256 {handoff.sha256[:12]}" in text(received)
    twice = client.post(reverse("handoff_receive"), body, follow=True)
    assert "Report already received by Technician, BHT at 14:30." in text(twice)

    detail = client.get(reverse("handoff_detail", args=[handoff.public_id]))
    assert handoff.sha256 in text(detail) and "Verified:" in text(detail)
    stored = client.get(reverse("handoff_pdf", args=[handoff.public_id]))
    assert stored.status_code == 200 and stored.content == bytes(handoff.pdf)
    assert "Handed" in pdf_text(stored.content)
    assert AccessEvent.objects.filter(
        action="print", user=cast["technician"], what__startswith="Shift report as handed over"
    ).exists()
    # The other facility's staff do not find it; clinicians may not read it.
    client.force_login(cast["other_nurse"])
    assert client.get(reverse("handoff_detail", args=[handoff.public_id])).status_code == 404
    assert client.get(reverse("handoff_pdf", args=[handoff.public_id])).status_code == 404
    client.force_login(cast["clinician"])
    assert client.get(reverse("handoff_pdf", args=[handoff.public_id])).status_code == 403


@pytest.mark.django_db
def test_a_tampered_pdf_is_shown_as_not_verified(client, cast, facility, morning):
    with time_machine.travel(LAST_HOUR, tick=False):
        client.force_login(cast["nurse"])
        client.post(reverse("handoff_give"), handoff_body(facility))
        client.force_login(cast["supervisor"])
        client.post(reverse("handoff_receive"), handoff_body(facility))
    handoff = Handoff.objects.get()
    # The trigger refuses any change: lift it for this one transaction, as an intruder with the
    # table owner's rights would, and the page tells the reader.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks before ALTER
        cursor.execute("ALTER TABLE facility_handoff DISABLE TRIGGER facility_handoff_frozen")
        cursor.execute(
            "UPDATE facility_handoff SET pdf = %s WHERE id = %s", [b"%PDF-forged", handoff.pk]
        )
        cursor.execute("ALTER TABLE facility_handoff ENABLE TRIGGER facility_handoff_frozen")
    page = text(client.get(reverse("handoff_detail", args=[handoff.public_id])))
    assert "Not verified:" in page and "Verified:" not in page


@pytest.mark.django_db
def test_hostile_handoff_posts_get_a_message_and_write_nothing(client, cast, facility, morning):
    client.force_login(cast["nurse"])
    theirs = Unit.objects.exclude(facility=facility).first()
    for body, message in [
        ({"day": "9999-12-31", "shift": "day"}, "Day: enter a date between"),
        ({"day": "2026-05-12", "shift": "x\x00"}, "Shift: choose one of this facility"),
        ({"day": "2026-05-12", "shift": "day", "unit": "abc"}, "Unit: choose one"),
        ({"day": "2026-05-09", "shift": "day"}, "Shift: that shift ended more than a day ago."),
    ]:
        response = client.post(reverse("handoff_give"), body, follow=True)
        assert response.status_code == 200
        assert escape(message) in text(response), message
    foreign = {"day": "2026-05-12", "shift": "day", "unit": str(theirs.public_id)}
    assert client.post(reverse("handoff_give"), foreign).status_code == 404
    assert not Handoff.objects.exists()
