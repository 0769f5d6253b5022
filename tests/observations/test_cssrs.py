"""The C-SSRS screen version (issue 12 item 3; specs/charting.md, Suicide-risk screening): the
triage against an independent reading of the spec, the answers kept, the questions asked only
after a yes, what a high or moderate result sets in motion (the one-tap raise through the level
page, the alerts and who sees them, the safety plan), the screens owed and the overdue scan."""

import itertools
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from facility.models import Alert
from facility.registry import registry
from facility.services import alert_resolve
from observations.models import CssrsRequest, CssrsScreen, LevelOrder
from observations.scales import cssrs_screen
from observations.services import current_levels, level_order
from observations.services.behavior_notes import behavior_note_record
from observations.services.cssrs import (
    ADMISSION_DUE,
    cssrs_safety_plan_record,
    cssrs_screen_record,
    cssrs_screen_strike,
    scan_cssrs_overdue,
    screen_request_open,
    screens_owed,
)
from tests.conftest import admit, form_time

KEYS = ("q1", "q2", "q3", "q4", "q5", "q6", "q6_recent")
NONE_ASKED = {"q1": False, "q2": False, "q6": False}


# ---------------------------------------------------------------- the triage, read again


def triage_as_the_spec_reads(q1, q2, q3, q4, q5, q6, recent) -> str:
    """specs/charting.md, written out again without looking at scales.cssrs_screen: "Questions
    3-5 are asked only when 2 is yes. Triage: high if 4 or 5 is yes, or 6 is yes within the past
    3 months; else moderate if 3 is yes, or 6 is yes but more than 3 months ago; else low if 1
    or 2 is yes; else none." Each rule names the lowest level it reaches; the highest wins."""
    asked = {3: q3, 4: q4, 5: q5} if q2 else {3: False, 4: False, 5: False}
    reached = ["none"]
    if q1 or q2:
        reached.append("low")
    if asked[3] or (q6 and not recent):
        reached.append("moderate")
    if asked[4] or asked[5] or (q6 and recent):
        reached.append("high")
    order = ["none", "low", "moderate", "high"]
    return max(reached, key=order.index)


def test_the_triage_agrees_with_an_independent_reading_of_the_spec_on_all_128_answers():
    seen = {"none": 0, "low": 0, "moderate": 0, "high": 0}
    combinations = list(itertools.product([False, True], repeat=7))
    assert len(combinations) == 128
    for values in combinations:
        answers = dict(zip(KEYS, values, strict=True))
        expected = triage_as_the_spec_reads(*values)
        assert cssrs_screen(answers) == expected, answers
        seen[expected] += 1
    # Counted by hand: none = 1, 2, 6 no (16); low = 20; high = 6 recent (32) + 2 with 4 or 5
    # outside it (36); moderate the rest (24).
    assert all(seen.values()) and sum(seen.values()) == 128
    assert seen == {"none": 16, "low": 20, "moderate": 24, "high": 68}


@pytest.mark.parametrize(
    "answers, expected",
    [
        ({}, "none"),
        ({"q1": True}, "low"),
        ({"q2": True}, "low"),
        ({"q2": True, "q3": True}, "moderate"),
        ({"q2": True, "q4": True}, "high"),
        ({"q2": True, "q5": True}, "high"),
        ({"q6": True}, "moderate"),  # ever, more than 3 months ago
        ({"q6": True, "q6_recent": True}, "high"),
        # 3-5 are asked only after a yes to 2; "recent" only after a yes to 6.
        ({"q5": True}, "none"),
        ({"q1": True, "q4": True}, "low"),
        ({"q6_recent": True}, "none"),
    ],
)
def test_the_spec_s_own_cases(answers, expected):
    assert cssrs_screen(answers) == expected
    assert triage_as_the_spec_reads(*(answers.get(k, False) for k in KEYS)) == expected


# ---------------------------------------------------------------- the service


