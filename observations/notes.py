"""Note formats and the late-entry rule (specs/charting.md). Pure Python, no Django.

A narrative is stored as {section key: text} in the order its format lists; a late entry is a
note recorded after the shift that holds its event time had ended, judged on the facility's
shift pattern and clock (facility/shifts.py), so it follows DST like the shifts do.
"""

from datetime import datetime, tzinfo

from facility.shifts import current_shift, shift_bounds

FORMAT_SECTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "birp": (
        ("behavior", "Behavior"),
        ("intervention", "Intervention"),
        ("response", "Response"),
        ("plan", "Plan"),
    ),
    "dap": (("data", "Data"), ("assessment", "Assessment"), ("plan", "Plan")),
    "soap": (
        ("subjective", "Subjective"),
        ("objective", "Objective"),
        ("assessment", "Assessment"),
        ("plan", "Plan"),
    ),
    "narrative": (("narrative", "Narrative"),),
}

SECTION_MAX = 4000  # characters per section


def sections_of(note_format: str) -> tuple[tuple[str, str], ...]:
    """The (key, label) sections of a format; ValueError for an unknown one."""
    try:
        return FORMAT_SECTIONS[note_format]
    except KeyError:
        raise ValueError(f"unknown note format: {note_format!r}") from None


def clean_sections(note_format: str, sections: dict) -> dict[str, str]:
    """Only the format's sections, stripped, in its order; empty ones left out. ValueError for a
    key the format does not have or a section over SECTION_MAX characters."""
    allowed = dict(sections_of(note_format))
    unknown = set(sections) - set(allowed)
    if unknown:
        raise ValueError(f"not a section of {note_format}: {', '.join(sorted(unknown))}")
    cleaned = {}
    for key, _label in sections_of(note_format):
        text = (sections.get(key) or "").strip()
        if len(text) > SECTION_MAX:
            raise ValueError(f"{allowed[key]}: at most {SECTION_MAX} characters")
        if text:
            cleaned[key] = text
    return cleaned


def is_late_entry(event_at: datetime, recorded_at: datetime, pattern: str, tz: tzinfo) -> bool:
    """Recorded after the end of the shift that holds the event time."""
    day, key = current_shift(event_at, pattern, tz)
    _start, end = shift_bounds(day, key, pattern, tz)
    return recorded_at >= end
