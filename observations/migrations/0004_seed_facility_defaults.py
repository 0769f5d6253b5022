# Pages no longer create round codes or security areas on first view (issue 8: no writes on GET);
# a facility gets them when it is created. Facilities made before that get them here. The lists
# are copied, not imported, so this migration means the same thing forever.

from django.db import migrations

LOCATIONS = [
    ("RM", "Own room"), ("BR", "Bathroom"), ("SH", "Shower"), ("DR", "Dining room"),
    ("DAY", "Day room"), ("GRP", "Group room"), ("HALL", "Hallway"), ("NS", "Nurses' station"),
    ("MED", "Medication window"), ("PH", "Phone"), ("OUT", "Outdoors with staff"),
    ("GYM", "Recreation"), ("OFF", "Off unit with escort"), ("SR", "Safety room"),
]  # fmt: skip
STATUSES = [
    ("S", "Sleeping"), ("RB", "Resting in bed, eyes open"), ("A", "Awake, calm"),
    ("T", "Talking/socializing"), ("G", "In group"), ("E", "Eating"), ("R", "Reading/TV"),
    ("W", "Walking"), ("P", "Pacing"), ("AN", "Anxious"), ("AG", "Agitated"), ("CR", "Crying"),
    ("IS", "Isolative"), ("RIS", "Responding to internal stimuli"),
    ("V", "Verbally aggressive"), ("PA", "Physically aggressive"),
    ("SIB", "Self-injurious behavior"), ("REF", "Refused interaction"), ("TOIL", "Toileting"),
]  # fmt: skip
AREAS = [
    "Exterior doors", "Windows and screens", "Bathrooms", "Outdoor areas", "Medication room",
    "Sharps storage", "Laundry and chemicals",
]  # fmt: skip


def seed(apps, schema_editor):
    """What the pages used to create on first view: codes when a facility had no active one,
    areas when it had none at all (retired ones are an admin's choice and stay as they are)."""
    Facility = apps.get_model("facility", "Facility")
    RoundCode = apps.get_model("observations", "RoundCode")
    SecurityArea = apps.get_model("observations", "SecurityArea")
    for facility in Facility.objects.all():
        if not RoundCode.objects.filter(facility=facility, active=True).exists():
            for kind, rows in (("location", LOCATIONS), ("status", STATUSES)):
                for position, (code, label) in enumerate(rows):
                    RoundCode.objects.get_or_create(
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
        if not SecurityArea.objects.filter(facility=facility).exists():
            for position, name in enumerate(AREAS):
                SecurityArea.objects.create(facility=facility, name=name, position=position)


class Migration(migrations.Migration):
    dependencies = [
        ("observations", "0003_recorded_at"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