@pytest.mark.django_db
def test_a_screen_keeps_3_to_5_only_after_a_yes_to_2_and_the_3_month_answer_after_a_yes_to_6(
    cast, admission
):
    asked = cssrs_screen_record(
        actor=cast["technician"], admission=admission, reason="admission",
        answers={"q1": True, "q2": True, "q3": True, "q4": False, "q5": False, "q6": True,
                 "q6_recent": False},
    )  # fmt: skip
    asked.refresh_from_db()
    assert asked.answers == {"q1": True, "q2": True, "q3": True, "q4": False, "q5": False,
                             "q6": True, "q6_recent": False}  # fmt: skip
    assert asked.result == "moderate"
    assert asked.recorded_by == cast["technician"]
    # A "no" to a question that was not asked says nothing: it is not kept.
    not_asked = cssrs_screen_record(
        actor=cast["technician"], admission=admission, reason="other",
        answers={"q1": True, "q2": False, "q3": False, "q4": False, "q6": False,
                 "q6_recent": False},
    )  # fmt: skip
    not_asked.refresh_from_db()
    assert not_asked.answers == {"q1": True, "q2": False, "q6": False}
    assert not_asked.result == "low"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "answers, field, message",
    [
        # A plan with intent beside "no thoughts": a contradiction, refused rather than dropped
        # (dropped, it would triage a disclosed plan as "none").
        ({**NONE_ASKED, "q5": True}, "q5", "Question 5 is yes, but question 2 is no"),
        ({**NONE_ASKED, "q6_recent": True}, "q6_recent", "question 6 is no"),
        ({"q1": False, "q2": True, "q6": False}, "q3", "asked because question 2 is yes"),
        ({"q1": False, "q2": False}, "q6", "Question 6: answer yes or no."),
        ({**NONE_ASKED, "q7": True}, "__all__", "Unknown C-SSRS question"),
    ],
)
def test_contradictory_or_missing_answers_are_refused_by_field_and_nothing_is_saved(
    cast, admission, answers, field, message
):
    with pytest.raises(ValidationError) as refused:
        cssrs_screen_record(
            actor=cast["nurse"], admission=admission, reason="other", answers=answers
        )
    error = refused.value
    by_field = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    assert any(message in m for m in by_field[field])
    assert not CssrsScreen.objects.exists()
    assert not Alert.objects.filter(kind__startswith="cssrs").exists()


@pytest.mark.django_db
def test_a_screen_of_a_discharged_client_or_by_an_admin_is_refused(cast, admission):
    with pytest.raises(PermissionDenied):
        cssrs_screen_record(
            actor=cast["admin"], admission=admission, reason="other", answers=NONE_ASKED
        )
    with pytest.raises(PermissionDenied):
        cssrs_screen_record(
            actor=cast["other_nurse"], admission=admission, reason="other", answers=NONE_ASKED
        )
    assert not CssrsScreen.objects.exists()


# ---------------------------------------------------------------- the pages


def screen_url(admission):
    return reverse("observations:cssrs_screen", args=[admission.public_id])


def body(facility, **answers):
    data = {"reason": "other", "screened_at": form_time(timezone.now(), facility), "remark": ""}
    data.update({k: ("yes" if v else "no") for k, v in answers.items()})
    return data


