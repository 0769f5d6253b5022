"""Walk the access log's hash chain and report the first broken link (privacy.md, audit)."""

import sys

from django.core.management.base import BaseCommand

from facility.services import access_chain_verify


class Command(BaseCommand):
    help = "Verify the access log hash chain; exits 1 at the first broken link."

    def handle(self, *args, **options):
        broken = access_chain_verify()
        if broken is None:
            self.stdout.write(self.style.SUCCESS("Access log chain intact."))
            return
        self.stderr.write(f"Broken link at access event {broken.pk} ({broken}).")
        sys.exit(1)
