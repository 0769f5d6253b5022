"""Where domain apps plug into pages the core owns, without the core importing them.

Each app may have a `chart.py` (client chart sections), a `census.py` (census board slots) and a
`report.py` (shift report sections), a `dashboard.py` (supervisor dashboard tiles) and a
`bundle.py` (survey bundle sections), a `records.py` (record categories for consents,
disclosure packets and the client's own copy) and a `fhir.py` (FHIR R4 resources; issue 16);
they are imported at start-up like Django admin's `admin.py` and call `register_*` here. An app
whose pages need per-facility rows to exist (round codes, security areas) registers a facility
defaults seeder from its AppConfig.ready(); `facility.services.facility_create` runs them all.
An app with something to settle when a stay ends (the MAR's orders, a client's own controlled
stock) registers a discharge step from its `discharge.py`; `clients` runs them all inside the
discharge, without importing the app.

A section or slot provider is called once per page with all rows, never once per row, so a
page's query count does not grow with the number of clients.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.module_loading import autodiscover_modules


@dataclass(frozen=True)
class ChartSection:
    """A section of the client chart: `render(request, client, admission) -> dict` for its
    template, shown in `order`, to users the policy allows `capability` (facility/policy.py)."""

    key: str
    title: str
    template: str
    render: Callable[..., dict[str, Any]]
    order: int = 100
    capability: str = "census.view"


@dataclass(frozen=True)
class CensusSlot:
    """A column of the census board: `fill(admissions, now) -> {admission_id: cell}` where a cell
    is a dict with `text` and optional `tone` (ok, due, late, alert) and `title`, and optional
    `href` (where the cell leads) with the `capability` needed to open it: the link is shown only
    to users the policy allows it. A slot whose cells depend on who reads the census (the alerts
    addressed to a role) sets `per_user` and is called `fill(admissions, now, user=user)`."""

    key: str
    title: str
    fill: Callable[..., dict[int, dict[str, Any]]]
    order: int = 100
    per_user: bool = False


@dataclass(frozen=True)
class DischargeStep:
    """Something an app settles when a stay ends, in the discharge's transaction.

    - `fields(admission) -> {name: forms.Field}`: questions the discharge form adds (may be empty);
    - `prepare(request, admission, cleaned_data) -> data`: in the view, before the discharge's
      transaction (e.g. a witness proving it with their password); may raise ValidationError;
    - `run(*, actor, admission, at, data)`: in the discharge's transaction, before the stay is
      closed; `data` is what `prepare` returned, or {} when the service is called directly. Raises
      ValidationError keyed by its own field names to refuse the discharge;
    - `links(request, admission) -> [(label, url)]`: what the discharge confirmation offers
      (e.g. the discharge medication list).
    """

    key: str
    run: Callable[..., None]
    fields: Callable[..., dict[str, Any]] = lambda admission: {}
    prepare: Callable[..., dict[str, Any]] = lambda request, admission, cleaned_data: {}
    links: Callable[..., list[tuple[str, str]]] = lambda request, admission: []
    order: int = 100


@dataclass(frozen=True)
class Reading:
    """A client's latest clinical reading, as another app needs it (issue 11: the MAR asks for
    the latest vitals and withdrawal scores without importing observations).

    `key` is a vital ("sbp", "dbp", "hr", "rr", "temp_c", "spo2") or a scale ("ciwa_ar",
    "cows"); `value` its number; `taken_at` when it was taken; `public_id` the row it came from;
    `due_at` (scales) when the next assessment is owed under the client's protocol, so a score
    is current only until then; `band` the scale's band."""

    key: str
    value: Any
    taken_at: Any
    public_id: Any
    due_at: Any = None
    band: str = ""


