"""The group curriculum and weekly targets for every facility, and for one with clients and no
group yet a few groups (issue 12 item 5): yesterday's psychoeducation and this morning's process
group documented, a skills group for later today to document (idempotent).

Called by `seed_demo` by name, so the clients app does not import this one.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from clients.models import Admission
from facility.models import Facility, Unit
from observations.models import GroupSession, GroupTopic
from observations.services.groups import (
    AttendanceRow,
    facilitator_choices,
    group_attendance_document,
    group_session_create,
    groups_seed_defaults,
    session_roster,
)

# The demo's day, by hours from now: (hours back, minutes, topic, unit index or None, document).
DEMO_GROUPS = [
    (26, 60, "Addiction and the brain", None, True),
    (3, 90, "Process group", None, True),
    (-2, 60, "DBT: distress tolerance", 0, False),
]


class Command(BaseCommand):
    help = "Seed the group curriculum, weekly targets and a few documented groups (demo)."

    @transaction.atomic
    def handle(self, *args, **options):
        for facility in Facility.objects.all():
            groups_seed_defaults(facility)
            if GroupSession.objects.filter(facility=facility).exists():
                continue
            if not Admission.objects.current().filter(facility=facility).exists():
                continue
            staff = list(facilitator_choices(facility))
            if not staff:
                continue
            # A clinician leads where there is one (counselors run most groups), a tech assists.
            lead = next((u for u in staff if u.role == "clinician"), staff[0])
            co = next((u for u in staff if u.pk != lead.pk and u.role == "technician"), None)
            units = list(Unit.objects.filter(facility=facility).order_by("name"))
            now = timezone.now()
            for back, minutes, title, unit_index, document in DEMO_GROUPS:
                start = (now - timedelta(hours=back)).replace(minute=0, second=0, microsecond=0)
                session = group_session_create(
                    actor=lead,
                    facility=facility,
                    topic=GroupTopic.objects.get(facility=facility, title=title),
                    facilitator=lead,
                    co_facilitator=co,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=minutes),
                    location="Group room",
                    unit=units[unit_index] if unit_index is not None and units else None,
                    now=now,
                )
                if document:
                    self._document(co or lead, session, minutes, now)
            self.stdout.write(f"Seeded demo groups for {facility.name}.")

    @staticmethod
    def _document(actor, session, minutes, now):
        """Most present, one partial, one refused; clients on leave excused automatically."""
        rows = []
        for i, line in enumerate(session_roster(session)):
            if line.locked:
                continue
            if i == 2:
                rows.append(AttendanceRow(line.admission, "partial", minutes=minutes // 2))
            elif i == 5:
                rows.append(AttendanceRow(line.admission, "refused", note="Stayed in room"))
            else:
                rows.append(
                    AttendanceRow(
                        line.admission, "present", participation="active" if i % 3 else ""
                    )
                )
        group_attendance_document(actor=actor, session=session, rows=rows, now=now)
