"""The rounds board (the page technicians live in), level orders and observer hand-offs."""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients.access import admission_for, admissions_visible_to
from clients.models import Admission, Leave
from facility import policy
from facility.access import current_facility, current_facility_or_404
from facility.forms import add_service_errors
from facility.models import Alert, Unit
from facility.pdf import pdf_response
from observations import offline, services
from observations.compliance import compliance_summary, local_day, observation_sheet
from observations.forms import (
    DowntimeForm,
    LevelOrderForm,
    ObserverForm,
    PeriodForm,
    RoundForm,
    SecurityFindingForm,
    SecurityRoundForm,
    SeenForm,
    SheetDayForm,
    observer_choices,
)
from observations.models import (
    CheckSource,
    CodeKind,
    LevelOrder,
    ObserverAssignment,
    ObserverHandoff,
    RoundCheck,
    RoundCode,
    SecurityArea,
    SecurityCheck,
    SecurityFinding,
    SecurityRound,
)
from observations.rounds import block_floor
from observations.security import window_at

STATE_TEXT = {
    "done": "Done this block",
    "due": "Due",
    "due_soon": "Due soon",
    "missed": "Missed",
    "off_site": "Off site",
}
# The board lists this many of the unit's open alerts; the rest are counted.
ALERTS_SHOWN = 8
SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


class RowLinks:
    """Each URL a board row links to, reversed once per page and given each row's id: a
    30-client board would otherwise reverse well over a hundred URLs."""

    SENTINEL = "00000000-0000-0000-0000-000000000000"
    NAMES = (
        "clients:chart",
        "clients:photo",
        "observations:observation_sheet",
        "observations:vitals_record",
    )

    def __init__(self):
        self.patterns = {name: reverse(name, args=[self.SENTINEL]) for name in self.NAMES}

    def of(self, admission: Admission) -> dict[str, str]:
        client, stay = str(admission.client.public_id), str(admission.public_id)
        ids = {"clients:chart": client, "clients:photo": client}
        return {
            name.split(":")[1]: pattern.replace(self.SENTINEL, ids.get(name, stay))
            for name, pattern in self.patterns.items()
        }


@dataclass
class BoardRow:
    """One client on the rounds board: identity, level, last check, and what is owed now."""

    admission: Admission
    level: services.CurrentLevel
    last: object
    leave: Leave | None
    missed: int
    state: str
    minutes_since: int | None
    posted: dict
    codes: dict
    observer: object = None  # the ObserverAssignment of a continuous level, if anyone holds it
    due_by: datetime | None = None  # local deadline of a first check owed from an event
    vitals: object = None  # services.VitalsStatus: the small vitals tag (issue 11)
    vitals_text: str = ""
    # (text, tone, scale) of each withdrawal score owed now: "CIWA-Ar due 14:00" (issue 11).
    withdrawal: list = field(default_factory=list)
    links: dict = field(default_factory=dict)  # the row's links by URL name (RowLinks)

    @property
    def state_text(self) -> str:
        if self.due_by is not None and self.state in ("due", "due_soon"):
            return f"Due by {self.due_by:%H:%M}"
        return STATE_TEXT[self.state]

    @property
    def continuous(self) -> bool:
        """Continuous levels leave the bulk round: their observer charts on My 1:1."""
        return self.level.is_continuous

    @property
    def fresh_status_needed(self) -> bool:
        """The last status needs respirations (sleeping): never pre-filled, tapped afresh."""
        return bool(self.last and self.last.status.needs_respirations)

    @property
    def selected_location(self) -> str:
        """What the location chips show chosen: what was just posted, else the last check's."""
        if self.posted.get("loc"):
            return self.posted["loc"]
        return str(self.last.location_id) if self.last else ""

    @property
    def selected_status(self) -> str:
        """As the location, except that sleeping is never carried over from the last check."""
        if self.posted.get("st"):
            return self.posted["st"]
        if not self.last or self.fresh_status_needed:
            return ""
        return str(self.last.status_id)

    @property
    def seen_words(self) -> str:
        """ "Day room · Awake": the chosen location and status in words (the summary line)."""
        location = self.codes.get(self.selected_location)
        status = self.codes.get(self.selected_status)
        return " · ".join(
            [
                location.label if location else "choose location",
                status.label if status else "choose status",
            ]
        )

    @property
    def last_words(self) -> str:
        return f"{self.last.location.label} · {self.last.status.label}" if self.last else ""

    @property
    def last_ms(self) -> int | None:
        """The last check's time for the script that keeps "x min ago" true."""
        return int(self.last.observed_at.timestamp() * 1000) if self.last else None


class OpenAlert(NamedTuple):
    """The columns of an open alert the board reads (a unit can have hundreds open)."""

    severity: str
    message: str
    link: str
    client_public_id: uuid.UUID | None
    raised_at: datetime
    kind: str
    audience: str


@dataclass
class UnitAlert:
    """An open alert about a client of the unit, with where it is acted on."""

    severity: str
    message: str
    raised_at: datetime
    href: str


def unit_for(request, public_id) -> Unit:
    """A unit of the current facility by public id (404 otherwise), with its facility (the
    request's own, already read)."""
    facility = current_facility_or_404(request)
    unit = get_object_or_404(Unit, public_id=public_id, facility=facility)
    unit.facility = facility
    return unit