@dataclass(frozen=True)
class ScoreTrigger:
    """An active PRN order that a withdrawal score triggers ("give chlordiazepoxide 25 mg if
    CIWA-Ar ≥ 10"), for the withdrawal board (observations) without importing medications:
    `label` is the order as the MAR shows it, `href` the med pass row where it is given."""

    scale: str
    min_score: int
    label: str
    href: str = ""


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a client's chart timeline (issue 12): notes, rounds remarks, vitals flags,
    MAR exceptions, group attendance, from whichever app holds them.

    `kind` is the filter key ("note", "round", "vitals", "mar", "group", ...); `at` the event
    time; `recorded_at` when it entered the record (a late entry shows both); `title` a short
    heading, `text` the body; `author` a display name; `href` where the entry is read in full;
    `struck` an entered-in-error line (shown struck through, with `struck_note`); `late` a late
    entry; `details` further lines under the text, each a (heading, text) pair: a note's
    sections or its addenda ("Addendum · name · time", text)."""

    kind: str
    at: Any
    title: str
    text: str = ""
    author: str = ""
    href: str = ""
    recorded_at: Any = None
    struck: bool = False
    struck_note: str = ""
    late: bool = False
    details: tuple = ()


@dataclass(frozen=True)
class IncidentDraft:
    """What another app knows when an event should open a draft incident report (a naloxone
    dose, a controlled-count variance marked as significant loss, a trip head count): the
    incidents app (observations) prefills a draft from it without the caller importing it.

    `source` is "naloxone", "count", "trip" or "round"; `source_ref` names the event, so calling
    twice opens one draft; `incident_type` an IncidentType value; `client_public_ids` the clients
    involved (may be empty); `reporter` the user whose action opened it."""

    facility_id: int
    source: str
    source_ref: str
    incident_type: str
    occurred_at: Any
    description: str
    reporter: Any
    client_public_ids: tuple = ()
    location: str = ""


@dataclass(frozen=True)
class ReportScope:
    """What a shift report covers (issue 15): a facility, optionally one unit, and one shift as
    two UTC instants [start, end). `now` is when the report is made (a shift still running ends
    at now for "so far" questions); `admission_ids` the stays on the report, as the roster gave
    them (every stay open at some moment of the shift, in the unit if one is chosen)."""

    facility: Any
    unit: Any
    start: Any
    end: Any
    now: Any
    admission_ids: tuple = ()


@dataclass(frozen=True)
class ReportClient:
    """One stay on the report, as the clients app's roster gives it."""

    admission_id: int
    public_id: Any
    name: str
    mrn: str
    unit: str
    bed: str
    present: str = ""  # "" in house; else e.g. "Off site: appointment, back 14:30"; "Discharged"


@dataclass(frozen=True)
class ReportItem:
    """One line of a shift report. `concern` orders clients on the report, highest first:
    0 information only (the client stays on one line), 1 worth handing off, 2 a warning
    (missed checks, a refused or missed dose, NEWS2 5–6, an unexpected positive), 3 urgent
    (an open critical alert, NEWS2 ≥ 7, a high C-SSRS, an incident with injury). `tag` is a
    short label shown before the text ("Missed check", "NEWS2 6"); `at` the event time, if
    any; `href` where it is read in full (screen only)."""

    text: str
    tag: str = ""
    at: Any = None
    concern: int = 1
    href: str = ""
    # How much of it there is, among lines of one concern (missed checks: how many): clients of
    # equal concern are ordered by their heaviest line first (18 missed checks above 4).
    weight: int = 0


@dataclass(frozen=True)
class ReportSection:
    """A section an app adds to the shift report (issue 15), from its `report.py`.

    - `clients(scope) -> {admission_id: [ReportItem]}`: lines about each client in the shift, for
      all of scope.admission_ids at once, in a fixed number of queries whatever the census;
    - `facility(scope) -> [ReportItem]`: lines about the facility or unit (census movement,
      controlled counts, trips, security rounds), also in a fixed number of queries.
    Either may be None. Sections are shown in `order`; the title heads the facility lines and
    labels each client line's group."""

    key: str
    title: str
    clients: Callable[..., dict[int, list[ReportItem]]] | None = None
    facility: Callable[..., list[ReportItem]] | None = None
    order: int = 100


