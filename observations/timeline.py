"""What observations adds to a client's chart timeline (issue 12 item 2), and the timeline's
chart section (the last 24 hours; the whole stay is observations:timeline).

Sources, each a fixed number of queries for any period:
- "note": progress notes with their addenda; a draft only for its author;
- "round": round checks with a remark or a safety concern;
- "vitals": sets with a flagged value or a NEWS2 band above low.
Imported by observations/chart.py, so the registrations happen at start-up.
"""

from datetime import timedelta

from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone

from facility import policy
from facility.registry import (
    ChartSection,
    TimelineEntry,
    register_chart_section,
    register_timeline_source,
    registry,
)
from observations.models import NoteAddendum, ProgressNote, RoundCheck, VitalSigns
from observations.notes import FORMAT_SECTIONS

FORMAT_SHORT = {"birp": "BIRP", "dap": "DAP", "soap": "SOAP", "narrative": "narrative"}
# NEWS2 bands that ask for more than the routine response (specs/scales.md).
NEWS2_RAISED = ("low-medium", "medium", "high")


def _stamp(when, tz) -> str:
    return f"{timezone.localtime(when, tz):%Y-%m-%d %H:%M}"


def _struck_note(obj, tz) -> str:
    return (
        f"Entered in error: {obj.struck_reason} — {obj.struck_by.signature}, "
        f"{_stamp(obj.struck_at, tz)}"
    )


def ordered_sections(note: ProgressNote) -> list[tuple[str, str]]:
    """(label, text) of the note's written sections in its format's order (PostgreSQL's jsonb
    keeps keys in an order of its own)."""
    return [
        (label, note.sections[key])
        for key, label in FORMAT_SECTIONS.get(note.note_format, ())
        if note.sections.get(key)
    ]


def note_status(note: ProgressNote, tz) -> str:
    """Where a note stands, in words: draft, signed, awaiting or with its co-signature."""
    if note.signed_at is None:
        return f"Draft, only you can see it · saved {_stamp(note.saved_at, tz)}"
    words = f"Signed {_stamp(note.signed_at, tz)}"
    if note.cosigned_at is not None:
        words += f" · co-signed by {note.cosigned_by.signature}, {_stamp(note.cosigned_at, tz)}"
    elif note.cosign_required and note.struck_at is None:
        words += " · awaiting co-signature"
    return words


def note_entries(admission, *, since, until, user) -> list[TimelineEntry]:
    """Progress notes of the stay by event time, with their addenda: two queries."""
    tz = admission.facility.tz
    notes = (
        ProgressNote.objects.filter(admission=admission, event_at__gte=since, event_at__lte=until)
        .filter(Q(signed_at__isnull=False) | Q(author_id=user.pk))
        .select_related("author", "cosigned_by", "struck_by")
        .prefetch_related(
            Prefetch("addenda", queryset=NoteAddendum.objects.select_related("author"))
        )
    )
    entries = []
    for note in notes:
        details = ordered_sections(note)
        details += [
            (f"Addendum · {a.author.signature} · {_stamp(a.recorded_at, tz)}", a.text)
            for a in note.addenda.all()
        ]
        draft = note.signed_at is None
        entries.append(
            TimelineEntry(
                kind="note",
                at=note.event_at,
                title=f"{'Draft progress note' if draft else 'Progress note'}"
                f" ({FORMAT_SHORT.get(note.note_format, note.note_format)})",
                text=note_status(note, tz),
                author=note.author.signature,
                href=reverse("observations:note", args=[note.public_id]),
                recorded_at=note.saved_at if draft else note.signed_at,
                struck=note.struck_at is not None,
                struck_note=_struck_note(note, tz) if note.struck_at else "",
                late=note.late_entry,
                details=tuple(details),
            )
        )
    return entries


def round_entries(admission, *, since, until, user) -> list[TimelineEntry]:
    """Round checks with a remark or a safety concern: one query."""
    checks = (
        RoundCheck.objects.filter(
            admission=admission, observed_at__gte=since, observed_at__lte=until
        )
        .filter(~Q(remark="") | Q(safety_concern=True))
        .select_related("location", "status", "recorded_by")
    )
    href = reverse("clients:chart", args=[admission.client.public_id]) + "#section-rounds"
    entries = []
    for c in checks:
        title = f"Round: {c.location.label}, {c.status.label}"
        if c.safety_concern:
            title += " · safety concern"
        # A check charted past its block's grace carries a late reason (rounds services).
        late = bool(c.late_reason) or c.source == "downtime"
        text = c.remark
        if c.late_reason:
            text += f"{' · ' if text else ''}Late: {c.late_reason}"
        entries.append(
            TimelineEntry(
                kind="round",
                at=c.observed_at,
                title=title,
                text=text,
                author=c.recorded_by.signature,
                href=href,
                recorded_at=c.recorded_at,
                late=late,
            )
        )
    return entries


def vitals_entries(admission, *, since, until, user) -> list[TimelineEntry]:
    """Sets with a flagged value or a NEWS2 band above low: one query."""
    from observations.services.vitals import flag_text

    sets = (
        VitalSigns.objects.filter(admission=admission, taken_at__gte=since, taken_at__lte=until)
        .filter(~Q(flags="") | Q(news2_band__in=NEWS2_RAISED))
        .select_related("recorded_by", "struck_by")
    )
    tz = admission.facility.tz
    entries = []
    for v in sets:
        flags = [flag_text(v, key) for key in v.flags.split(",") if key]
        title = "Vitals"
        if v.news2_total is not None:
            title += f": NEWS2 {v.news2_total} ({v.news2_band})"
        elif flags:
            title += " flagged"
        text = "; ".join(flags)
        if v.late_reason:
            text += f"{' · ' if text else ''}Late: {v.late_reason}"
        entries.append(
            TimelineEntry(
                kind="vitals",
                at=v.taken_at,
                title=title,
                text=text,
                author=v.recorded_by.signature,
                href=reverse("observations:vitals_result", args=[v.public_id]),
                recorded_at=v.recorded_at,
                struck=v.struck_at is not None,
                struck_note=_struck_note(v, tz) if v.struck_at else "",
                late=bool(v.late_reason),  # asked for past 15 minutes (vitals)
            )
        )
    return entries


register_timeline_source("note", "Progress notes", note_entries)
register_timeline_source("round", "Rounds remarks", round_entries)
register_timeline_source("vitals", "Vitals flags", vitals_entries)


# ---------------------------------------------------------------- the chart section

SECTION_HOURS = 24


def timeline_section(request, client, admission):
    """The last 24 hours of the timeline, the author's drafts of this stay, and "New note"."""
    if admission is None:
        return {"admission": None}
    user = request.user
    now = timezone.now()
    entries = registry.timeline(
        admission, since=now - timedelta(hours=SECTION_HOURS), until=now, user=user
    )
    drafts = list(
        ProgressNote.objects.filter(
            admission=admission, author_id=user.pk, signed_at__isnull=True
        ).order_by("-saved_at")
    )
    return {
        "admission": admission,
        "rows": [(e, registry.timeline_labels.get(e.kind, e.kind)) for e in entries],
        "drafts": drafts,
        "hours": SECTION_HOURS,
        "can_write": admission.is_open and policy.allows(user, "progress_note.write", admission),
        "can_cosign": policy.allows(user, "note.cosign"),
    }


register_chart_section(
    ChartSection(
        key="timeline",
        title="Notes and timeline (last 24 hours)",
        template="observations/sections/timeline.html",
        render=timeline_section,
        order=8,
        capability="notes.view",
    )
)
