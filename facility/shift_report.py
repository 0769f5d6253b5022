"""The shift report (issue 15; specs/shift-report.md), composed from what each app registers in
its `report.py` (facility/registry.py: a roster, report sections, dashboard tiles). This module
imports no domain app: it asks the registry for the stays, each section for its lines, and
orders the clients by concern.

A client with any line of concern ≥ 1 is *expanded* (something to hand off); the rest take one
line each. Clients are ordered by their highest concern, then by the heaviest line of that
concern (`ReportItem.weight`: missed checks count how many), then by how many lines of that
concern they have, then by unit and bed, so the same shift always reads in the same order.
"""

from dataclasses import dataclass, field
from datetime import datetime

from facility.registry import ReportClient, ReportItem, ReportScope, registry


@dataclass
class ClientBlock:
    client: ReportClient
    # (section title, item), in section order, then time.
    lines: list[tuple[str, ReportItem]] = field(default_factory=list)

    @property
    def concern(self) -> int:
        return max((item.concern for _, item in self.lines), default=0)

    @property
    def expanded(self) -> bool:
        return self.concern >= 1

    def sort_key(self):
        top = self.concern
        at_top = [i for _, i in self.lines if i.concern == top]
        return (-top, -max((i.weight for i in at_top), default=0), -len(at_top),
                self.client.unit, self.client.bed, self.client.name)  # fmt: skip


@dataclass
class ShiftReport:
    scope: ReportScope
    shift_key: str
    shift_label: str
    day: object
    clients: list[ClientBlock]
    # (section title, items) for the facility-wide lines, in section order; empty sections kept
    # so the reader sees "none" rather than wondering if the section was looked at.
    facility_sections: list[tuple[str, list[ReportItem]]]

    @property
    def expanded(self) -> list[ClientBlock]:
        return [b for b in self.clients if b.expanded]

    @property
    def quiet(self) -> list[ClientBlock]:
        return [b for b in self.clients if not b.expanded]


def _at_key(item: ReportItem):
    # Lines without a time go last within their section; times compare as UTC instants.
    return (item.at is None, item.at.timestamp() if item.at is not None else 0)


def build_shift_report(facility, *, day, shift_key: str, now: datetime, unit=None) -> ShiftReport:
    """The report of one shift of `facility` (and `unit`, if given) on local `day`. A shift not
    yet over is reported so far (its sections see `now`)."""
    start, end = facility.shift_bounds(day, shift_key)
    label = dict(facility.shift_choices()).get(shift_key, shift_key)
    roster = (
        registry.report_roster(facility, unit, start, end, now=min(now, end))
        if registry.report_roster
        else []
    )
    scope = ReportScope(
        facility=facility,
        unit=unit,
        start=start,
        end=end,
        now=now,
        admission_ids=tuple(c.admission_id for c in roster),
    )
    blocks = {c.admission_id: ClientBlock(c) for c in roster}
    facility_sections = []
    for section in registry.report_sections:
        if section.clients is not None and scope.admission_ids:
            for admission_id, items in section.clients(scope).items():
                block = blocks.get(admission_id)
                if block is None:  # a section must not add stays the roster left out
                    continue
                block.lines.extend((section.title, i) for i in sorted(items, key=_at_key))
        if section.facility is not None:
            facility_sections.append((section.title, sorted(section.facility(scope), key=_at_key)))
    ordered = sorted(blocks.values(), key=ClientBlock.sort_key)
    return ShiftReport(
        scope=scope,
        shift_key=shift_key,
        shift_label=label,
        day=day,
        clients=ordered,
        facility_sections=facility_sections,
    )