@dataclass(frozen=True)
class DashboardTile:
    """A number on the supervisor's dashboard (issue 15): `count(scope) -> [(label, number,
    href, tone)]` for the shift so far; each number links to its list; tone is "", "due",
    "late" or "alert". A fixed number of queries."""

    key: str
    title: str
    count: Callable[..., list[tuple[str, int, str, str]]]
    order: int = 100


@dataclass(frozen=True)
class BundleSection:
    """A section of the survey bundle (issue 15 item 5) after its shift reports, from an app's
    `bundle.py`: `render(*, facility, unit, start, end, now, user) -> dict` is the context of
    `template` (markup only, no `extends`) for the period [start, end) as UTC instants, in a
    fixed number of queries; `user` lets a section leave out what the printer may not read.
    Sections are printed in `order`, each headed by `title` in the table of contents."""

    key: str
    title: str
    template: str
    render: Callable[..., dict[str, Any]]
    order: int = 100


@dataclass(frozen=True)
class RecordCategory:
    """A category of a client's record that a consent names, a disclosure packet holds and the
    client's own copy shows (issue 16, specs/privacy.md), from an app's `records.py`.

    `render(*, client, start, end) -> dict` is the context of `template` (markup only, no
    `extends`) for the client's records in [start, end) as UTC instants, in a fixed number of
    queries. `own_consent`, when set, is the only consent type that covers the category (SUD
    counseling notes: "counseling"); such a category never goes out under any other consent, in
    a bulk export or in the client's own copy. Incident reports are not a category: they are
    administrative records and never leave in a packet.
    """

    key: str
    label: str
    template: str
    render: Callable[..., dict[str, Any]]
    order: int = 100
    own_consent: str = ""


@dataclass(frozen=True)
class FhirSource:
    """FHIR R4 resources for one client's export (issue 16 item 6), from an app's `fhir.py`:
    `build(*, client, patient_ref, encounters, start, end) -> list[dict]` returns R4 resources as
    JSON dicts; `patient_ref` is "Patient/<id>" and `encounters` maps an admission's pk to its
    "Encounter/<id>" reference. Each resource carries an `id` unique within the bundle."""

    key: str
    build: Callable[..., list[dict[str, Any]]]
    order: int = 100


@dataclass(frozen=True)
class ClientFinder:
    """How the audit pages (facility/audit.py) find and name clients without importing the
    clients app (issue 16 item 7), registered from clients' AppConfig.ready():

    - `search(facility, text, limit) -> [(public_id, mrn)]`: the facility's clients whose legal
      or preferred name, MRN or date of birth (YYYY-MM-DD) matches `text`, in one query;
    - `get(facilities, public_id) -> client | None`: one client of those facilities;
    - `subject(instance) -> (facility_id, client public_id, mrn)`: the facility and client a
      changed row belongs to (any part may be None), for the data-change log; cheap: related
      rows already loaded are used, and a client's ids are cached (they never change).
    """

    search: Callable[..., list[tuple[Any, str]]]
    get: Callable[..., Any]
    subject: Callable[[Any], tuple[Any, Any, str]]


@dataclass(frozen=True)
class WorkItem:
    """One row of a worklist: what is waiting, and the page where it is done (`href`).

    `label` names the thing ("Robin A. · Sertraline 50 mg"), `detail` says what is owed ("due
    09:00", "verify"), `when` is the moment it is due or was raised (a UTC datetime or None) and
    `tone` is "", "due", "late" or "alert", as on the census."""

    label: str
    href: str
    detail: str = ""
    when: Any = None
    tone: str = ""


@dataclass(frozen=True)
class WorklistSection:
    """A section of a role's "My work" home page (issue 17 item 1), from an app's `worklist.py`.

    `items(*, user, facility, now) -> list[WorkItem]` lists what waits for `user` at `facility`,
    most urgent first, in a fixed number of queries. It is shown to the `roles` named (role
    values) whose policy allows `capability`, in `order`. `more` names the URL of the whole list
    (a URL name, reversed without arguments) when there is one. A section with no items shows
    `empty`, so staff see that it was looked at, not that it is missing."""

    key: str
    title: str
    items: Callable[..., list[WorkItem]]
    roles: tuple[str, ...]
    capability: str = "signed_in"
    order: int = 100
    more: str = ""
    empty: str = "Nothing waiting."
    # `visible(user, facility) -> bool`, when a section applies to some holders of the capability
    # only (a clinician without prescribing credentials co-signs no orders): others don't see it.
    visible: Callable[..., bool] | None = None


