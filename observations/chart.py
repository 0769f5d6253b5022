"""The sections observations adds to the client chart: rounds (current level, observer and any
hand-off waiting for its incoming observer, last checks, missed today) and vital signs (latest set,
trends, history)."""

from datetime import datetime, time

from django.utils import timezone

from facility import policy
from facility.models import Alert
from facility.registry import ChartSection, register_chart_section
from observations.forms import ObserverForm
from observations.models import LevelOrder
from observations.services import current_levels, pending_handoff
from observations.vitals_chart import vitals_section


def _rounds(request, client, admission):
    if admission is None or not admission.is_open:
        return {"admission": None}
    now = timezone.now()
    level = current_levels([admission], now)[admission.pk]
    tz = admission.facility.tz
    midnight = datetime.combine(timezone.localtime(now, tz).date(), time.min, tzinfo=tz)
    checks = list(
        admission.round_checks.select_related("location", "status", "recorded_by").order_by(
            "-observed_at"
        )[:8]
    )
    missed_today = Alert.objects.filter(
        kind="missed_check", client_public_id=client.public_id, raised_at__gte=midnight
    ).count()
    observer = (
        admission.observer_assignments.filter(ended_at__isnull=True)
        .select_related("observer")
        .first()
    )
    user = request.user
    can_chart = level.is_continuous and policy.allows(user, "floor.chart", admission)
    handoff = pending_handoff(admission) if level.is_continuous else None
    return {
        "admission": admission,
        "level": level,
        "checks": checks,
        "missed_today": missed_today,
        "observer": observer,
        "history": list(
            LevelOrder.objects.filter(admission=admission).select_related("ordered_by")[:10]
        ),
        "can_change": policy.allows(user, "level.change", admission),
        "can_confirm": policy.allows(user, "level.order", admission),
        "handoff": handoff,
        # Only the person offered accepts or declines; anyone who charts may withdraw.
        "offered_to_me": handoff is not None and handoff.to_observer_id == user.pk,
        "can_chart": can_chart,
        "observer_form": ObserverForm(facility=admission.facility)
        if can_chart and handoff is None
        else None,
        "i_observe": observer is not None and observer.observer_id == user.pk,
    }


register_chart_section(
    ChartSection(
        key="rounds",
        title="Observation level and rounds",
        template="observations/sections/rounds.html",
        render=_rounds,
        order=5,
    )
)


# --- Vital signs (issue 11 items 1, 2 and 4): built in observations/vitals_chart.py ----------

register_chart_section(
    ChartSection(
        key="vitals",
        title="Vital signs",
        template="observations/sections/vitals.html",
        render=vitals_section,
        order=20,
        capability="vitals.view",
    )
)


# --- Withdrawal (issue 11 item 5) -------------------------------------------------------------


def _withdrawal(request, client, admission):
    """Open protocols with when the next score is due, ended ones, and the scores of the stay
    (struck ones shown struck). Three to five queries, whatever the history."""
    from observations import withdrawal as rules
    from observations.models import ScaleAssessment, WithdrawalProtocol
    from observations.services.withdrawal import protocol_statuses

    if admission is None:
        return {"admission": None}
    now = timezone.now()
    protocols = list(
        WithdrawalProtocol.objects.filter(admission=admission)
        .select_related("ordered_by", "ended_by")
        .order_by("-started_at")
    )
    open_ = [p for p in protocols if p.ended_at is None]
    statuses = protocol_statuses([admission.pk], now=now, protocols=open_) if open_ else {}
    scores = list(
        ScaleAssessment.objects.filter(admission=admission)
        .select_related("recorded_by")
        .order_by("-assessed_at", "-id")[:20]
    )
    user = request.user
    return {
        "admission": admission,
        "open": [statuses[p.pk] for p in open_ if p.pk in statuses],
        "ended": [p for p in protocols if p.ended_at is not None][:5],
        "scores": [
            (s, rules.SCALE_NAMES[s.scale], rules.BAND_NAMES.get(s.band, s.band)) for s in scores
        ],
        "can_order": admission.is_open and policy.allows(user, "withdrawal.order", admission),
        "can_assess": admission.is_open and policy.allows(user, "withdrawal.assess", admission),
        "scales": list(rules.SCALE_NAMES.items()),
    }


