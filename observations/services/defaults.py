"""A facility's defaults: the round codes and security round areas it starts with (specs/rounds.md).

Seeded when a facility is made (registered in observations/apps.py) and by seed_demo, never by a
page on first view (issue 8)."""

from django.db import transaction

from facility.models import Facility
from observations.models import CodeKind, RoundCode, SecurityArea

DEFAULT_LOCATIONS = [
    ("RM", "Own room"), ("BR", "Bathroom"), ("SH", "Shower"), ("DR", "Dining room"),
    ("DAY", "Day room"), ("GRP", "Group room"), ("HALL", "Hallway"), ("NS", "Nurses' station"),
    ("MED", "Medication window"), ("PH", "Phone"), ("OUT", "Outdoors with staff"),
    ("GYM", "Recreation"), ("OFF", "Off unit with escort"), ("SR", "Safety room"),
]  # fmt: skip
DEFAULT_STATUSES = [
    ("S", "Sleeping"), ("RB", "Resting in bed, eyes open"), ("A", "Awake, calm"),
    ("T", "Talking/socializing"), ("G", "In group"), ("E", "Eating"), ("R", "Reading/TV"),
    ("W", "Walking"), ("P", "Pacing"), ("AN", "Anxious"), ("AG", "Agitated"), ("CR", "Crying"),
    ("IS", "Isolative"), ("RIS", "Responding to internal stimuli"),
    ("V", "Verbally aggressive"), ("PA", "Physically aggressive"),
    ("SIB", "Self-injurious behavior"), ("REF", "Refused interaction"), ("TOIL", "Toileting"),
]  # fmt: skip
DEFAULT_SECURITY_AREAS = [
    "Exterior doors", "Windows and screens", "Bathrooms", "Outdoor areas", "Medication room",
    "Sharps storage", "Laundry and chemicals",
]  # fmt: skip


@transaction.atomic
def codes_seed_defaults(facility: Facility) -> int:
    """Give a facility the spec's default location and status codes (idempotent)."""
    created = 0
    for kind, rows in ((CodeKind.LOCATION, DEFAULT_LOCATIONS), (CodeKind.STATUS, DEFAULT_STATUSES)):
        for position, (code, label) in enumerate(rows):
            _, made = RoundCode.objects.get_or_create(
                facility=facility,
                kind=kind,
                code=code,
                defaults={
                    "label": label,
                    "position": position,
                    "needs_respirations": code == "S",
                    "raises_alert": code == "SIB",
                },
            )
            created += made
    return created


@transaction.atomic
def security_areas_seed_defaults(facility: Facility) -> int:
    """Give a facility the default security round areas (idempotent)."""
    made = 0
    for position, name in enumerate(DEFAULT_SECURITY_AREAS):
        made += SecurityArea.objects.get_or_create(
            facility=facility, name=name, defaults={"position": position}
        )[1]
    return made