@dataclass
class Registry:
    chart_sections: list[ChartSection] = field(default_factory=list)
    census_slots: list[CensusSlot] = field(default_factory=list)
    facility_defaults: dict[str, Callable[..., Any]] = field(default_factory=dict)
    discharge_steps: list[DischargeStep] = field(default_factory=list)
    workflow_alerts: dict[str, str] = field(default_factory=dict)
    leave_rules: dict[str, Callable[..., None]] = field(default_factory=dict)
    score_triggers: dict[str, Callable[..., dict[int, list[ScoreTrigger]]]] = field(
        default_factory=dict
    )
    reading_sources: dict[str, Callable[..., dict[int, dict[str, Reading]]]] = field(
        default_factory=dict
    )
    timeline_sources: dict[str, Callable[..., list[TimelineEntry]]] = field(default_factory=dict)
    timeline_labels: dict[str, str] = field(default_factory=dict)
    expected_analytes: dict[str, Callable[..., dict[int, dict[str, str]]]] = field(
        default_factory=dict
    )
    incident_opener: Callable[[IncidentDraft], Any] | None = None
    report_roster: Callable[..., list[ReportClient]] | None = None
    report_sections: list[ReportSection] = field(default_factory=list)
    dashboard_tiles: list[DashboardTile] = field(default_factory=list)
    bundle_sections: list[BundleSection] = field(default_factory=list)
    departure_sources: dict[str, Callable[..., dict[int, Any]]] = field(default_factory=dict)
    record_categories: list[RecordCategory] = field(default_factory=list)
    fhir_sources: list[FhirSource] = field(default_factory=list)
    client_finder: ClientFinder | None = None
    worklist_sections: list[WorklistSection] = field(default_factory=list)
    # Issue 16 (break-the-glass): find a client by MRN in any facility (clients/glass.py).
    client_locator: Callable[..., list[Any]] | None = None

    def register_chart_section(self, section: ChartSection) -> None:
        self.chart_sections = sorted(
            [s for s in self.chart_sections if s.key != section.key] + [section],
            key=lambda s: s.order,
        )

    def register_census_slot(self, slot: CensusSlot) -> None:
        self.census_slots = sorted(
            [s for s in self.census_slots if s.key != slot.key] + [slot], key=lambda s: s.order
        )

    def register_facility_defaults(self, key: str, seed: Callable[..., Any]) -> None:
        """`seed(facility)` gives a new facility an app's default rows; it must be idempotent."""
        self.facility_defaults[key] = seed

    def register_discharge_step(self, step: DischargeStep) -> None:
        self.discharge_steps = sorted(
            [s for s in self.discharge_steps if s.key != step.key] + [step], key=lambda s: s.order
        )

    def register_workflow_alert(self, kind: str, closed_by: str) -> None:
        """Alerts of `kind` close only when their workflow is done (`closed_by` says how, e.g.
        "a supervisor's discrepancy sign-off"), never by a Resolve tap on the alerts page."""
        self.workflow_alerts[kind] = closed_by

    def register_leave_rule(self, key: str, rule: Callable[..., None]) -> None:
        """`rule(*, admission, kind, left_at, now, backdate_reason)` runs inside
        `clients.leave_start` before the leave is saved and raises ValidationError (keyed by the
        leave form's field names) to refuse it, e.g. rounds: a leave cannot start before the
        client's last check; clients: no pass or outing while an outing restriction is in force."""
        self.leave_rules[key] = rule

    def register_departure_source(self, key: str, source: Callable[..., dict[int, Any]]) -> None:
        """`source(admission_ids, *, start, end) -> {admission_id: departure datetime}`: when
        each client is planned to leave the house in [start, end) (e.g. transport: a trip), so
        the MAR may send a dose with them without importing the app that plans it."""
        self.departure_sources[key] = source

    def departures(self, admission_ids, *, start, end) -> dict[int, Any]:
        """Every registered source's planned departures; the earliest per admission."""
        found: dict[int, Any] = {}
        for source in self.departure_sources.values():
            for pk, at in source(list(admission_ids), start=start, end=end).items():
                found[pk] = min(at, found.get(pk, at))
        return found

    def register_reading_source(
        self, key: str, source: Callable[..., dict[int, dict[str, Reading]]]
    ) -> None:
        """`source(admission_ids, *, at) -> {admission_id: {reading key: Reading}}`: the latest
        non-struck reading of each key taken at or before `at`, for all admissions in a fixed
        number of queries."""
        self.reading_sources[key] = source

    def register_score_trigger_source(
        self, key: str, source: Callable[..., dict[int, list[ScoreTrigger]]]
    ) -> None:
        """`source(admission_ids, *, at) -> {admission_id: [ScoreTrigger]}`: the active,
        verified PRN orders with a score trigger, in a fixed number of queries."""
        self.score_triggers[key] = source

    def score_triggers_for(self, admission_ids, *, at) -> dict[int, list[ScoreTrigger]]:
        merged: dict[int, list[ScoreTrigger]] = {}
        for source in self.score_triggers.values():
            for admission_id, found in source(list(admission_ids), at=at).items():
                merged.setdefault(admission_id, []).extend(found)
        return merged

    def readings(self, admission_ids, *, at) -> dict[int, dict[str, Reading]]:
        merged: dict[int, dict[str, Reading]] = {}
        for source in self.reading_sources.values():
            for admission_id, found in source(list(admission_ids), at=at).items():
                merged.setdefault(admission_id, {}).update(found)
        return merged

    def register_timeline_source(
        self, kind: str, label: str, source: Callable[..., list[TimelineEntry]]
    ) -> None:
        """`source(admission, *, since, until, user) -> [TimelineEntry]`: the app's entries
        for one stay between two instants, in a fixed number of queries. `label` names the
        filter ("Notes", "Rounds remarks"); `user` lets a source leave out what the reader may
        not see (another author's draft)."""
        self.timeline_sources[kind] = source
        self.timeline_labels[kind] = label

    def timeline(self, admission, *, since, until, user, kinds=None) -> list[TimelineEntry]:
        entries: list[TimelineEntry] = []
        for kind, source in self.timeline_sources.items():
            if kinds and kind not in kinds:
                continue
            entries.extend(source(admission, since=since, until=until, user=user))
        return sorted(entries, key=lambda e: e.at, reverse=True)

    def register_expected_analytes_source(
        self, key: str, source: Callable[..., dict[int, dict[str, str]]]
    ) -> None:
        """`source(admission_ids, *, at) -> {admission_id: {analyte code: why}}`: the drug-screen
        analytes (BUP, MTD, EDDP, OPI...) that a client's active orders explain at `at`, with the
        order that explains each, so screening shows a presumptive positive as *expected*
        without importing medications (issue 13)."""
        self.expected_analytes[key] = source

    def analytes_explained(self, admission_ids, *, at) -> dict[int, dict[str, str]]:
        merged: dict[int, dict[str, str]] = {}
        for source in self.expected_analytes.values():
            for admission_id, found in source(list(admission_ids), at=at).items():
                merged.setdefault(admission_id, {}).update(found)
        return merged

    def register_incident_opener(self, opener: Callable[[IncidentDraft], Any]) -> None:
        """`opener(draft) -> (incident public id, created)`: the incidents app opens (or finds,
        by `source_ref`) a draft incident report."""
        self.incident_opener = opener

    def open_incident_draft(self, draft: IncidentDraft):
        """Open a draft incident from another app's event; None when no incidents app is
        installed."""
        if self.incident_opener is None:
            return None
        return self.incident_opener(draft)

    def register_report_roster(self, roster: Callable[..., list[ReportClient]]) -> None:
        """`roster(facility, unit, start, end) -> [ReportClient]`: the stays a shift report
        covers (clients app), in a fixed number of queries."""
        self.report_roster = roster

    def register_report_section(self, section: ReportSection) -> None:
        self.report_sections = sorted(
            [s for s in self.report_sections if s.key != section.key] + [section],
            key=lambda s: s.order,
        )

    def register_dashboard_tile(self, tile: DashboardTile) -> None:
        self.dashboard_tiles = sorted(
            [t for t in self.dashboard_tiles if t.key != tile.key] + [tile],
            key=lambda t: t.order,
        )

    def register_bundle_section(self, section: BundleSection) -> None:
        self.bundle_sections = sorted(
            [s for s in self.bundle_sections if s.key != section.key] + [section],
            key=lambda s: s.order,
        )

    def register_record_category(self, category: RecordCategory) -> None:
        self.record_categories = sorted(
            [c for c in self.record_categories if c.key != category.key] + [category],
            key=lambda c: (c.order, c.key),
        )

    def record_category(self, key: str) -> RecordCategory | None:
        return next((c for c in self.record_categories if c.key == key), None)

    def register_fhir_source(self, source: FhirSource) -> None:
        self.fhir_sources = sorted(
            [s for s in self.fhir_sources if s.key != source.key] + [source],
            key=lambda s: (s.order, s.key),
        )

    def register_client_locator(self, locator: Callable[..., list[Any]]) -> None:
        """`locator(mrn, *, facility=None, public_ids=None) -> [client]`: the clients with this
        MRN (case, dashes and spaces aside), in any facility (or in `facility`), or with these
        public ids, each with `public_id`, `mrn`, `display_name` and `facility`; for
        break-the-glass, which looks past the user's scope (facility/glass.py)."""
        self.client_locator = locator

    def locate_clients(self, mrn: str, *, facility=None) -> list[Any]:
        if self.client_locator is None:
            return []
        return list(self.client_locator(mrn, facility=facility))

    def client_names(self, public_ids) -> dict[Any, str]:
        """The display names of these clients by public id, in one query, through the same
        locator (`locator(None, public_ids=...)`): for pages that name a client the core logged
        by id and MRN, such as the break-the-glass review."""
        public_ids = set(public_ids)
        if self.client_locator is None or not public_ids:
            return {}
        found = self.client_locator(None, public_ids=public_ids)
        return {c.public_id: c.display_name for c in found}

    def register_client_finder(self, finder: ClientFinder) -> None:
        self.client_finder = finder

    def register_worklist_section(self, section: WorklistSection) -> None:
        self.worklist_sections = sorted(
            [s for s in self.worklist_sections if s.key != section.key] + [section],
            key=lambda s: s.order,
        )