@pytest.mark.django_db
def test_the_form_shows_3_to_5_only_after_a_yes_to_2_and_asks_them_again_without_javascript(
    client, cast, facility, admission
):
    client.force_login(cast["technician"])
    page = client.get(screen_url(admission)).content.decode()
    # Every question in the spec's words; 3-5 and the 3-month follow-up are in a hidden block.
    for wording in (
        "Wish to be dead",
        "Non-specific active suicidal thoughts",
        "Active suicidal ideation with any methods, without intent to act",
        "Active suicidal ideation with some intent to act, without a specific plan",
        "Active suicidal ideation with a specific plan and intent",
        "Suicidal behavior ever (any act, start, or preparation)",
        "Within the past 3 months?",
    ):
        assert wording in page
    assert re.search(r'data-follow="q2"\s+hidden', page)
    assert re.search(r'data-follow="q6"\s+hidden', page)
    assert "checked" not in page  # nothing is pre-answered "no"

    # Without JavaScript, a yes to 2 comes back with 3-5 shown and asked; nothing saved.
    response = client.post(screen_url(admission), body(facility, q1=True, q2=True, q6=False))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Question 2 is yes: ask questions 3, 4 and 5 now." in page
    assert not re.search(r'data-follow="q2"\s+hidden', page)
    assert not CssrsScreen.objects.exists()

    response = client.post(
        screen_url(admission),
        body(facility, q1=True, q2=True, q3=True, q4=False, q5=False, q6=False),
    )
    screen = CssrsScreen.objects.get()
    assert response["Location"] == reverse("observations:cssrs_result", args=[screen.public_id])
    assert (screen.result, screen.answers["q3"]) == ("moderate", True)


@pytest.mark.django_db
def test_a_yes_to_4_with_a_no_to_2_is_refused_on_the_page_with_the_block_shown(
    client, cast, facility, admission
):
    client.force_login(cast["nurse"])
    response = client.post(screen_url(admission), body(facility, q1=False, q2=False, q4=True,
                                                         q6=False))  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was saved." in page
    assert "Question 4 is yes, but question 2 is no" in page
    # The answer the client gave stays in sight, with the note to correct one or the other.
    assert not re.search(r'data-follow="q2"\s+hidden', page)
    assert re.search(r'class="orphan-note danger-text">Question 2 is not yes', page)
    assert not CssrsScreen.objects.exists()


