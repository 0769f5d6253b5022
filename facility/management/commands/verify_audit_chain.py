"""Verify the audit chain (privacy.md, audit controls; issue 16 item 7).

Seals the data changes not sealed yet, walks the access log's hash chain, recomputes every
data-change seal and checks every anchor in HAVEN_AUDIT_ANCHOR_PATH, then records the
verification and anchors the chain when it is intact. Exits 1 at a broken link or when anchors
are missing, naming the first broken link; supervisors get a critical alert either way.
"""

import sys

from django.core.management.base import BaseCommand

from facility.audit_chain import verify


class Command(BaseCommand):
    help = "Verify the audit chain against its seals and anchors; exits 1 when broken."

    def add_arguments(self, parser):
        parser.add_argument("--no-alert", action="store_true", help="Report only; raise no alert.")

    def handle(self, *args, **options):
        report = verify(alert=not options["no_alert"])
        first = report.first
        if first is None and not report.missing_anchor:
            self.stdout.write(self.style.SUCCESS(report.summary()))
            return
        if first is not None:
            self.stderr.write(f"Broken link: {first.message}")
            for problem in sorted(report.problems, key=lambda p: p.position)[1:]:
                self.stderr.write(f"  also: {problem.message}")
        if report.missing_anchor:
            self.stderr.write(f"Anchors missing: {report.missing_anchor}")
        sys.exit(1)
