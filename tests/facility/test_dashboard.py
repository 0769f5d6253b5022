"""The supervisor's dashboard (issue 15 item 4): the current shift so far, each number counted
as the page it links to counts it, only the supervisor's own facility, and a query count that
does not grow with the census."""

import re
import uuid
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from facility.models import Alert, Unit
from facility.services import alert_raise
from medications.models import Medication
from medications.services import order_transcribe, order_verify, prn_give
from observations.models import RoundCode
from observations.services import RoundEntry, round_submit
from tests.conftest import admit, make_user
from tests.facility.world import received_stock
from tests.observations.test_incidents import submitted
from tests.transport.test_trips_overdue import out_trip

NY = ZoneInfo("America/New_York")
CHI = ZoneInfo("America/Chicago")


def at(h, m=0, day=12, tz=NY):
    return datetime(2026, 5, day, h, m, tzinfo=tz)


# The day shift (07:00-15:00) of 12 May 2026 in New York, at 13:40.
NOW = at(13, 40)


def drug(facility, name, **extra):
    return Medication.objects.create(
        facility=facility, name=name, strength="1 mg", form="tablet", routes="oral", **extra
    )


def verified(admission, nurse, nurse2, med, **fields):
    order = order_transcribe(
        actor=nurse, admission=admission, medication=med, dose="1 mg", dose_units=Decimal(1),
        route="oral", start_at=admission.admitted_at, prescriber_name="Dr. Rivera",
        prescriber_credentials="MD", **fields,
    )  # fmt: skip
    order_verify(actor=nurse2, order=order)
    return order


def chart(admission, user, observed):
    facility = admission.facility
    codes = RoundCode.objects.filter(facility=facility)
    round_submit(
        actor=user, facility=facility, submission_key=uuid.uuid4(), observed_at=observed,
        entries=[RoundEntry(admission, codes.get(kind="location", code="RM"),
                            codes.get(kind="status", code="A"))],
        late_reason="", now=observed,
    )  # fmt: skip


def others(cast) -> dict:
    """The other facility's cast under the plain role names the helpers use."""
    return {k.removeprefix("other_"): v for k, v in cast.items() if k.startswith("other_")}


def west_bed(facility):
    from clients.forms import free_beds

    return free_beds(facility).filter(unit__name="West").first()


def severities(facility):
    return {
        s: Alert.objects.filter(facility=facility, resolved_at__isnull=True, severity=s).count()
        for s in ("critical", "warning", "info")
    }


@pytest.fixture
def shift(cast, facility, other_facility):
    """One of everything the dashboard counts at home, and the same noise at the other house."""
    nurse, nurse2 = cast["nurse"], make_user("nurse_two", "nurse", facility)
    with time_machine.travel(at(12, 0, day=11), tick=False):
        # East: a client whose doses of today are due (13:30), late (10:30) and missed (07:00).
        meds = admit(facility, nurse, admitted_at=at(11, 0, day=11), first="Dana", last="Dose")
        for name, time in (("Due-ol", "13:30"), ("Late-ol", "10:30"), ("Missed-ol", "07:00")):
            verified(meds, nurse, nurse2, drug(facility, name), frequency="times", times=time)
        prn = verified(
            meds, nurse, nurse2, drug(facility, "Prn-ol"), frequency="prn", indication="Nausea",
            prn_min_interval_minutes=240, prn_max_per_24h=3,
        )  # fmt: skip
        received_stock(nurse, facility, "Lorazepam", cast["technician"])
        received_stock(cast["other_nurse"], other_facility, "Diazepam", cast["other_technician"])
    with time_machine.travel(at(12, 30), tick=False):
        # Given 12:30 by mouth: its reassessment is due from 13:30 to 14:00.
        prn_give(actor=nurse, order=prn, indication="Nausea", pre_assessment="6/10")
    with time_machine.travel(at(13, 0), tick=False):
        # West: admitted 13:00 on q15, checked 13:05; 13:15-13:30 missed; 13:30-13:45 due now.
        rounds = admit(facility, nurse, bed=west_bed(facility), admitted_at=at(13, 0), n=2)
    chart(rounds, cast["technician"], at(13, 5))
    # A trip that should have been back at 13:20 (20 minutes late at 13:40).
    out_trip(cast, facility, returning=at(13, 20), n=3)
    out_trip(others(cast), other_facility, returning=at(13, 20, tz=CHI), n=4)
    with time_machine.travel(at(13, 30), tick=False):
        submitted(cast, facility, meds)
        other = admit(other_facility, cast["other_nurse"], admitted_at=at(11, 0, tz=CHI), n=5)
        submitted(others(cast), other_facility, other)
        for facility_, tag in ((facility, "home"), (other_facility, "other")):
            for severity in ("critical", "warning", "info"):
                alert_raise(
                    facility=facility_, kind="test", severity=severity,
                    message=f"{severity} {tag}", dedupe_key=f"test:{tag}:{severity}",
                )  # fmt: skip
    return {"meds": meds, "rounds": rounds}