def units_for(request, public_id) -> tuple[Unit, list[Unit]]:
    """As unit_for, with every unit of the facility by name (the board's tabs): one query."""
    facility = current_facility_or_404(request)
    units = list(Unit.objects.filter(facility=facility).order_by("name"))
    unit = next((u for u in units if str(u.public_id) == str(public_id)), None)
    if unit is None:
        raise Http404("No such unit.")
    for u in units:
        u.facility = facility
    return unit, units


def _safe_path(link: str) -> bool:
    """Only a path inside Haven is followed from the board (never another site)."""
    return link.startswith("/") and not link.startswith("//") and "\\" not in link


def _href(alert, chart: str) -> str:
    """Where an alert is acted on; `chart` is the chart URL with RowLinks.SENTINEL for the id."""
    if alert.link and _safe_path(alert.link):
        return alert.link
    if alert.client_public_id:
        return chart.replace(RowLinks.SENTINEL, str(alert.client_public_id))
    return reverse("alerts")


def _unit_alerts(alerts, names, chart: str) -> list[UnitAlert]:
    """The unit's open alerts, most urgent first; one client's missed checks are one line
    ("3 missed checks") so a few late clients cannot push the board off the screen. Links are
    made for the lines shown only."""
    missed, lines = defaultdict(list), []  # (severity, message, raised_at, alert linked to)
    for alert in alerts:
        if alert.kind == "missed_check" and alert.client_public_id in names:
            missed[alert.client_public_id].append(alert)
        else:
            lines.append((alert.severity, alert.message, alert.raised_at, alert))
    for public_id, group in missed.items():
        if len(group) == 1:
            (alert,) = group
            lines.append((alert.severity, alert.message, alert.raised_at, alert))
            continue
        worst = min(group, key=lambda a: SEVERITY_RANK.get(a.severity, 3))
        latest = max(a.raised_at for a in group)
        lines.append(
            (worst.severity, f"{names[public_id]}: {len(group)} missed checks open", latest, worst)
        )
    lines.sort(key=lambda line: (SEVERITY_RANK.get(line[0], 3), -line[2].timestamp()))
    return [
        UnitAlert(severity, message, raised_at, _href(alert, chart))
        for severity, message, raised_at, alert in lines[:ALERTS_SHOWN]
    ]


def _vitals_text(status, tz) -> str:
    """The board's short vitals tag: only what is owed ("Vitals overdue", "Vitals due 14:00")."""
    if status.state == "overdue":
        return "Vitals overdue"
    if status.state in ("due", "due_soon"):
        return f"Vitals due {timezone.localtime(status.due_at, tz):%H:%M}"
    return ""


def _withdrawal_tags(admissions, now, tz) -> dict[int, list[tuple[str, str, str]]]:
    """Each stay's withdrawal scores owed now (due soon, due, overdue; nothing while off site):
    one query without protocols, three with (services.protocol_statuses)."""
    tags = defaultdict(list)
    for status in services.protocol_statuses([a.pk for a in admissions], now=now).values():
        if status.state not in ("due_soon", "due", "overdue"):
            continue
        name = status.scale_name + (" first score" if status.first_due else "")
        due = timezone.localtime(status.due_at, tz)
        text = f"{name} overdue" if status.state == "overdue" else f"{name} due {due:%H:%M}"
        tags[status.protocol.admission_id].append((text, status.state, status.protocol.scale))
    return tags


