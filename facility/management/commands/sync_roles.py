"""Make the five role Groups hold exactly the permissions facility/roles.py declares."""

from django.core.management.base import BaseCommand

from facility.services import roles_sync


class Command(BaseCommand):
    help = "Create or update the role groups from facility/roles.py (idempotent)."

    def handle(self, *args, **options):
        changes = roles_sync()
        for line in changes:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Roles in sync ({len(changes)} changes)."))