register_chart_section(
    ChartSection(
        key="withdrawal",
        title="Withdrawal (CIWA-Ar, COWS)",
        template="observations/sections/withdrawal.html",
        render=_withdrawal,
        order=25,
        capability="withdrawal.view",
    )
)


def _register_withdrawal_readings():
    """The latest CIWA-Ar and COWS per stay for other apps (the MAR's score-triggered PRN)."""
    from facility.registry import register_reading_source
    from observations.services.withdrawal import latest_scores

    register_reading_source("withdrawal", latest_scores)


_register_withdrawal_readings()


# --- Behavior and mood notes (issue 12 item 1) --------------------------------------------------

BEHAVIOR_NOTES_SHOWN = 10


def _behavior_notes(request, client, admission):
    """The stay's most recent behavior notes (struck ones shown struck, with the reason), each
    with a strike form for its author, a nurse or a supervisor: one query, whatever the history."""
    from observations.models import BehaviorNote
    from observations.services import behavior_notes as service

    if admission is None:
        return {"admission": None}
    found = list(
        BehaviorNote.objects.filter(admission=admission)
        .select_related("recorded_by", "struck_by")
        .order_by("-observed_at", "-id")[: BEHAVIOR_NOTES_SHOWN + 1]
    )
    user, tz = request.user, admission.facility.tz
    rows = []
    for note in found[:BEHAVIOR_NOTES_SHOWN]:
        note.admission = admission  # the policy reads the stay: no query per note
        rows.append(
            {
                "note": note,
                "summary": service.note_summary(note),
                "sections": service.note_sections(note),
                "struck": service.struck_text(note, tz),
                "can_strike": note.struck_at is None
                and policy.allows(user, "behavior_note.strike", note),
            }
        )
    return {
        "admission": admission,
        "notes": rows,
        "more": len(found) > BEHAVIOR_NOTES_SHOWN,
        "shown": BEHAVIOR_NOTES_SHOWN,
        "can_write": admission.is_open and policy.allows(user, "behavior_note.write", admission),
    }


register_chart_section(
    ChartSection(
        key="behavior_notes",
        title="Behavior and mood notes",
        template="observations/sections/behavior_notes.html",
        render=_behavior_notes,
        order=8,
        capability="notes.view",
    )
)


def _register_behavior_timeline():
    """Behavior notes on the chart's timeline (the timeline page is issue 12 item 2's)."""
    from facility.registry import register_timeline_source
    from observations.services.behavior_notes import behavior_timeline

    register_timeline_source("behavior", "Behavior notes", behavior_timeline)


_register_behavior_timeline()


# --- Notes and the chart timeline (issue 12 item 2): sources and section in timeline.py -------

from observations import timeline  # noqa: E402, F401

# --- C-SSRS screens (issue 12 item 3): built in observations/cssrs_chart.py -------------------


def _register_cssrs():
    from facility.registry import register_timeline_source, register_workflow_alert
    from observations.cssrs_chart import cssrs_section, cssrs_timeline
    from observations.services.cssrs import SAFETY_PLAN_CLOSED_BY, SAFETY_PLAN_KIND

    register_chart_section(
        ChartSection(
            key="cssrs",
            title="Suicide-risk screening (C-SSRS)",
            template="observations/sections/cssrs.html",
            render=cssrs_section,
            order=7,
            capability="notes.view",
        )
    )
    register_timeline_source("cssrs", "Risk screens", cssrs_timeline)
    # A high screen's safety-plan alert closes only when a plan is recorded on the screen.
    register_workflow_alert(SAFETY_PLAN_KIND, SAFETY_PLAN_CLOSED_BY)


_register_cssrs()


# --- Groups (issue 12 item 5): built in observations/group_chart.py --------------------------


def _register_groups():
    from facility.registry import register_timeline_source
    from observations.group_chart import group_timeline, groups_section

    register_chart_section(
        ChartSection(
            key="groups",
            title="Groups",
            template="observations/sections/groups.html",
            render=groups_section,
            order=30,
            capability="groups.view",
        )
    )
    register_timeline_source("group", "Groups", group_timeline)


_register_groups()
