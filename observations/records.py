"""The observations app's record categories (issue 16): vitals and withdrawal scores, progress
and behavior notes, observation levels with a daily rounds summary, C-SSRS screens and group
attendance, for a disclosure packet or the client's own copy (facility/registry.py).

Each renders one client's records in [start, end) in a fixed number of queries. Incident
reports are administrative and never a category. SUD counseling notes are registered by the
counseling notes' own module with `own_consent="counseling"`.
"""

from django.db.models import Count, Max, Min, Prefetch, Q
from django.db.models.functions import TruncDate

from facility.registry import RecordCategory, register_record_category
from observations.models import (
    BehaviorNote,
    CssrsScreen,
    GroupAttendance,
    LevelOrder,
    NoteAddendum,
    ProgressNote,
    RoundCheck,
    ScaleAssessment,
    VitalSigns,
)
from observations.notes import FORMAT_SECTIONS


def vitals(*, client, start, end, user=None) -> dict:
    """Vital sign sets and CIWA-Ar/COWS scores: two queries."""
    sets = list(
        VitalSigns.objects.filter(admission__client=client, taken_at__gte=start, taken_at__lt=end)
        .select_related("recorded_by")
        .order_by("taken_at", "pk")
    )
    scores = list(
        ScaleAssessment.objects.filter(
            admission__client=client, assessed_at__gte=start, assessed_at__lt=end
        )
        .select_related("recorded_by")
        .order_by("assessed_at", "pk")
    )
    return {"sets": sets, "scores": scores}


def _labelled(note_format: str, sections: dict) -> list[tuple[str, str]]:
    """(label, text) of a note's sections in its format's order, blank ones left out."""
    known = FORMAT_SECTIONS.get(note_format, ())
    out = [(label, sections.get(key, "")) for key, label in known]
    out += [(key.title(), text) for key, text in sections.items() if key not in dict(known)]
    return [(label, text) for label, text in out if str(text).strip()]


def progress_notes(*, client, start, end, user=None) -> dict:
    """Signed progress notes with their addenda, and behavior notes; struck entries stay, shown
    struck. Drafts are their author's only and never leave: three queries."""
    notes = list(
        ProgressNote.objects.filter(
            admission__client=client,
            signed_at__isnull=False,
            event_at__gte=start,
            event_at__lt=end,
        )
        .select_related("author", "cosigned_by")
        .prefetch_related(
            Prefetch(
                "addenda",
                queryset=NoteAddendum.objects.select_related("author").order_by("recorded_at"),
            )
        )
        .order_by("event_at", "pk")
    )
    for note in notes:
        note.labelled = _labelled(note.note_format, note.sections or {})
    behavior = list(
        BehaviorNote.objects.filter(
            admission__client=client, observed_at__gte=start, observed_at__lt=end
        )
        .select_related("recorded_by")
        .order_by("observed_at", "pk")
    )
    for note in behavior:
        note.labelled = _labelled(note.narrative_format, note.narrative or {})
    return {"notes": notes, "behavior": behavior}


def observation(*, client, start, end, user=None) -> dict:
    """Levels ordered (the one in force at the start too) and one line per day of rounds (how
    many checks, safety concerns, first and last): two queries, whatever the number of checks."""
    levels = list(
        LevelOrder.objects.filter(admission__client=client, effective_from__lt=end)
        .select_related("ordered_by", "confirmed_by")
        .order_by("effective_from", "pk")
    )
    before = [lv for lv in levels if lv.effective_from < start]
    levels = before[-1:] + [lv for lv in levels if lv.effective_from >= start]
    days = list(
        RoundCheck.objects.filter(
            admission__client=client, observed_at__gte=start, observed_at__lt=end
        )
        .annotate(day=TruncDate("observed_at", tzinfo=client.facility.tz))
        .values("day")
        .annotate(
            checks=Count("pk"),
            concerns=Count("pk", filter=Q(safety_concern=True)),
            first=Min("observed_at"),
            last=Max("observed_at"),
        )
        .order_by("day")
    )
    return {"levels": levels, "days": days}


def risk_screens(*, client, start, end, user=None) -> dict:
    """C-SSRS screens: one query."""
    screens = list(
        CssrsScreen.objects.filter(
            admission__client=client, screened_at__gte=start, screened_at__lt=end
        )
        .select_related("recorded_by")
        .order_by("screened_at", "pk")
    )
    return {"screens": screens}


def groups(*, client, start, end, user=None) -> dict:
    """Group attendance: one query."""
    rows = list(
        GroupAttendance.objects.filter(
            admission__client=client, session__starts_at__gte=start, session__starts_at__lt=end
        )
        .select_related("session__topic", "session__facilitator")
        .order_by("session__starts_at", "pk")
    )
    return {"rows": rows}


for _category in (
    RecordCategory("vitals", "Vital signs and withdrawal scores (CIWA-Ar, COWS)",
                   "observations/records/vitals.html", vitals, order=30),
    RecordCategory("progress_notes", "Progress notes and behavior notes",
                   "observations/records/progress_notes.html", progress_notes, order=40),
    RecordCategory("observation", "Observation levels and rounds",
                   "observations/records/observation.html", observation, order=50),
    RecordCategory("risk_screens", "Suicide risk screens (C-SSRS)",
                   "observations/records/risk_screens.html", risk_screens, order=60),
    RecordCategory("groups", "Group attendance",
                   "observations/records/groups.html", groups, order=70),
):  # fmt: skip
    register_record_category(_category)