class FormsOf(HTMLParser):
    """The forms of a page with their action and hidden fields, and their submit buttons."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "class": attrs.get("class", ""),
                               "fields": {}, "buttons": []})  # fmt: skip
        elif self.forms and tag == "input" and attrs.get("type") == "hidden":
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value", "")
        elif self.forms and tag == "button":
            self.forms[-1]["buttons"].append(attrs)

    def one(self, css_class: str) -> dict:
        found = [f for f in self.forms if css_class in f["class"].split()]
        assert len(found) == 1, [f["class"] for f in self.forms]
        return found[0]


def alert_texts(client) -> str:
    return client.get(reverse("alerts")).content.decode()


@pytest.mark.django_db
def test_a_risk_flag_leads_to_a_screen_and_a_high_result_to_the_1_to_1_in_one_tap(
    client, cast, facility, admission
):
    tech, nurse = cast["technician"], cast["nurse"]
    # The technician's behavior note flags suicidal thoughts: a screen is owed within 30 min.
    behavior_note_record(
        actor=tech, admission=admission, observed_at=timezone.now(),
        mood_words="Says there is no point any more", risk_flags=["suicidal"],
    )  # fmt: skip
    request = CssrsRequest.objects.get(admission=admission)
    assert request.reason == "risk_flag"
    client.force_login(tech)
    chart = client.get(reverse("clients:chart", args=[admission.client.public_id]))
    assert "C-SSRS due" in chart.content.decode()
    assert "After a risk flag" in chart.content.decode()

    response = client.post(
        screen_url(admission),
        body(facility, q1=True, q2=True, q3=True, q4=True, q5=False, q6=False) | {
            "reason": "risk_flag"},
    )  # fmt: skip
    screen = CssrsScreen.objects.get()
    assert screen.result == "high"
    request.refresh_from_db()
    assert request.answered_by == screen
    assert "C-SSRS due" not in client.get(chart.wsgi_request.path).content.decode()

    # The technician reads the result: tell the nurse; no raise button (not theirs to tap).
    result = client.get(response["Location"]).content.decode()
    assert "High risk" in result
    assert "Tell the nurse now:" in result
    assert "Raise to 1:1 now" not in result

    # Alerts: the nurse, the clinician and the supervisor; not the technician's page.
    high = Alert.objects.get(kind="cssrs_high")
    assert (high.severity, high.audience) == ("critical", "nurse,clinician,supervisor")
    assert "High risk on C-SSRS: offer 1:1 now" in high.message
    assert "High risk on C-SSRS" not in alert_texts(client)
    for who in ("clinician", "supervisor", "nurse"):
        client.force_login(cast[who])
        assert "High risk on C-SSRS: offer 1:1 now" in alert_texts(client), who

    # The nurse opens the alert's link and taps the one button: the level page's own form.
    client.force_login(nurse)
    page = client.get(high.link).content.decode()
    raise_form = FormsOf(page).one("raise-form")
    assert raise_form["action"] == reverse("observations:level_change", args=[admission.public_id])
    at = timezone.localtime(screen.screened_at, facility.tz)
    assert raise_form["fields"]["level"] == "one_to_one"
    assert raise_form["fields"]["reason"] == f"C-SSRS high risk {at:%H:%M}"
    assert "Raise to 1:1 now" in page
    tapped = client.post(raise_form["action"], raise_form["fields"])
    assert tapped.status_code == 302
    level = current_levels([admission], timezone.now())[admission.pk]
    assert level.level == "one_to_one"
    order = LevelOrder.objects.get(admission=admission)
    assert (order.ordered_by, order.kind, order.reason) == (
        nurse,
        "nurse_raise",
        f"C-SSRS high risk {at:%H:%M}",
    )
    # Raised: the page no longer offers it.
    again = client.get(high.link).content.decode()
    assert "Raise to 1:1 now" not in again
    assert "already at or above the suggested 1:1" in again


@pytest.mark.django_db
def test_the_safety_plan_prompt_keeps_its_alert_open_until_a_plan_is_started(
    client, cast, facility, admission
):
    screen = cssrs_screen_record(
        actor=cast["nurse"], admission=admission, reason="other",
        answers={"q1": True, "q2": True, "q3": False, "q4": False, "q5": True, "q6": False},
    )  # fmt: skip
    alert = Alert.objects.get(kind="cssrs_safety_plan")
    # Not closed by a tap on Resolve: only a plan recorded on the screen closes it.
    with pytest.raises(ValidationError, match="closes only with a safety plan"):
        alert_resolve(alert=alert, user=cast["supervisor"], note="Seen")
    client.force_login(cast["nurse"])
    url = reverse("observations:cssrs_result", args=[screen.public_id])
    assert (
        "Was a safety plan started or reviewed with the client?" in client.get(url).content.decode()
    )
    plan_url = reverse("observations:cssrs_safety_plan", args=[screen.public_id])

    page = client.post(plan_url, {"safety_plan": "no"}, follow=True).content.decode()
    assert "The alert stays open until a safety plan is started or reviewed." in page
    screen.refresh_from_db()
    assert screen.safety_plan is False
    assert Alert.objects.open().filter(kind="cssrs_safety_plan").count() == 1

    client.post(plan_url, {"safety_plan": "yes"})
    screen.refresh_from_db()
    assert screen.safety_plan is True
    assert not Alert.objects.open().filter(kind="cssrs_safety_plan").exists()
    assert "Started or reviewed" in client.get(url).content.decode()
    # A yes is not taken back; the high-risk alert itself stays for a person to resolve.
    with pytest.raises(ValidationError):
        cssrs_safety_plan_record(actor=cast["nurse"], screen=screen, started=False)
    assert Alert.objects.open().filter(kind="cssrs_high").count() == 1


@pytest.mark.django_db
def test_a_safety_plan_started_at_the_screen_raises_no_safety_plan_alert(cast, admission):
    cssrs_screen_record(
        actor=cast["clinician"], admission=admission, reason="other", safety_plan=True,
        answers={"q1": True, "q2": False, "q6": True, "q6_recent": True},
    )  # fmt: skip
    assert Alert.objects.filter(kind="cssrs_high").count() == 1
    assert not Alert.objects.filter(kind="cssrs_safety_plan").exists()


@pytest.mark.django_db
def test_moderate_alerts_the_clinician_only_and_suggests_q15_to_whoever_may_raise_it(
    client, cast, facility
):
    # Four days in: past the admission's q15, on the facility default q60.
    stay = admit(facility, cast["nurse"], admitted_at=timezone.now() - timedelta(days=4))
    screen = cssrs_screen_record(
        actor=cast["technician"], admission=stay, reason="other",
        answers={"q1": True, "q2": True, "q3": True, "q4": False, "q5": False, "q6": False},
    )  # fmt: skip
    assert screen.result == "moderate"
    alert = Alert.objects.get(kind__startswith="cssrs")
    assert (alert.kind, alert.severity, alert.audience) == (
        "cssrs_moderate",
        "warning",
        "clinician",
    )
    for who, sees in (("clinician", True), ("supervisor", True), ("nurse", False),
                      ("technician", False)):  # fmt: skip
        client.force_login(cast[who])
        assert ("Moderate risk on C-SSRS" in alert_texts(client)) is sees, who

    url = reverse("observations:cssrs_result", args=[screen.public_id])
    client.force_login(cast["clinician"])
    page = client.get(url).content.decode()
    assert "q15 observation is suggested" in page
    raise_form = FormsOf(page).one("raise-form")
    assert raise_form["fields"]["level"] == "q15"
    assert "Raise to q15 now" in page
    client.post(raise_form["action"], raise_form["fields"])
    assert current_levels([stay], timezone.now())[stay.pk].level == "q15"
    assert "Raise to q15 now" not in client.get(url).content.decode()


@pytest.mark.django_db
def test_q15_is_not_offered_to_a_client_already_on_a_closer_level(client, cast, admission):
    # A new admission is on q15 for its first 72 hours; this one is on line of sight.
    level_order(actor=cast["clinician"], admission=admission, level="los", reason="Agitated")
    screen = cssrs_screen_record(
        actor=cast["nurse"], admission=admission, reason="other",
        answers={"q1": False, "q2": False, "q6": True, "q6_recent": False},
    )  # fmt: skip
    assert screen.result == "moderate"
    client.force_login(cast["nurse"])
    page = client.get(reverse("observations:cssrs_result", args=[screen.public_id]))
    assert "Raise to" not in page.content.decode()
    assert "already at or above the suggested q15" in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("answers", [{"q1": True, "q2": False, "q6": False}, NONE_ASKED])
def test_low_and_none_alert_nobody(cast, admission, answers):
    cssrs_screen_record(actor=cast["nurse"], admission=admission, reason="other", answers=answers)
    assert not Alert.objects.exists()


# ---------------------------------------------------------------- screens owed


@pytest.mark.django_db
def test_a_stay_owes_a_screen_at_admission_until_one_is_done_and_again_if_it_is_struck(
    client, cast, admission
):
    owed = screens_owed([admission])[admission.pk]
    assert (owed.reason, owed.due_at) == ("admission", admission.admitted_at + ADMISSION_DUE)
    assert timedelta(hours=4) == ADMISSION_DUE
    client.force_login(cast["nurse"])
    due_page = client.get(reverse("observations:cssrs_due")).content.decode()
    assert admission.client.display_name in due_page
    assert "At admission" in due_page
    screen = cssrs_screen_record(
        actor=cast["nurse"], admission=admission, reason="admission", answers=NONE_ASKED
    )
    assert screens_owed([admission]) == {}
    assert admission.client.display_name not in (
        client.get(reverse("observations:cssrs_due")).content.decode()
    )
    client.post(reverse("observations:cssrs_strike", args=[screen.public_id]),
                {"reason": "Wrong client"})  # fmt: skip
    screen.refresh_from_db()
    assert screen.struck_reason == "Wrong client"
    assert screens_owed([admission])[admission.pk].reason == "admission"
    chart = client.get(reverse("clients:chart", args=[admission.client.public_id]))
    assert "C-SSRS due" in chart.content.decode()
    assert "entered in error: Wrong client" in chart.content.decode()


@pytest.mark.django_db
def test_a_clinician_orders_a_screen_from_the_chart_and_a_nurse_cannot(
    client, cast, facility, admission
):
    cssrs_screen_record(
        actor=cast["nurse"], admission=admission, reason="admission", answers=NONE_ASKED
    )
    chart = reverse("clients:chart", args=[admission.client.public_id])
    order = reverse("observations:cssrs_order", args=[admission.public_id])
    client.force_login(cast["nurse"])
    assert "Order a C-SSRS screen" not in client.get(chart).content.decode()
    assert client.post(order, {"detail": "x"}).status_code == 403
    client.force_login(cast["clinician"])
    assert "Order a C-SSRS screen" in client.get(chart).content.decode()
    page = client.post(order, {"detail": "Hopeless in group"}, follow=True).content.decode()
    request = CssrsRequest.objects.get()
    assert (request.reason, request.detail, request.requested_by) == (
        "ordered",
        "Hopeless in group",
        cast["clinician"],
    )
    assert request.due_at - request.requested_at == timedelta(hours=4)
    due = timezone.localtime(request.due_at, facility.tz)
    assert f"C-SSRS screen ordered: due by {due:%H:%M}." in page
    assert "C-SSRS due" in page


@pytest.mark.django_db
def test_an_overdue_request_alerts_once_and_the_screen_closes_it(cast, facility, admission):
    start = timezone.now()
    screen_request_open(actor=cast["technician"], admission=admission, reason="risk_flag",
                        now=start)  # fmt: skip
    assert scan_cssrs_overdue(now=start + timedelta(minutes=29)) == 0
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        assert scan_cssrs_overdue() == 1
        assert scan_cssrs_overdue() == 0  # the dedupe key is the request's
        alert = Alert.objects.get(kind="cssrs_overdue")
        assert alert.severity == "critical"  # after a risk flag
        assert alert.audience == ""  # the floor: anyone who may screen
        assert alert.link == screen_url(admission)
        due = timezone.localtime(start + timedelta(minutes=30), facility.tz)
        assert f"C-SSRS screen overdue (after a risk flag), owed by {due:%H:%M}." in alert.message
        cssrs_screen_record(
            actor=cast["technician"], admission=admission, reason="risk_flag", answers=NONE_ASKED
        )
        alert.refresh_from_db()
        assert alert.resolved_at is not None
        assert alert.resolution_note == "C-SSRS screen recorded."
        assert scan_cssrs_overdue() == 0


@pytest.mark.django_db
def test_a_screen_not_done_4_hours_after_admission_alerts_the_floor_once_until_one_is_done(
    client, cast, facility, admission
):
    due = admission.admitted_at + ADMISSION_DUE
    assert scan_cssrs_overdue(now=due - timedelta(minutes=1)) == 0
    with time_machine.travel(due + timedelta(minutes=1), tick=False):
        assert scan_cssrs_overdue() == 1
        assert scan_cssrs_overdue() == 0
        alert = Alert.objects.get(kind="cssrs_overdue")
        assert (alert.severity, alert.audience) == ("warning", "")
        assert "C-SSRS screen at admission not done" in alert.message
        client.force_login(cast["technician"])
        assert (
            "C-SSRS screen at admission not done" in client.get(reverse("alerts")).content.decode()
        )
        cssrs_screen_record(
            actor=cast["technician"], admission=admission, reason="admission", answers=NONE_ASKED
        )
        alert.refresh_from_db()
        assert alert.resolution_note == "C-SSRS screen recorded."
        assert scan_cssrs_overdue() == 0


@pytest.mark.django_db
def test_an_open_request_alerts_by_itself_not_twice_with_the_admission_screen(
    cast, facility, admission
):
    start = admission.admitted_at + timedelta(minutes=5)
    screen_request_open(actor=cast["technician"], admission=admission, reason="risk_flag",
                        now=start)  # fmt: skip
    with time_machine.travel(admission.admitted_at + ADMISSION_DUE + timedelta(minutes=1),
                             tick=False):  # fmt: skip
        assert scan_cssrs_overdue() == 1
        assert "after a risk flag" in Alert.objects.get(kind="cssrs_overdue").message


@pytest.mark.django_db
def test_an_ordered_screen_overdue_is_a_warning_and_a_discharged_stay_is_not_scanned(
    cast, facility, admission
):
    start = timezone.now() - timedelta(hours=5)
    gone = admit(facility, cast["nurse"], n=3)
    for stay in (admission, gone):
        screen_request_open(actor=cast["clinician"], admission=stay, reason="ordered", now=start)
    from clients.services import admission_discharge

    admission_discharge(actor=cast["nurse"], admission=gone, discharged_at=timezone.now(),
                        discharge_type="completed")  # fmt: skip
    assert scan_cssrs_overdue() == 1
    assert Alert.objects.get(kind="cssrs_overdue").severity == "warning"


@pytest.mark.django_db
def test_striking_a_screen_that_answered_a_risk_flag_asks_for_it_again(cast, admission):
    screen_request_open(actor=cast["technician"], admission=admission, reason="risk_flag")
    screen = cssrs_screen_record(
        actor=cast["technician"], admission=admission, reason="risk_flag",
        answers={"q1": True, "q2": True, "q3": False, "q4": True, "q5": False, "q6": False},
    )  # fmt: skip
    cssrs_screen_strike(actor=cast["nurse"], screen=screen, reason="Wrong client")
    again = CssrsRequest.objects.get(answered_by__isnull=True)
    assert again.reason == "risk_flag"
    assert "struck" in again.detail
    # A strike never silences the high-risk alert; the safety-plan prompt closes with it.
    assert Alert.objects.open().filter(kind="cssrs_high").count() == 1
    assert not Alert.objects.open().filter(kind="cssrs_safety_plan").exists()


@pytest.mark.django_db
def test_the_screens_due_list_reads_a_fixed_number_of_queries(
    client, cast, facility, django_assert_max_num_queries
):
    def page():
        with django_assert_max_num_queries(13):
            return client.get(reverse("observations:cssrs_due")).content.decode()

    client.force_login(cast["nurse"])
    stays = [admit(facility, cast["nurse"], n=n) for n in range(1, 4)]
    screen_request_open(actor=cast["clinician"], admission=stays[0], reason="ordered")
    assert page().count("Screen now") == 3
    stays += [admit(facility, cast["nurse"], n=n) for n in range(4, 10)]
    assert page().count("Screen now") == 9


@pytest.mark.django_db
def test_the_screens_appear_on_the_chart_timeline_as_risk_screens(cast, admission):
    screen = cssrs_screen_record(
        actor=cast["nurse"], admission=admission, reason="admission",
        answers={"q1": True, "q2": True, "q3": True, "q4": False, "q5": False, "q6": False},
    )  # fmt: skip
    assert registry.timeline_labels["cssrs"] == "Risk screens"
    now = timezone.now()
    entries = registry.timeline(admission, since=now - timedelta(days=1), until=now + timedelta(
        minutes=1), user=cast["nurse"], kinds=["cssrs"])  # fmt: skip
    assert [(e.kind, e.title, e.text) for e in entries] == [
        ("cssrs", "C-SSRS: Moderate risk", "Yes to 1, 2, 3.")
    ]
    assert entries[0].href == reverse("observations:cssrs_result", args=[screen.public_id])


@pytest.mark.django_db
def test_the_overdue_scan_is_a_beat_task_that_runs_every_scan_interval(cast, admission):
    from django.conf import settings

    from observations import tasks

    schedule = {e["task"]: e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["observations.tasks.scan_cssrs_overdue"] == settings.HAVEN_SCAN_SECONDS
    screen_request_open(actor=cast["clinician"], admission=admission, reason="ordered",
                        now=timezone.now() - timedelta(hours=5))  # fmt: skip
    assert tasks.scan_cssrs_overdue() == 1
    assert Alert.objects.filter(kind="cssrs_overdue").count() == 1
