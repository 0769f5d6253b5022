"""What nurses review of vital signs on a unit (issue 11 item 4): the latest set of every client,
flags marked, NEWS2 and its band, sortable (most concerning NEWS2 first by default). A client with
no set yet is listed as such, never dropped. The page's queries do not grow with the number of
clients.

"The latest set" is the latest with a NEWS2 parameter (a core vital sign of
services.vitals.CORE_FIELDS, what the schedule counts, or ACVPU): a weight or a pain score charted
later is shown beside it, never in its place, so it cannot hide a high NEWS2.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from clients.access import admission_for
from clients.models import Admission
from facility import policy
from facility.access import current_facility
from facility.models import Unit
from observations.forms import VITALS_SORTS, VitalsReviewForm
from observations.models import VitalSigns
from observations.services.vitals import (
    CORE_FIELDS,
    news2_partial,
    schedules_in_force,
    vitals_news2,
)
from observations.views.rounds import unit_for
from observations.vitals_chart import trends_context

# NEWS2 bands from the most to the least urgent (the sort's first key); an incomplete set that
# reaches no band yet ranks with "low".
BAND_RANK = {"high": 0, "medium": 1, "low-medium": 2, "low": 3, "": 3}
CELLS = [  # (label, fields whose flag marks the cell)
    ("BP", ("sbp", "dbp")),
    ("HR", ("hr",)),
    ("RR", ("rr",)),
    ("Temp", ("temp_c",)),
    ("SpO2", ("spo2",)),
    ("ACVPU", ()),
]


@dataclass
class ReviewRow:
    admission: Admission
    vitals: VitalSigns | None
    cells: list[dict]
    not_validated: str

    @property
    def news2_total(self) -> int | None:
        return self.vitals.news2_total if self.vitals else None

    @property
    def band(self) -> str:
        if self.vitals is None:
            return ""
        return self.vitals.news2_band or "incomplete"

    ago: str = ""
    later: VitalSigns | None = None  # a later set without a core vital sign (a weight, pain)
    partial_total: int | None = None  # the score of the parameters present (complete: total)
    partial_band: str = ""  # the band that score already reaches ("" below low-medium)
    red: bool = False  # one parameter scores 3

    @property
    def flag_count(self) -> int:
        return len([f for f in self.vitals.flags.split(",") if f]) if self.vitals else 0


def _cells(v: VitalSigns | None) -> list[dict]:
    if v is None:
        return []
    flags = set(v.flags.split(",")) - {""}
    texts = [
        f"{v.sbp}/{v.dbp}" if v.sbp is not None and v.dbp is not None else "",
        "" if v.hr is None else str(v.hr),
        "" if v.rr is None else str(v.rr),
        "" if v.temp_c is None else f"{v.temp_c}",
        "" if v.spo2 is None else f"{v.spo2}{' O2' if v.on_oxygen else ''}",
        v.acvpu,
    ]
    return [
        {"label": label, "text": text, "flagged": any(k in flags for k in keys)}
        for (label, keys), text in zip(CELLS, texts, strict=True)
    ]


def _not_validated(admission: Admission, schedule, today) -> str:
    if schedule is not None and schedule.pregnant:
        return "not validated (pregnancy)"
    if admission.client.age_on(today) < 16:
        return "not validated (under 16)"
    return ""


def _core_q() -> Q:
    """A set with a NEWS2 parameter: a core vital sign, or a consciousness level (an ACVPU "U"
    charted alone is a red score, never a "later partial set")."""
    core = ~Q(acvpu="")
    for name in CORE_FIELDS:
        core |= Q(**{f"{name}__isnull": False})
    return core


def _latest(admissions, now: datetime, *, core: bool) -> dict[int, VitalSigns]:
    rows = VitalSigns.objects.filter(
        admission__in=[a.pk for a in admissions], struck_at__isnull=True, taken_at__lte=now
    )
    rows = rows.filter(_core_q()) if core else rows.exclude(_core_q())
    return {
        v.admission_id: v
        for v in rows.order_by("admission_id", "-taken_at", "-id").distinct("admission_id")
    }


def _row(a: Admission, v, later, schedule, today, now: datetime) -> ReviewRow:
    if later is not None and v is not None and later.taken_at <= v.taken_at:
        later = None
    partial_total, partial_band, red = (None, "", False)
    if v is not None:
        news = vitals_news2(v)
        partial_total, partial_band = news2_partial(news)
        red = news.red
    return ReviewRow(
        a,
        v,
        _cells(v),
        _not_validated(a, schedule, today),
        _ago(v.taken_at, now) if v is not None else "",
        later,
        partial_total,
        partial_band,
        red,
    )


def review_rows(unit: Unit, now: datetime) -> list[ReviewRow]:
    """Every client admitted to the unit with their latest set with a NEWS2 parameter (not
    struck) and any later set without one (a weight, a pain score), in four queries."""
    admissions = list(
        Admission.objects.filter(unit=unit, discharged_at__isnull=True).select_related(
            "client", "bed"
        )
    )
    if not admissions:
        return []
    latest = _latest(admissions, now, core=True)
    later = _latest(admissions, now, core=False)
    schedules = schedules_in_force(admissions, now)
    today = timezone.localtime(now, unit.facility.tz).date()
    return [
        _row(a, latest.get(a.pk), later.get(a.pk), schedules.get(a.pk), today, now)
        for a in admissions
    ]


def _ago(at: datetime, now: datetime) -> str:
    """ "35 min ago", "4 h ago", "3 d ago"."""
    minutes = max(0, int((now - at).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // 1440} d ago"


def _name_key(row: ReviewRow):
    c = row.admission.client
    return ((c.preferred_name or c.legal_first_name).casefold(), c.legal_last_name.casefold())


def _bed_key(row: ReviewRow):
    bed = row.admission.bed
    return (bed.label if bed else "~", _name_key(row))


def sort_rows(rows: list[ReviewRow], sort: str) -> list[ReviewRow]:
    """news2: by concern, the band first (high, medium, low-medium, low: the spec's response
    table, so a red 3 is above a low 4), then the total, a red score, the most flags, the newest
    set. An incomplete set is placed among the scored ones by what its parameters present
    already score (services.vitals.news2_partial): HR 150 and SBP 70 without a temperature is
    "at least high". Clients with no set last. name, bed: A→Z. time: the oldest latest set
    first, clients with no set at the top (they are owed most)."""
    if sort == "name":
        return sorted(rows, key=_name_key)
    if sort == "bed":
        return sorted(rows, key=_bed_key)
    if sort == "time":
        return sorted(
            rows,
            key=lambda r: (
                r.vitals is not None,
                r.vitals.taken_at if r.vitals else 0,
                _name_key(r),
            ),
        )

    def news_key(r: ReviewRow):
        v = r.vitals
        if v is None:
            return (1, 0, 0, 0, 0, 0, _name_key(r))
        return (
            0,
            BAND_RANK.get(r.partial_band, 9),
            -(r.partial_total or 0),
            0 if r.red else 1,
            -r.flag_count,
            -v.taken_at.timestamp(),
            _name_key(r),
        )

    return sorted(rows, key=news_key)


@policy.requires("vitals.view")
@require_GET
def vitals_review_home(request):
    """The vitals review of the first unit of the current facility."""
    facility = current_facility(request)
    unit = Unit.objects.filter(facility=facility).order_by("name").first() if facility else None
    if unit is None:
        raise Http404("This facility has no units.")
    return redirect("observations:vitals_review", public_id=unit.public_id)


@policy.requires("vitals.view")
@require_GET
def vitals_review(request, public_id):
    """The latest set of every client on the unit, sortable; NEWS2 highest first by default."""
    unit = unit_for(request, public_id)
    facility = unit.facility
    timezone.activate(facility.tz)
    form = VitalsReviewForm(request.GET if "sort" in request.GET else None)
    sort = "news2"
    if form.is_bound and form.is_valid():
        sort = form.cleaned_data["sort"] or "news2"
    now = timezone.now()
    rows = sort_rows(review_rows(unit, now), sort)
    return render(
        request,
        "observations/vitals_review.html",
        {
            "unit": unit,
            "units": list(Unit.objects.filter(facility=facility).order_by("name")),
            "rows": rows,
            "sort": sort,
            "sorts": VITALS_SORTS,
            "errors": [e for errs in form.errors.values() for e in errs] if form.is_bound else [],
            "now": now,
            "with_sets": sum(1 for r in rows if r.vitals is not None),
        },
    )


@policy.requires("vitals.view")
@require_GET
def vitals_trends(request, public_id):
    """The chart's trends and history of one stay: the fragment the vitals section fetches when
    it scrolls into view (and the range form and history pages swap)."""
    admission = admission_for(request, public_id)
    return render(
        request,
        "observations/sections/vitals_trends.html",
        {"ctx": trends_context(request, admission)},
    )
