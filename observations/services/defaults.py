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
    """Give a facility the spec's default location and status codes (idempotent): the missing
    ones in one INSERT. Like every facility default, they come with the facility's creation,
    which is the audited event; a later change of a code is audited as usual."""
    have = set(RoundCode.objects.filter(facility=facility).values_list("kind", "code"))
    missing = [
        RoundCode(
            facility=facility,
            kind=kind,
            code=code,
            label=label,
            position=position,
            needs_respirations=code == "S",
            raises_alert=code == "SIB",
        )
        for kind, rows in (
            (CodeKind.LOCATION, DEFAULT_LOCATIONS),
            (CodeKind.STATUS, DEFAULT_STATUSES),
        )
        for position, (code, label) in enumerate(rows)
        if (kind, code) not in have
    ]
    RoundCode.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


@transaction.atomic
def security_areas_seed_defaults(facility: Facility) -> int:
    """Give a facility the default security round areas (idempotent), as the codes above."""
    have = set(SecurityArea.objects.filter(facility=facility).values_list("name", flat=True))
    missing = [
        SecurityArea(facility=facility, name=name, position=position)
        for position, name in enumerate(DEFAULT_SECURITY_AREAS)
        if name not in have
    ]
    SecurityArea.objects.bulk_create(missing)
    return len(missing)
