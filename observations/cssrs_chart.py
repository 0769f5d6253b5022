"""What the C-SSRS screen adds to the client chart (issue 12 item 3): a section (the last screen
with its result and date, what is owed, "Screen now" and a clinician's "Order a C-SSRS
screen") and the "Risk screens" source of the chart timeline. Registered from chart.py."""

from django.urls import reverse
from django.utils import timezone

from facility import policy
from facility.registry import TimelineEntry
from observations.models import CssrsScreen
from observations.services.cssrs import screens_owed


def cssrs_section(request, client, admission) -> dict:
    """The section's context in three queries: the stay's screens (newest first), what is
    owed, and nothing more."""
    if admission is None:
        return {"admission": None}
    screens = list(
        CssrsScreen.objects.filter(admission=admission)
        .select_related("recorded_by")
        .order_by("-screened_at", "-id")[:10]
    )
    user = request.user
    is_open = admission.is_open
    return {
        "admission": admission,
        "screens": screens,
        "last": next((s for s in screens if s.struck_at is None), None),
        "owed": screens_owed([admission]).get(admission.pk) if is_open else None,
        "can_screen": is_open and policy.allows(user, "cssrs.screen", admission),
        "can_order": is_open and policy.allows(user, "cssrs.order", admission),
    }


def _yes_text(screen: CssrsScreen) -> str:
    yes = [k.removeprefix("q").replace("6_recent", "6 (past 3 months)") for k, v in
           screen.answers.items() if v]  # fmt: skip
    text = f"Yes to {', '.join(yes)}." if yes else "No to every question asked."
    if screen.result == "high":
        plan = {True: "started or reviewed", False: "not started"}.get(
            screen.safety_plan, "not recorded"
        )
        text += f" Safety plan: {plan}."
    if screen.remark:
        text += f" {screen.remark}"
    return text


def cssrs_timeline(admission, *, since=None, until=None, user=None) -> list[TimelineEntry]:
    """The stay's screens between two instants, struck ones shown struck; one query."""
    rows = CssrsScreen.objects.filter(admission=admission).select_related(
        "recorded_by", "struck_by"
    )
    if since is not None:
        rows = rows.filter(screened_at__gte=since)
    if until is not None:
        rows = rows.filter(screened_at__lt=until)
    entries = []
    for screen in rows.order_by("-screened_at"):
        struck_note = ""
        if screen.struck_at is not None:
            when = timezone.localtime(screen.struck_at, admission.facility.tz)
            struck_note = (
                f"Entered in error: {screen.struck_reason} ({screen.struck_by.signature}, "
                f"{when:%Y-%m-%d %H:%M})"
            )
        entries.append(
            TimelineEntry(
                kind="cssrs",
                at=screen.screened_at,
                title=f"C-SSRS: {screen.get_result_display()}",
                text=_yes_text(screen),
                author=screen.recorded_by.signature,
                href=reverse("observations:cssrs_result", args=[screen.public_id]),
                recorded_at=screen.recorded_at,
                struck=screen.struck_at is not None,
                struck_note=struck_note,
            )
        )
    return entries