def dashboard(client, user, name="dashboard"):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        return client.get(reverse(name))


def number(page: str, tile: str, label: str, group: str = "") -> tuple[int, str]:
    """The number shown for `label` in a tile (and group), and where it links."""
    section = re.search(rf'<section class="dash-tile" id="tile-{tile}".*?</section>', page, re.S)
    assert section, f"no {tile} tile"
    text = section.group(0)
    if group:
        text = text.split(f"<h3>{group}</h3>", 1)[1].split("</ul>", 1)[0]
    found = re.search(
        rf'<a class="dash-number[^"]*" href="([^"]+)">(?:(?!</a>).)*?<span class="n">(\d+)</span> '
        rf'<span class="what">{re.escape(label)}</span></a>',
        text,
        re.S,
    )
    assert found, f"no {label!r} in the {tile} tile"
    return int(found.group(2)), found.group(1)


@pytest.mark.django_db
def test_each_number_of_a_built_shift_is_counted_and_links_to_its_list(
    client, cast, facility, shift
):
    response = dashboard(client, cast["supervisor"])
    assert response.status_code == 200
    page = response.content.decode()
    assert "Day 07–15 · Tue May 12 · so far, to 13:40" in page
    west = Unit.objects.get(facility=facility, name="West")
    board = reverse("observations:board", args=[west.public_id])
    assert number(page, "rounds", "Checks done", "West") == (1, board)
    # Missed windows are listed by the compliance report of the unit (the board shows what is
    # due now, not what was missed).
    compliance = (
        reverse("observations:compliance")
        + "?"
        + urlencode({"start": "2026-05-12", "end": "2026-05-12", "unit": west.public_id})
    )
    assert number(page, "rounds", "Checks missed", "West") == (1, escape(compliance))
    assert number(page, "rounds", "Checks due now", "West") == (1, board)
    mar = reverse("medications:mar")
    assert number(page, "doses", "Due now") == (1, mar)
    assert number(page, "doses", "Late") == (1, mar)
    # Missed-ol's 07:00 today, and yesterday's uncharted Due-ol 13:30 and Late-ol (its first dose
    # after the 11:00 admission): a dose nobody charted stays counted until someone does.
    assert number(page, "doses", "Missed") == (3, mar)
    assert number(page, "prn", "Due") == (1, mar)
    assert number(page, "prn", "Overdue") == (0, mar)
    # Alerts by severity: the three raised here and any the events raised themselves (the
    # incident's, the late trip's), never the other facility's.
    home = severities(facility)
    assert min(home.values()) >= 1
    for severity, label in (("critical", "Critical"), ("warning", "Warning"), ("info", "Info")):
        # Each severity opens the list of that severity (issue 17).
        alerts = f"{reverse('alerts')}?severity={severity}"
        assert number(page, "alerts", label) == (home[severity], alerts)
    assert number(page, "incidents", "Awaiting review") == (1, reverse("observations:incidents"))
    trips = reverse("transport:board")
    assert number(page, "trips", "Out now") == (1, trips)
    assert number(page, "trips", "Late back") == (1, trips)
    controlled = reverse("medications:controlled")
    assert number(page, "counts", "Not yet counted") == (1, controlled)
    assert number(page, "counts", "Variances to sign off") == (0, controlled)
    census = reverse("clients:census")
    assert number(page, "census", "Off site") == (1, census)  # the trip's passenger
    assert number(page, "census", "In house") == (2, census)
    # The live part polls itself and carries the same numbers.
    assert f'hx-get="{reverse("dashboard_live")}" hx-trigger="every 30s"' in page
    live = dashboard(client, cast["supervisor"], "dashboard_live").content.decode()
    assert "<html" not in live
    assert number(live, "doses", "Late") == (1, mar)


