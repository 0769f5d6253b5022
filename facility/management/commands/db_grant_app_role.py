"""Grant the non-owner app role its privileges; run as the owner after every `migrate`."""

import os

from django.core.management.base import BaseCommand, CommandError

from facility.db_roles import RoleError, db_role_grant


class Command(BaseCommand):
    help = (
        "Give the app role (what web, worker and beat connect as) SELECT/INSERT/UPDATE/DELETE on "
        "the tables, only INSERT/SELECT on the audit tables, no TRUNCATE and no ownership. "
        "Run it connected as the database owner (idempotent)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", default="haven_app", help="the app role (haven_app)")
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help="create the role if missing, and set its password, from this variable",
        )

    def handle(self, *args, role, password_env, **options):
        password = None
        if password_env:
            password = os.environ.get(password_env, "")
            if not password:
                raise CommandError(f"{password_env} is empty; the app role needs a password")
        try:
            done = db_role_grant(role=role, password=password)
        except RoleError as exc:
            raise CommandError(str(exc)) from exc
        for line in done:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"App role {role} granted."))
