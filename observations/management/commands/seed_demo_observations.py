"""Round codes, security areas and one recent round for the demo facility (idempotent).

Called by `seed_demo` by name, so the clients app does not import this one.
"""

import uuid
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from clients.models import Admission
from facility import policy
from facility.models import Facility, User
from observations.models import CodeKind, RoundCheck, RoundCode
from observations.services import (
    RoundEntry,
    codes_seed_defaults,
    round_submit,
    security_areas_seed_defaults,
)


class Command(BaseCommand):
    help = "Seed round codes, security areas and a recent round for every facility."

    @transaction.atomic
    def handle(self, *args, **options):
        for facility in Facility.objects.all():
            codes_seed_defaults(facility)
            security_areas_seed_defaults(facility)
            admissions = list(
                Admission.objects.current().filter(facility=facility).select_related("client")
            )
            tech = (
                User.objects.filter(facilities=facility, role__in=policy.roles_with("floor.chart"))
                .order_by("pk")  # the first floor staff seeded: the demo technician
                .first()
            )
            if (
                not admissions
                or tech is None
                or RoundCheck.objects.filter(admission__facility=facility).exists()
            ):
                continue
            room = RoundCode.objects.get(facility=facility, kind=CodeKind.LOCATION, code="RM")
            day = RoundCode.objects.get(facility=facility, kind=CodeKind.LOCATION, code="DAY")
            calm = RoundCode.objects.get(facility=facility, kind=CodeKind.STATUS, code="A")
            tv = RoundCode.objects.get(facility=facility, kind=CodeKind.STATUS, code="R")
            now = timezone.now() - timedelta(minutes=1)
            round_submit(
                actor=tech,
                facility=facility,
                submission_key=uuid.uuid4(),
                observed_at=now,
                now=now,
                entries=[
                    RoundEntry(a, room if i % 3 else day, calm if i % 2 else tv)
                    for i, a in enumerate(admissions)
                ],
            )
        self.stdout.write(self.style.SUCCESS("Rounds demo data in place."))
