"""Issue 11 UI and clinical review of the withdrawal pages: one score is no trend, the scoring
pages belong to "Withdrawal" in the top navigation, and the overdue alert's strike generation
(services/withdrawal.overdue_key)."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from facility.models import Alert
from observations.services import assessment_strike, scan_reassessments_overdue
from tests.conftest import admit
from tests.observations.withdrawal_helpers import score, start

NY = ZoneInfo("America/New_York")


def at(h, m=0):
    return datetime(2026, 5, 12, h, m, tzinfo=NY)


def current_nav(page: str) -> list[str]:
    return re.findall(r'aria-current="page">([^<]+)</a></li>', page)


@pytest.mark.django_db
def test_one_score_on_the_board_is_a_first_score_not_a_trend(client, cast, facility):
    nurse = cast["nurse"]
    stay = admit(facility, nurse, admitted_at=timezone.now() - timedelta(hours=2))
    start(nurse, stay, at=timezone.now() - timedelta(hours=1))
    score(nurse, stay, 12, at=timezone.now() - timedelta(minutes=5))
    client.force_login(nurse)
    page = client.get(reverse("observations:withdrawal_board")).content.decode()
    row = page.split('class="wd-score"', 1)[1].split("</div>", 1)[0]
    assert "first score" in row
    assert 'class="trend"' not in row and "aria-label=" not in row
    # The total, not "12 … 12" again as a trend (the time it was taken, "at 12:03" at noon,
    # is not a score).
    assert re.sub(r"at \d\d:\d\d", "", row).count("12") == 1


@pytest.mark.django_db
@pytest.mark.parametrize("scale", ["ciwa_ar", "cows"])
def test_the_scoring_page_highlights_withdrawal_not_rounds(client, cast, facility, scale):
    nurse = cast["nurse"]
    stay = admit(facility, nurse, admitted_at=timezone.now() - timedelta(hours=2))
    start(nurse, stay, scale, at=timezone.now() - timedelta(hours=1))
    client.force_login(nurse)
    url = reverse("observations:withdrawal_score", args=[stay.public_id, scale])
    response = client.get(url)
    assert response.status_code == 200
    assert current_nav(response.content.decode()) == ["Withdrawal"]
    board = client.get(reverse("observations:withdrawal_board")).content.decode()
    assert current_nav(board) == ["Withdrawal"]
    rounds = client.get(reverse("observations:rounds"), follow=True).content.decode()
    assert current_nav(rounds) == ["Rounds"]


@pytest.mark.django_db
def test_striking_an_older_score_does_not_raise_the_overdue_alert_twice(cast, facility):
    """The generation counts only struck scores taken after the one the due time counts from:
    a strike of an older score leaves the key, and the alert already raised stands alone."""
    nurse = cast["nurse"]
    with time_machine.travel(at(6, 5), tick=False):
        stay = admit(facility, nurse, admitted_at=at(6, 0))
    with time_machine.travel(at(7, 0), tick=False):
        start(nurse, stay, at=at(6, 55))
    old = score(nurse, stay, 3, at=at(7, 0))
    score(nurse, stay, 4, at=at(8, 0))  # next owed 12:00
    assert scan_reassessments_overdue(now=at(12, 20)) == 1
    assessment_strike(actor=nurse, assessment=old, reason="Duplicate entry", now=at(12, 25))
    assert scan_reassessments_overdue(now=at(12, 30)) == 0
    assert Alert.objects.filter(kind="withdrawal_overdue").count() == 1
