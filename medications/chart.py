"""The MAR section of the client chart: active orders and today's doses."""

from datetime import timedelta

from django.utils import timezone

from facility import policy
from facility.registry import (
    ChartSection,
    TimelineEntry,
    register_chart_section,
    register_expected_analytes_source,
    register_score_trigger_source,
    register_timeline_source,
)
from medications.analytes import expected_analytes
from medications.models import Order, ScheduledDose
from medications.services import dose_views, live_prefetch
from medications.services.holds import score_triggers


def _mar(request, client, admission):
    if admission is None:
        return {"admission": None}
    now = timezone.now()
    orders = list(
        Order.objects.filter(admission=admission, discontinued_at__isnull=True)
        .select_related("medication")
        .order_by("medication__name")
    )
    doses = list(
        ScheduledDose.objects.filter(
            order__admission=admission,
            scheduled_at__gte=now - timedelta(hours=12),
            scheduled_at__lt=now + timedelta(hours=12),
        )
        .select_related("order__medication")
        .prefetch_related(live_prefetch())
        .order_by("order_id", "scheduled_at")
    )
    views = sorted(dose_views(doses, now), key=lambda v: v.dose.scheduled_at)
    user = request.user
    return {
        "admission": admission,
        "orders": orders,
        "views": views,
        "can_open": policy.allows(user, "mar.use"),
    }


register_chart_section(
    ChartSection(
        key="mar",
        title="Medications (MAR)",
        template="medications/sections/mar.html",
        render=_mar,
        order=30,
    )
)

# The withdrawal board (observations) lists the PRN a score now indicates (issue 11).
register_score_trigger_source("medications", score_triggers)


# --- The chart timeline (issue 12 item 2): MAR exceptions ------------------------------------

# Documented this long after the dose's time: a late entry (DESIGN.md §2, entries without a rule
# of their own).
MAR_LATE_ENTRY = timedelta(minutes=60)


def _mar_timeline(admission, *, since, until, user) -> list[TimelineEntry]:
    """Doses not given as ordered: refused, held, unavailable, off the unit, omitted, not given,
    given early or late (struck ones shown struck), and doses marked missed that nobody has
    documented since. Two queries for any period.

    A dose given is placed at the time it was given; one not given at the time it was charted
    (a refusal can come before the dose's time), with its due time in the text."""
    from django.db.models import Exists, OuterRef, Q
    from django.db.models.functions import Coalesce
    from django.urls import reverse

    from medications.models import Administration, Outcome, Timing

    tz = admission.facility.tz
    href = reverse("medications:med_pass", args=[admission.public_id])
    documented = (
        Administration.objects.filter(order__admission=admission)
        .annotate(event_at=Coalesce("given_at", "recorded_at"))
        .filter(event_at__gte=since, event_at__lte=until)
        .filter(~Q(outcome=Outcome.GIVEN) | Q(timing__in=[Timing.EARLY, Timing.LATE]))
        .select_related("order__medication", "recorded_by", "struck_by", "dose")
    )
    entries = []
    for a in documented:
        label = a.get_outcome_display()
        if a.outcome == Outcome.GIVEN:
            label = a.get_timing_display()
        if a.dose is None:
            label += " (PRN)"
        due = ""
        if a.dose is not None:
            due = f"due {timezone.localtime(a.dose.scheduled_at, tz):%H:%M}"
        text = " · ".join(t for t in (due, a.reason) if t)
        struck_note = ""
        if a.struck_at is not None:
            who = a.struck_by.signature if a.struck_by else ""
            struck_note = (
                f"Entered in error: {a.struck_reason} — {who}, "
                f"{timezone.localtime(a.struck_at, tz):%Y-%m-%d %H:%M}"
            )
        entries.append(
            TimelineEntry(
                kind="mar",
                at=a.event_at,
                title=f"{label}: {a.order.medication} — {a.order.dose}",
                text=text,
                author=a.recorded_by.signature,
                href=href,
                recorded_at=a.recorded_at,
                struck=a.struck_at is not None,
                struck_note=struck_note,
                late=a.recorded_at - a.event_at > MAR_LATE_ENTRY,
            )
        )
    live = Administration.objects.filter(dose=OuterRef("pk"), struck_at__isnull=True)
    missed = (
        ScheduledDose.objects.filter(
            order__admission=admission,
            marked_missed_at__isnull=False,
            scheduled_at__gte=since,
            scheduled_at__lte=until,
        )
        .exclude(Exists(live))
        .select_related("order__medication")
    )
    for d in missed:
        entries.append(
            TimelineEntry(
                kind="mar",
                at=d.scheduled_at,
                title=f"Missed: {d.order.medication} — {d.order.dose}",
                text=f"due {timezone.localtime(d.scheduled_at, tz):%H:%M}, not documented",
                href=href,
            )
        )
    return entries


register_timeline_source("mar", "MAR exceptions", _mar_timeline)

# Screening shows a presumptive positive the client's orders explain as expected (issue 13).
register_expected_analytes_source("medications", expected_analytes)