def unit_board(
    unit: Unit, now, posted=None, codes=None, viewer=None
) -> tuple[list[BoardRow], list, int]:
    """The board's rows (one per client admitted to the unit), the unit's open alerts to show
    and how many are open in all. The query count does not depend on clients or history.
    With `viewer`, the alerts listed are those their role sees (Alert.audience, as on the
    alerts page); missed checks mark the rows whoever looks."""
    admissions = _unit_admissions(unit, now)
    tz = unit.facility.tz
    levels = services.current_levels(admissions, now)
    last = services.last_checks(admissions, {c.pk: c for c in codes.values()} if codes else None)
    continuous = [a for a in admissions if levels[a.pk].is_continuous]
    observers = services.current_observers(continuous) if continuous else {}
    vitals = services.vitals_status(admissions, now, facility=unit.facility)
    withdrawal = _withdrawal_tags(admissions, now, tz)
    alerts = [
        OpenAlert(*values)
        for values in Alert.objects.open()
        .filter(client_public_id__in=[a.client.public_id for a in admissions])
        .order_by()
        .values_list(
            "severity", "message", "link", "client_public_id", "raised_at", "kind", "audience"
        )
    ]
    missed = {}
    for alert in alerts:
        if alert.kind == "missed_check":
            missed[alert.client_public_id] = missed.get(alert.client_public_id, 0) + 1
    rows = []
    links = RowLinks()
    for a in admissions:
        level = levels[a.pk]
        check = last.get(a.pk)
        leave = next((lv for lv in a.recent_leaves if lv.returned_at is None), None)
        due_by = None
        if leave is not None:
            state = "off_site"
        else:
            state, due_by = services.round_state(
                now, tz, a, level, check, a.recent_leaves, missed.get(a.client.public_id)
            )
        since = int((now - check.observed_at).total_seconds() // 60) if check else None
        rows.append(
            BoardRow(
                admission=a,
                level=level,
                last=check,
                leave=leave,
                missed=missed.get(a.client.public_id, 0),
                state=state,
                minutes_since=since,
                posted=(posted or {}).get(str(a.public_id), {}),
                codes=codes or {},
                observer=observers.get(a.pk),
                due_by=due_by,
                vitals=vitals[a.pk],
                vitals_text=_vitals_text(vitals[a.pk], tz),
                withdrawal=withdrawal.get(a.pk, []),
                links=links.of(a),
            )
        )
    names = {a.client.public_id: a.client.display_name for a in admissions}
    if viewer is not None and not policy.allows(viewer, "alerts.resolve"):
        alerts = [a for a in alerts if not a.audience or viewer.role in a.audience.split(",")]
    return rows, _unit_alerts(alerts, names, links.patterns["clients:chart"]), len(alerts)


def recent_leaves(now, through: str = "leaves") -> Prefetch:
    """Each stay's open leave and those returned within services.RETURN_LOOKBACK, as
    `recent_leaves`: what round_state and first_check_deadline read."""
    return Prefetch(
        through,
        queryset=Leave.objects.filter(
            Q(returned_at__isnull=True) | Q(returned_at__gte=now - services.RETURN_LOOKBACK)
        ),
        to_attr="recent_leaves",
    )


def _unit_admissions(unit: Unit, now) -> list[Admission]:
    """The stays on the unit now, in bed order, with their client, bed and recent leaves (an
    open one, or one returned from within services.RETURN_LOOKBACK): two queries."""
    return list(
        Admission.objects.current()
        .filter(unit=unit)
        # The clients by primary key in a query of their own: joined, PostgreSQL hashes the
        # whole client table (every facility's clients) for the unit's thirty.
        .select_related("bed")
        .prefetch_related(
            "client",
            recent_leaves(now),
        )
        .order_by("bed__label")
    )


class PostedRow(NamedTuple):
    """What a submitted round is checked against: who is on the unit, and who is off site."""

    admission: Admission
    leave: Leave | None


def posted_rows(unit: Unit, now) -> list[PostedRow]:
    """The board's clients as a round post needs them, without the levels, checks, vitals and
    alerts the page shows (a post that is recorded redirects to the page)."""
    return [
        PostedRow(a, next((lv for lv in a.recent_leaves if lv.returned_at is None), None))
        for a in _unit_admissions(unit, now)
    ]


def board_rows(unit: Unit, now, posted=None, codes=None) -> list[BoardRow]:
    """One row per client admitted to the unit; query count does not depend on clients."""
    return unit_board(unit, now, posted, codes)[0]


def _codes(facility):
    """The facility's active codes (seeded when the facility was created), by kind."""
    codes = list(RoundCode.objects.filter(facility=facility, active=True))
    return (
        [c for c in codes if c.kind == CodeKind.LOCATION],
        [c for c in codes if c.kind == CodeKind.STATUS],
    )


@policy.requires("census.view")
@require_GET
def rounds_home(request):
    """Open the board of the first unit of the current facility."""
    facility = current_facility(request)
    unit = Unit.objects.filter(facility=facility).order_by("name").first() if facility else None
    if unit is None:
        raise Http404("This facility has no units.")
    return redirect("observations:board", public_id=unit.public_id)


@policy.requires("census.view", post="floor.chart")
@require_http_methods(["GET", "POST"])
def board(request, public_id):
    """The unit's rounds board: state of every client, the unit's open alerts and the form to
    chart a whole round (each client at the moment they were tapped "seen")."""
    unit, units = units_for(request, public_id)
    facility = unit.facility
    now = timezone.now()
    locations, statuses = _codes(facility)
    codes = {str(c.pk): c for c in [*locations, *statuses]}
    errors, posted, form, refused, other_account = [], None, None, [], False
    if request.method == "POST":
        rows = posted_rows(unit, now)
        form = RoundForm(request.POST, rows=rows, locations=locations, statuses=statuses)
        posted = form.as_typed()
        if not form.is_valid():
            errors = form.messages()
        else:
            data = form.cleaned_data
            try:
                pressed = offline.pressed_at(request.POST, request.user, unit, now)
                count, repeat = services.round_submit(
                    actor=request.user,
                    facility=facility,
                    submission_key=data["submission_key"],
                    observed_at=(pressed or now) - timedelta(minutes=data["minutes_back"]),
                    entries=form.entries(),
                    late_reason=offline.kept_reason(data["late_reason"], pressed, now),
                    now=now,
                    pressed_at=pressed,
                )
            except ValidationError as exc:
                errors.extend(exc.messages)
                refused = getattr(exc, "refused", [])
                other_account = offline.OTHER_ACCOUNT in exc.messages
                if getattr(exc, "code", None) == "key_used":  # the page's next round: a new key
                    form.cleaned_data["submission_key"] = None
            else:
                text = (
                    "This round was already recorded."
                    if repeat
                    else f"Round recorded for {count} client{pluralize(count)}."
                )
                # A round the tablet kept and sent by itself says so on the board, not later.
                if not request.headers.get("X-Haven-Kept"):
                    (messages.info if repeat else messages.success)(request, text)
                if _wants_json(request):
                    return JsonResponse({"ok": True, "recorded": count, "message": text})
                return redirect("observations:board", public_id=unit.public_id)
        if _wants_json(request):
            if _recorded_before(request):
                text = "This round was already recorded."
                return JsonResponse({"ok": True, "recorded": 0, "message": text})
            off_unit, left = _off_unit(request.POST, rows, facility)
            off_unit += [pid for pid in refused if pid not in off_unit]
            return JsonResponse(
                {
                    "ok": False,
                    "errors": [*left, *errors],
                    "off_unit": off_unit,
                    "other_account": other_account,
                },
                status=400,
            )
    rows, alerts, alert_count = unit_board(unit, now, codes=codes, viewer=request.user)
    for row in rows if posted else []:
        row.posted = posted.get(str(row.admission.public_id), {})
    context = {
        "unit": unit,
        "facility": facility,
        "units": units,
        "rows": rows,
        "alerts": alerts,
        "alert_count": alert_count,
        "locations": locations,
        "statuses": statuses,
        "errors": errors,
        # A refused round keeps its key (nothing was saved under it); a garbled one is replaced.
        "submission_key": (form.cleaned_data.get("submission_key") if errors else None)
        or uuid.uuid4(),
        "minutes_back": form.data.get("minutes_back", "0") if form else "0",
        "late_reason": form.data.get("late_reason", "") if form else "",
        "can_chart": policy.allows(request.user, "floor.chart"),
        "board_token": offline.board_token(request.user, unit, now),
        "can_record_vitals": policy.allows(request.user, "vitals.record"),
        "can_assess_withdrawal": policy.allows(request.user, "withdrawal.assess"),
        "now": now,
    }
    return render(request, "observations/board.html", context, status=400 if errors else 200)


def _wants_json(request) -> bool:
    """The board's script posts a round asking for JSON (it may be a round kept offline)."""
    return "application/json" in request.headers.get("Accept", "")


def _short_name(client) -> str:
    """A client as the board's row names them ("Robin A.")."""
    return f"{client.preferred_name or client.legal_first_name} {client.legal_last_name[:1]}."


def _recorded_before(request) -> bool:
    """A kept round refused now (a client discharged since) whose first post was recorded and
    only its answer lost: this account recorded this very round under this key (the same
    clients, codes and tapped times), so it is not refused. A different round under a used key
    is not "already recorded": it is refused, and the tablet keeps it until dismissed."""
    data = request.POST
    try:
        key = uuid.UUID(str(data.get("submission_key", ""))[:40])
    except ValueError:
        return False
    earlier = RoundCheck.objects.filter(submission_key=key, recorded_by=request.user).values_list(
        "admission__public_id", "location_id", "status_id", "observed_at", "recorded_at"
    )
    recorded = {str(pid): (str(loc), str(st), seen, at) for pid, loc, st, seen, at in earlier}
    posted = data.getlist("include")[:200]
    if not recorded or sorted(posted) != sorted(recorded):
        return False
    for pid, (loc, st, observed, at) in recorded.items():
        if (data.get(f"loc-{pid}", ""), data.get(f"st-{pid}", "")) != (loc, st):
            return False
        seen = data.get(f"seen-{pid}", "")
        if not seen:
            continue
        try:
            tapped = datetime.fromtimestamp(int(seen[:16]) / 1000, tz=UTC)
        except (ValueError, OverflowError, OSError):
            return False
        # A tap a few seconds ahead of the server was stored at the server's time.
        if abs((min(tapped, at) - observed).total_seconds()) >= 1:
            return False
    return True


def _off_unit(data, rows: list[PostedRow], facility) -> tuple[list[str], list[str]]:
    """The clients of a refused round (public ids, as posted) who are no longer on the unit or
    are off site, and a line naming each who left as the board named them (the tablet keeps no
    names; this answer is shown, not kept): the board offers to send the round without them."""
    here = {str(r.admission.public_id) for r in rows}
    on_leave = {str(r.admission.public_id) for r in rows if r.leave is not None}
    posted = data.getlist("include")[:200]
    gone = []
    for pid in posted:
        try:
            gone.append(uuid.UUID(pid[:40]))
        except ValueError:
            continue
    left = Admission.objects.filter(
        public_id__in=[g for g in gone if str(g) not in here], facility=facility
    ).select_related("client", "bed")
    lines = [
        f"{_short_name(a.client)}{f' ({a.bed.label})' if a.bed else ''}: no longer on this unit "
        "(discharged or moved)."
        for a in left
    ]
    return [pid for pid in posted if pid not in here or pid in on_leave], lines


@policy.requires("census.view")
@require_GET
def board_status(request, public_id):
    """The live part of the board: each client's state and last check, and the unit's alerts,
    swapped in place so entries survive."""
    unit = unit_for(request, public_id)
    rows, alerts, alert_count = unit_board(unit, timezone.now(), viewer=request.user)
    return render(
        request,
        "observations/board_status.html",
        {"rows": rows, "alerts": alerts, "alert_count": alert_count, "unit": unit},
    )


@policy.requires("level.change")
@require_http_methods(["GET", "POST"])
def level_change(request, public_id):
    admission = admission_for(request, public_id)
    current = services.current_levels([admission], timezone.now())[admission.pk]
    form = LevelOrderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.level_order(actor=request.user, admission=admission, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Observation level changed.")
            return redirect("clients:chart", public_id=admission.client.public_id)
    return render(
        request,
        "observations/level_form.html",
        {"admission": admission, "client": admission.client, "form": form, "current": current},
    )


@policy.requires("level.order")
@require_POST
def level_confirm(request, public_id):
    visible = admissions_visible_to(request.user)
    order = get_object_or_404(LevelOrder, public_id=public_id, admission__in=visible)
    try:
        services.level_confirm(actor=request.user, order=order)
        messages.success(request, "Level confirmed by your order.")
    except ValidationError as exc:
        add_service_errors(request, exc)
    return redirect("clients:chart", public_id=order.admission.client.public_id)


@policy.requires("floor.chart")
@require_POST
def observer_assign(request, public_id):
    """Offer the watch of a client on a continuous level; it passes when the person accepts
    (at once when they offer it to themself)."""
    admission = admission_for(request, public_id)
    form = ObserverForm(request.POST, facility=admission.facility)
    if form.is_valid():
        observer = form.cleaned_data["observer"]
        try:
            handoff = services.handoff_offer(
                actor=request.user, admission=admission, to_observer=observer
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(request, exc)
        else:
            if handoff.accepted_at:
                messages.success(request, "You now observe this client.")
            else:
                messages.success(
                    request,
                    f"Offered to {observer.full_name}; the watch passes when they accept it.",
                )
    else:
        messages.error(request, "Observer: choose a staff member of this facility.")
    if request.POST.get("back") == "mine":
        return redirect("observations:my_observation")
    return redirect("clients:chart", public_id=admission.client.public_id)


def _period(request, facility):
    """The report's form and its [start, end) (None when the form is invalid). A missing From or
    To means today, so a link carrying only `format=pdf` prints today's report."""
    today = timezone.localtime(timezone.now(), facility.tz).date()
    data = {"start": today.isoformat(), "end": today.isoformat()}
    data.update({k: request.GET[k] for k in ("start", "end", "unit") if k in request.GET})
    form = PeriodForm(data, facility=facility)
    if not form.is_valid():
        return form, None
    start, _ = local_day(facility, form.cleaned_data["start"])
    _, end = local_day(facility, form.cleaned_data["end"])
    end = min(end, timezone.now())  # mixed zones: compared as UTC instants
    return form, (start, end)


@policy.requires("report.print")
@require_GET
def compliance_report(request):
    """Windows due, done, late and missed per client and per staff member for a period, and the
    continuous-level windows missed per assigned observer."""
    facility = current_facility_or_404(request)
    form, period = _period(request, facility)
    context = {"facility": facility, "form": form}
    if period:
        unit = form.cleaned_data["unit"]
        context.update(
            compliance_summary(facility, start=period[0], end=period[1], unit=unit),
            period=period,
            # Built from what the page shows, not from the query it was opened with: a page
            # opened with no query prints the same report (issue 10: Print failed on first use).
            print_query=urlencode(
                {
                    "start": form.cleaned_data["start"].isoformat(),
                    "end": form.cleaned_data["end"].isoformat(),
                    "unit": unit.public_id if unit else "",
                    "format": "pdf",
                }
            ),
        )
    if request.GET.get("format") == "pdf" and period:
        unit = form.cleaned_data["unit"]
        return pdf_response(
            request,
            template="observations/pdf/compliance.html",
            context=context,
            facility=facility,
            title="Rounds compliance",
            unit=unit.name if unit else "All units",
            period=f"{form.cleaned_data['start']} to {form.cleaned_data['end']}",
            filename=f"rounds-compliance-{form.cleaned_data['start']}.pdf",
        )
    return render(request, "observations/compliance.html", context)


@policy.requires("census.view")
@require_GET
def observation_sheet_pdf(request, public_id):
    """The day's 15-minute observation sheet for one client (specs/rounds.md, printed sheet)."""
    admission = admission_for(request, public_id)
    facility = admission.facility
    form = SheetDayForm(
        request.GET or {"date": timezone.localtime(timezone.now(), facility.tz).date().isoformat()}
    )
    if not form.is_valid():
        raise Http404(form.errors["date"][0])
    day = form.cleaned_data["date"]
    earliest, latest = admission.stay_days()
    if not earliest <= day <= latest:
        raise Http404(f"Date: this stay runs from {earliest} to {latest}.")
    start, end = local_day(facility, day)
    rows, levels, signers = observation_sheet(
        admission, day_start=start, day_end=end, now=timezone.now()
    )
    half = (len(rows) + 1) // 2
    return pdf_response(
        request,
        template="observations/pdf/sheet.html",
        context={
            "admission": admission,
            "client": admission.client,
            "columns": [rows[:half], rows[half:]],
            "levels": levels,
            "signers": signers,
            "day": day,
        },
        facility=facility,
        client=admission.client,
        title="15-minute observation sheet",
        unit=admission.unit.name,
        period=day.isoformat(),
        filename=f"observation-sheet-{admission.client.mrn}-{day}.pdf",
    )


SECURITY_HISTORY = 12  # rounds listed under the form
FINDINGS_LISTED = 20  # findings between rounds listed under the rounds, newest first


def _security_page(request, facility, *, round_form=None, finding_form=None, errors=()):
    """The security page: the round of the window in progress (nothing pre-marked), the rounds
    history, the finding form and the findings between rounds. A refused form is shown as typed,
    with status 400. Query count constant in areas, rounds and findings."""
    areas = round_form.areas if round_form is not None else _security_areas(facility)
    now = timezone.now()
    window = window_at(now, facility.tz, facility.shift_pattern)
    posted = round_form.as_typed() if round_form is not None else {}
    field_errors = round_form.errors if round_form is not None else {}
    recent = list(
        SecurityRound.objects.filter(facility=facility)
        .select_related("completed_by")
        .prefetch_related(
            Prefetch("checks", SecurityCheck.objects.select_related("area").filter(ok=False))
        )[:SECURITY_HISTORY]
    )
    opened = window[0].astimezone(UTC)
    done = next((r for r in recent if r.window_start.astimezone(UTC) == opened), None)
    # Nothing is pre-marked: each area is marked OK or a finding by the person who walked it.
    rows = [
        {
            "area": a,
            "posted": posted.get(a.pk, {"ok": None}),
            "errors": [
                e
                for part in ("ok", "finding", "where", "action")
                for e in field_errors.get(f"{part}-{a.pk}", [])
            ],
        }
        for a in areas
    ]
    findings = list(
        SecurityFinding.objects.filter(facility=facility)
        .select_related("area", "recorded_by")
        .order_by("-found_at", "-recorded_at")[:FINDINGS_LISTED]
    )
    return render(
        request,
        "observations/security.html",
        {
            "facility": facility,
            "window": window,
            "done": done,
            "rows": rows,
            "recent": recent,
            "errors": list(errors),
            "walked_all_errors": field_errors.get("walked_all", []),
            "finding_form": finding_form or SecurityFindingForm(facility=facility),
            "findings": findings,
        },
        status=400 if errors or (finding_form is not None and finding_form.errors) else 200,
    )


def _security_areas(facility) -> list[SecurityArea]:
    return list(SecurityArea.objects.filter(facility=facility, active=True))


@policy.requires("floor.chart")
@require_http_methods(["GET", "POST"])
def security_round(request):
    """Walk the building for the window in progress: every area explicitly OK or a finding, or
    the single "all OK" action with its "I walked every area" tick (recorded as such)."""
    facility = current_facility_or_404(request)
    if request.method != "POST":
        return _security_page(request, facility)
    form = SecurityRoundForm(request.POST, areas=_security_areas(facility))
    if not form.is_valid():
        return _security_page(request, facility, round_form=form, errors=form.messages())
    try:
        services.security_round_complete(
            actor=request.user,
            facility=facility,
            results=form.results(),
            all_ok_declared=form.all_ok,
        )
    except ValidationError as exc:
        return _security_page(request, facility, round_form=form, errors=exc.messages)
    if form.all_ok:
        messages.success(request, "Security round recorded: every area OK.")
    else:
        messages.success(request, "Security round recorded.")
    return redirect("observations:security")


# ---------------------------------------------------------------- downtime entry (issue 10 item 5)

DOWNTIME_ROWS = 12  # rows on a fresh sheet; "More rows" adds as many again


def _downtime_row_count(data) -> int:
    """How many rows the posted sheet has (a hidden field), kept within 1 and the maximum."""
    try:
        count = int(data.get("rows", DOWNTIME_ROWS))
    except (TypeError, ValueError):
        count = DOWNTIME_ROWS
    return min(max(count, 1), services.DOWNTIME_MAX_ROWS)


def _downtime_key(form, errors, adding) -> uuid.UUID:
    """A refused or growing sheet keeps its key (nothing was saved under it); a garbled key, or
    a fresh sheet, gets a new one."""
    if errors:
        return getattr(form, "cleaned_data", {}).get("submission_key") or uuid.uuid4()
    if adding:
        try:
            return uuid.UUID(str(form.data.get("submission_key", "")))
        except ValueError:
            pass
    return uuid.uuid4()


def downtime_admissions(unit: Unit, now) -> list[Admission]:
    """Stays on the unit at any time in the last 24 hours: who a downtime sheet can name."""
    since = now - services.DOWNTIME_WINDOW
    return list(
        Admission.objects.filter(unit=unit, admitted_at__lt=now)
        .exclude(discharged_at__lte=since)
        .select_related("client", "bed")
        .order_by("bed__label", "admitted_at")
    )


@policy.requires("rounds.downtime")
@require_GET
def downtime_home(request):
    """Open the downtime entry of the first unit of the current facility."""
    facility = current_facility_or_404(request)
    unit = Unit.objects.filter(facility=facility).order_by("name").first()
    if unit is None:
        raise Http404("This facility has no units.")
    return redirect("observations:downtime", public_id=unit.public_id)


@policy.requires("rounds.downtime")
@require_http_methods(["GET", "POST"])
def downtime(request, public_id):
    """Enter a paper downtime sheet for a unit: checks of the last 24 hours, saved late with a
    reason and the server's time, closing the missed-check alerts they answer."""
    unit = unit_for(request, public_id)
    facility = unit.facility
    now = timezone.now()
    locations, statuses = _codes(facility)
    admissions = downtime_admissions(unit, now)
    data = request.POST if request.method == "POST" else None
    count = _downtime_row_count(data or {})
    adding = data is not None and "more" in data
    if adding:
        count = min(count + DOWNTIME_ROWS, services.DOWNTIME_MAX_ROWS)
    form = DowntimeForm(
        data,
        rows=count,
        admissions=admissions,
        locations=locations,
        statuses=statuses,
        now=now,
    )
    errors = []
    if data is not None and not adding:
        if not form.is_valid():
            errors = form.messages()
        else:
            try:
                recorded, closed, repeat = services.downtime_submit(
                    actor=request.user,
                    facility=facility,
                    submission_key=form.cleaned_data["submission_key"],
                    rows=form.rows(),
                    reason=form.cleaned_data["reason"],
                    now=now,
                )
            except ValidationError as exc:
                errors = exc.messages
            else:
                if repeat:
                    messages.info(request, "This downtime sheet was already recorded.")
                else:
                    messages.success(
                        request,
                        f"Downtime sheet recorded: {recorded} check{pluralize(recorded)}, "
                        f"marked late; {closed} missed-check alert{pluralize(closed)} closed.",
                    )
                return redirect("observations:downtime", public_id=unit.public_id)
    entered = (
        RoundCheck.objects.filter(
            source=CheckSource.DOWNTIME,
            admission__unit=unit,
            recorded_at__gte=now - services.DOWNTIME_WINDOW,
        )
        .select_related("admission__client", "location", "status", "recorded_by")
        .order_by("-recorded_at", "-observed_at")[:100]
    )
    return render(
        request,
        "observations/downtime.html",
        {
            "unit": unit,
            "facility": facility,
            "units": Unit.objects.filter(facility=facility).order_by("name"),
            "form": form,
            "count": count,
            "submission_key": _downtime_key(form, errors, adding),
            "errors": errors,
            "entered": list(entered),
            "window_start": now - services.DOWNTIME_WINDOW,
            "now": now,
        },
        status=400 if errors else 200,
    )


# ---------------------------------------------------------------- security findings between rounds


@policy.requires("floor.chart")
@require_POST
def security_finding(request):
    """Record a finding made between rounds (issue 10 item 9); it always alerts the supervisor.
    A refused finding is shown on the security page as typed."""
    facility = current_facility_or_404(request)
    form = SecurityFindingForm(request.POST, facility=facility)
    if form.is_valid():
        data = form.cleaned_data
        try:
            found = services.security_finding_record(
                actor=request.user,
                area=data["area"],
                found_at=data["found_at"],
                finding=data["finding"],
                location_detail=data["location_detail"],
                action_taken=data["action_taken"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Finding recorded; the supervisor is alerted.")
            return redirect(reverse("observations:security") + f"#finding-{found.public_id}")
    return _security_page(request, facility, finding_form=form)


# ---------------------------------------------------------------- My 1:1 and hand-offs
# (issue 10 item 2, specs/rounds.md Levels: continuous observation is the observer's job)

FIRST_ENTRY = timedelta(minutes=15)  # continuous levels are documented every 15-minute block


@dataclass
class Watch:
    """A client the signed-in observer holds, as "My 1:1" shows them."""

    assignment: ObserverAssignment
    level: services.CurrentLevel
    last: RoundCheck | None  # the latest entry by an observer (this one or the one before)
    due_by: datetime
    done: bool  # the current block (or the first entry after the level began) is charted
    offered_to: ObserverHandoff | None  # this watch offered to someone, not yet accepted
    now: datetime
    # The latest offer of this watch that was declined or withdrawn in the last two hours: the
    # offerer is told it was not taken and that the watch is still theirs.
    not_taken: ObserverHandoff | None = None
    form: SeenForm | None = None  # a refused entry, shown as typed
    submission_key: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def admission(self) -> Admission:
        return self.assignment.admission

    @property
    def minutes_since(self) -> int | None:
        if self.last is None:
            return None
        return int((self.now - self.last.observed_at).total_seconds() // 60)

    @property
    def overdue(self) -> bool:
        return not self.done and self.now >= self.due_by

    @property
    def chosen_location(self) -> str:
        """The location chip shown chosen: as posted on a refused entry, else the last one's."""
        if self.form is not None:
            return str(self.form.data.get("location", ""))
        return str(self.last.location_id) if self.last else ""

    @property
    def chosen_status(self) -> str:
        """As the location, except a status that needs breathing seen (sleeping): never
        pre-filled, a sleeping client needs a fresh look every entry."""
        if self.form is not None:
            return str(self.form.data.get("status", ""))
        if self.last is None or self.last.status.needs_respirations:
            return ""
        return str(self.last.status_id)


def _due_by(admission, level: services.CurrentLevel, last, now, tz) -> tuple[datetime, bool]:
    """When the observer's next entry is due: the first after the latest event that owes one
    (admission, the level's start, a return from leave: services.first_check_deadline, the
    board's rule), then by the end of each 15-minute clock block; an entry in the current block
    moves it to the next block's end."""
    event, deadline = services.first_check_deadline(admission, level, admission.recent_leaves)
    if last is None or last.observed_at < event:
        return deadline, False
    block = block_floor(timezone.localtime(now, tz), 15)
    block_end = block.astimezone(UTC) + FIRST_ENTRY
    if last.observed_at >= block.astimezone(UTC):
        return block_end + FIRST_ENTRY, True
    return block_end, False


NOT_TAKEN_SHOWN = timedelta(hours=2)


def my_watches(user, facility, now) -> tuple[list[Watch], list[ObserverHandoff]]:
    """The clients the user holds in this facility and the hand-offs offered to them, in a
    number of queries that does not depend on how many (My 1:1, and its row on "My work")."""
    assignments = list(
        ObserverAssignment.objects.filter(
            observer=user,
            ended_at__isnull=True,
            admission__facility=facility,
            admission__discharged_at__isnull=True,
        )
        .select_related("admission__client", "admission__bed", "admission__unit")
        .prefetch_related(
            "admission__client__allergy_rows",
            recent_leaves(now, "admission__leaves"),
        )
    )
    held = [a.admission_id for a in assignments]
    handoffs = list(
        ObserverHandoff.objects.filter(closed_at__isnull=True)
        .filter(
            Q(admission__in=held)
            | Q(
                to_observer=user,
                admission__facility=facility,
                admission__discharged_at__isnull=True,
            )
        )
        .select_related(
            "admission__client",
            "admission__bed",
            "to_observer",
            "offered_by",
            "from_assignment__observer",
        )  # fmt: skip
    )
    offers = [h for h in handoffs if h.to_observer_id == user.pk]
    away = {h.admission_id: h for h in handoffs if h.to_observer_id != user.pk}
    not_taken = {
        h.from_assignment_id: h
        for h in ObserverHandoff.objects.filter(
            from_assignment__in=assignments,
            accepted_at__isnull=True,
            closed_at__gte=now - NOT_TAKEN_SHOWN,
        )
        .select_related("to_observer")
        .order_by("closed_at")
    }
    admissions = [a.admission for a in assignments] + [h.admission for h in offers]
    levels = services.current_levels(admissions, now)
    last = {
        c.admission_id: c
        for c in RoundCheck.objects.filter(admission__in=held)
        .filter(Q(source=CheckSource.OBSERVER) | Q(recorded_by=user))
        .order_by("admission_id", "-observed_at", "-id")
        .distinct("admission_id")
        .select_related("location", "status", "recorded_by")
    }
    watches = []
    for a in assignments:
        level = levels[a.admission_id]
        check = last.get(a.admission_id)
        due_by, done = _due_by(a.admission, level, check, now, facility.tz)
        watches.append(
            Watch(a, level, check, due_by, done, away.get(a.admission_id), now, not_taken.get(a.pk))
        )
    for h in offers:
        h.level = levels[h.admission_id]
    return watches, offers


@policy.requires("floor.chart")
@require_http_methods(["GET", "POST"])
def my_observation(request):
    """ "My 1:1": the clients I observe, a large "seen" entry for each every 15 minutes, and the
    hand-offs offered to me. Only the assigned observer's entries count (specs/rounds.md)."""
    facility = current_facility_or_404(request)
    now = timezone.now()
    locations, statuses = _codes(facility)
    watches, offers = my_watches(request.user, facility, now)
    refused = False
    if request.method == "POST":
        form = SeenForm(request.POST, locations=locations, statuses=statuses)
        pid = form.data.get("admission", "")
        watch = next((w for w in watches if str(w.admission.public_id) == pid), None)
        if form.is_valid() and watch is None:
            form.add_error(
                None,
                "This client is not yours to observe now (the watch was handed off or ended); "
                "nothing was saved.",
            )
        if form.is_valid():
            try:
                services.round_submit(
                    actor=request.user,
                    facility=facility,
                    submission_key=form.cleaned_data["submission_key"],
                    observed_at=now,
                    entries=[form.entry(watch.admission, now)],
                    now=now,
                )
            except (ValidationError, PermissionDenied) as exc:
                add_service_errors(form, exc)
            else:
                when = timezone.localtime(now, facility.tz)
                messages.success(
                    request, f"Seen at {when:%H:%M}: {watch.admission.client.display_name}."
                )
                return redirect("observations:my_observation")
        refused = True
        if watch is not None:
            watch.form = form
            # Nothing was saved under this key: the corrected entry may reuse it.
            watch.submission_key = form.cleaned_data.get("submission_key") or uuid.uuid4()
        else:
            messages.error(request, " ".join(_form_messages(form)))
    context = {
        "facility": facility,
        "watches": watches,
        "offers": offers,
        "locations": locations,
        "statuses": statuses,
        "observer_choices": list(observer_choices(facility).exclude(pk=request.user.pk))
        if watches
        else [],
        "now": now,
    }
    return render(
        request, "observations/my_observation.html", context, status=400 if refused else 200
    )


def _form_messages(form) -> list[str]:
    return [m for errors in form.errors.values() for m in errors]


def _handoff_for(request, public_id) -> ObserverHandoff:
    """A hand-off of a client the user may see, else 404."""
    return get_object_or_404(
        ObserverHandoff.objects.select_related("admission__client", "to_observer"),
        public_id=public_id,
        admission__in=admissions_visible_to(request.user),
    )


def _handoff_step(request, public_id, step, said) -> ObserverHandoff:
    """Run one hand-off service step for the signed-in user and say what it did; a refusal is
    shown as the service's message."""
    handoff = _handoff_for(request, public_id)
    try:
        step(actor=request.user, handoff=handoff)
    except ValidationError as exc:
        add_service_errors(request, exc)
    else:
        said(handoff)
    return handoff


@policy.requires("floor.chart")
@require_POST
def handoff_accept(request, public_id):
    """The person offered takes the watch (only they may: 403 for anyone else)."""
    _handoff_step(
        request,
        public_id,
        services.handoff_accept,
        lambda h: messages.success(request, f"You now observe {h.admission.client.display_name}."),
    )
    return redirect("observations:my_observation")


@policy.requires("floor.chart")
@require_POST
def handoff_decline(request, public_id):
    """The person offered says no; the current observer keeps the client."""
    _handoff_step(
        request,
        public_id,
        services.handoff_decline,
        lambda h: messages.info(request, "Hand-off declined."),
    )
    return redirect("observations:my_observation")


@policy.requires("floor.chart")
@require_POST
def handoff_withdraw(request, public_id):
    """Take back an offer nobody accepted."""
    handoff = _handoff_step(
        request,
        public_id,
        services.handoff_withdraw,
        lambda h: messages.info(request, f"Offer to {h.to_observer.full_name} withdrawn."),
    )
    if request.POST.get("back") == "mine":
        return redirect("observations:my_observation")
    return redirect("clients:chart", public_id=handoff.admission.client.public_id)