registry = Registry()
register_chart_section = registry.register_chart_section
register_census_slot = registry.register_census_slot
register_facility_defaults = registry.register_facility_defaults
register_discharge_step = registry.register_discharge_step
register_workflow_alert = registry.register_workflow_alert
register_leave_rule = registry.register_leave_rule
register_reading_source = registry.register_reading_source
register_departure_source = registry.register_departure_source
departures = registry.departures
readings = registry.readings
register_score_trigger_source = registry.register_score_trigger_source
score_triggers_for = registry.score_triggers_for
register_timeline_source = registry.register_timeline_source
register_incident_opener = registry.register_incident_opener
open_incident_draft = registry.open_incident_draft
register_expected_analytes_source = registry.register_expected_analytes_source
analytes_explained = registry.analytes_explained
register_report_roster = registry.register_report_roster
register_report_section = registry.register_report_section
register_dashboard_tile = registry.register_dashboard_tile
register_bundle_section = registry.register_bundle_section
register_record_category = registry.register_record_category
register_fhir_source = registry.register_fhir_source
register_client_finder = registry.register_client_finder
register_worklist_section = registry.register_worklist_section
register_client_locator = registry.register_client_locator
locate_clients = registry.locate_clients
client_names = registry.client_names


def autodiscover() -> None:
    autodiscover_modules(
        "chart",
        "census",
        "discharge",
        "report",
        "dashboard",
        "bundle",
        "records",
        "fhir",
        "worklist",
    )
