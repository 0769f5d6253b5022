# Facilities made before issue 12 get the default group curriculum and weekly clinical-hours
# targets here (new ones get them when created: observations.services.groups). The lists are
# copied, not imported, so this migration means the same thing forever.

from decimal import Decimal

from django.db import migrations

CURRICULUM = [
    ("psychoeducation", "Addiction and the brain",
     "How substances change reward, stress and self-control."),
    ("psychoeducation", "Medications for addiction treatment",
     "Buprenorphine, methadone, naltrexone, acamprosate: what they do and myths."),
    ("psychoeducation", "Co-occurring disorders",
     "Depression, anxiety, trauma and substance use together."),
    ("process", "Process group", "Open group: what is coming up in treatment."),
    ("skills", "DBT: distress tolerance", "TIPP, self-soothe, radical acceptance."),
    ("skills", "DBT: emotion regulation", "Naming emotions, opposite action, PLEASE."),
    ("skills", "CBT: thoughts and cravings", "Thought records, urge surfing, coping cards."),
    ("relapse_prevention", "Triggers and high-risk situations",
     "People, places and feelings that lead to use."),
    ("relapse_prevention", "My relapse prevention plan",
     "Warning signs, coping steps and supports."),
    ("mutual_help", "12-step meeting (AA/NA)", "Peer-led meeting; not counted as clinical hours."),
    ("mutual_help", "SMART Recovery meeting", "Peer-led meeting; not counted as clinical hours."),
    ("life_skills", "Budgeting and work", "Money, benefits, job search."),
    ("life_skills", "Sleep, nutrition and routine", "Daily structure that supports recovery."),
    ("recreation", "Recreation and exercise",
     "Walk, gym or games; not counted as clinical hours."),
    ("family", "Family education group",
     "For clients and families: addiction, boundaries, support."),
]  # fmt: skip
TARGETS = {"3.7-WM": "5", "3.5": "15", "3.7": "15", "3.1": "5", "MH-RES": "10"}


def seed(apps, schema_editor):
    Facility = apps.get_model("facility", "Facility")
    GroupTopic = apps.get_model("observations", "GroupTopic")
    ClinicalHoursTarget = apps.get_model("observations", "ClinicalHoursTarget")
    for facility in Facility.objects.all():
        GroupTopic.objects.bulk_create(
            [
                GroupTopic(facility=facility, group_type=kind, title=title, description=about)
                for kind, title, about in CURRICULUM
            ],
            ignore_conflicts=True,
        )
        ClinicalHoursTarget.objects.bulk_create(
            [
                ClinicalHoursTarget(
                    facility=facility, level_of_care=level, hours_per_week=Decimal(hours)
                )
                for level, hours in TARGETS.items()
            ],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [("observations", "0007_notes_screens_incidents_groups")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