@pytest.mark.django_db
def test_the_other_facility_sees_only_its_own_numbers(client, cast, other_facility, shift):
    page = dashboard(client, cast["other_supervisor"]).content.decode()
    assert number(page, "doses", "Due now")[0] == 0
    assert number(page, "prn", "Due")[0] == 0
    assert number(page, "incidents", "Awaiting review")[0] == 1
    assert number(page, "trips", "Out now")[0] == 1
    assert number(page, "counts", "Not yet counted")[0] == 1
    other = severities(other_facility)
    assert number(page, "alerts", "Critical")[0] == other["critical"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [("supervisor", 200), ("technician", 403), ("nurse", 403), ("clinician", 403), ("admin", 403)],
)
def test_only_supervisors_open_the_dashboard(client, cast, who, status):
    for name in ("dashboard", "dashboard_live"):
        client.force_login(cast[who])
        assert client.get(reverse(name)).status_code == status


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in(client):
    for name in ("dashboard", "dashboard_live"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def census_of(facility, cast, n: int) -> None:
    """`n` clients on both units, each with a daily dose, checked once, and a PRN dose given."""
    from clients.forms import free_beds
    from clients.models import Bed

    nurse, nurse2 = cast["nurse"], make_user(f"nurse_{n}", "nurse", facility)
    units = list(Unit.objects.filter(facility=facility))
    have = Bed.objects.filter(unit__facility=facility).count()
    for i in range(have, n + 2):
        Bed.objects.create(unit=units[i % 2], label=f"Z{i:02d}")
    daily, prn_drug = drug(facility, f"Daily-{n}"), drug(facility, f"Prn-{n}")
    with time_machine.travel(at(8, 0), tick=False):
        for i in range(n):
            stay = admit(facility, nurse, bed=free_beds(facility).first(), n=i,
                         admitted_at=at(7, 0))  # fmt: skip
            verified(stay, nurse, nurse2, daily, frequency="times", times="09:00")
            prn = verified(
                stay, nurse, nurse2, prn_drug, frequency="prn", indication="Nausea",
                prn_min_interval_minutes=240, prn_max_per_24h=3,
            )  # fmt: skip
            prn_give(actor=nurse, order=prn, indication="Nausea", pre_assessment="5/10")
    with time_machine.travel(at(9, 0), tick=False):
        for stay in facility.admissions.all():
            chart(stay, cast["technician"], at(9, 0))


# The session, the user, their facilities and permissions, then the tiles: 29 in all (the
# counts tile reads the stocks owing their count in one query since issue 17).
PAGE_QUERIES = 29


def queries(client, user) -> int:
    client.force_login(user)
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("dashboard")).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_the_page_reads_a_fixed_number_of_queries_whatever_the_census(
    client, cast, facility, other_facility
):
    census_of(facility, cast, 5)
    census_of(other_facility, others(cast), 25)
    queries(client, cast["supervisor"])  # per-process caches (content types, codes) warm up
    small = queries(client, cast["supervisor"])
    large = queries(client, cast["other_supervisor"])
    assert small == large == PAGE_QUERIES


@pytest.mark.django_db
def test_the_alerts_page_leads_supervisors_to_the_dashboard(client, cast):
    client.force_login(cast["supervisor"])
    assert f'href="{reverse("dashboard")}"' in client.get(reverse("alerts")).content.decode()
    client.force_login(cast["nurse"])
    assert f'href="{reverse("dashboard")}"' not in client.get(reverse("alerts")).content.decode()
