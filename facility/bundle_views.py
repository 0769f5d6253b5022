"""Printing for survey (issue 15 item 5): one PDF for a period of at most 31 days, with a cover,
a table of contents with page numbers and PDF bookmarks, every shift report of the period in
order, then the sections other apps register (facility/registry.py, BundleSection: rounds
compliance, incidents).

The shift reports are printed with the markup of the shift report's own PDF
(templates/pdf/shift_report_body.html). This module imports no domain app: compliance and
incidents come through the registry. The period is the shifts that start on the days chosen and
have started by now; the sections cover the same instants, from the first shift's start to the
last one's end (or now).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from facility import handoff as handoffs
from facility import policy
from facility.access import current_facility_or_404
from facility.forms import HavenForm
from facility.models import Facility, Unit
from facility.pdf import pdf_response
from facility.registry import registry
from facility.report_views import OLDEST_REPORT, check_period, clean_unit
from facility.shift_report import build_shift_report

MAX_DAYS = 31
DEFAULT_DAYS = 7


def _day_field(label: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": f"{label}: choose a date.",
            "invalid": f"{label}: enter a date (YYYY-MM-DD).",
        },
    )


class BundleForm(HavenForm):
    """The bundle's period as local days of the facility, From ≤ To, at most 31 days, none in
    the future nor older than the shift report keeps (three years); and a unit or all. The
    query names them `from`, `to` and `unit` (the view maps them)."""

    start = _day_field("From")
    end = _day_field("To")
    unit = forms.CharField(required=False, max_length=36, label="Unit")

    def __init__(self, *args, facility: Facility, now: datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self.facility = facility
        self.today = timezone.localtime(now, facility.tz).date()
        # The project's date check compares with UTC today; this one is on the facility's clock.
        for name in ("start", "end"):
            self.fields[name].validators = []

    def _day(self, name: str, label: str) -> date:
        day = self.cleaned_data[name]
        earliest = self.today - OLDEST_REPORT
        if not earliest <= day <= self.today:
            raise ValidationError(
                f"{label}: enter a date between {earliest:%Y-%m-%d} and {self.today:%Y-%m-%d}."
            )
        return day

    def clean_start(self) -> date:
        return self._day("start", "From")

    def clean_end(self) -> date:
        return self._day("end", "To")

    def clean_unit(self) -> Unit | None:
        return clean_unit(self.facility, self.cleaned_data["unit"])

    def clean(self):
        data = super().clean()
        check_period(self, MAX_DAYS, f"To: a bundle covers at most {MAX_DAYS} days.")
        return data


@dataclass(frozen=True)
class BundleShift:
    day: date
    key: str
    start: datetime
    end: datetime

    @property
    def anchor(self) -> str:
        return f"shift-{self.day:%Y%m%d}-{self.key}"


def period_shifts(facility: Facility, start: date, end: date, now: datetime) -> list[BundleShift]:
    """Every shift that starts on a day of [start, end] (local days) and has started by now, in
    order."""
    shifts, day = [], start
    while day <= end:
        for key, _label in facility.shift_choices():
            begin, finish = facility.shift_bounds(day, key)
            if begin <= now:
                shifts.append(BundleShift(day, key, begin, finish))
        day += timedelta(days=1)
    return sorted(shifts, key=lambda s: s.start)


def build_bundle(facility: Facility, *, start: date, end: date, unit, now: datetime, user) -> dict:
    """What the bundle's PDF template needs: the shift reports as their PDF lays them out, and
    each registered section rendered for the same instants."""
    shifts = period_shifts(facility, start, end, now)
    reports = []
    for shift in shifts:
        report = build_shift_report(
            facility, day=shift.day, shift_key=shift.key, now=now, unit=unit
        )
        reports.append(
            {
                **handoffs.presented(report),
                "anchor": shift.anchor,
                "title": handoffs.report_period(report),
                "handoff": handoffs.handoff_for(facility, unit, shift.day, shift.key),
            }
        )
    since = shifts[0].start if shifts else now
    until = min(shifts[-1].end, now) if shifts else now
    sections = []
    # Section templates show times in the active zone: the facility's, as render_pdf does.
    with timezone.override(facility.tz):
        for section in registry.bundle_sections:
            context = section.render(
                facility=facility, unit=unit, start=since, end=until, now=now, user=user
            )
            sections.append(
                {
                    "key": section.key,
                    "anchor": f"section-{section.key}",
                    "title": section.title,
                    "html": mark_safe(render_to_string(section.template, context)),  # noqa: S308
                }
            )
    return {
        "shifts": reports,
        "sections": sections,
        "since_local": timezone.localtime(since, facility.tz),
        "until_local": timezone.localtime(until, facility.tz),
    }


def _form(request, facility: Facility, now: datetime) -> BundleForm | None:
    """The form bound to the query (`from`, `to`, `unit`), or None when nothing was asked."""
    if not any(k in request.GET for k in ("from", "to", "unit", "format")):
        return None
    data = {"start": request.GET.get("from", ""), "end": request.GET.get("to", "")}
    data["unit"] = request.GET.get("unit", "")
    form = BundleForm(data, facility=facility, now=now)
    form.is_valid()  # a foreign unit raises Http404 here
    return form


@policy.requires("report.print")
@require_GET
def survey_bundle(request):
    """The form (From, To, unit); submitted with format=pdf, the bundle as one PDF, audited as
    any print. Without format=pdf, a valid period shows what the bundle will hold."""
    facility = current_facility_or_404(request)
    now = timezone.now()
    form = _form(request, facility, now)
    units = list(Unit.objects.filter(facility=facility).order_by("name"))
    today = timezone.localtime(now, facility.tz).date()
    context = {
        "facility": facility,
        "units": units,
        "form": form,
        "max_days": MAX_DAYS,
        "value_from": (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
        "value_to": today.isoformat(),
        "value_unit": "",
    }
    if form is None:
        return render(request, "facility/survey_bundle.html", context)
    context.update(
        value_from=request.GET.get("from", "")[:10],
        value_to=request.GET.get("to", "")[:10],
        value_unit=request.GET.get("unit", "")[:36],
    )
    if form.errors:
        return render(request, "facility/survey_bundle.html", context, status=400)
    start, end, unit = (form.cleaned_data[k] for k in ("start", "end", "unit"))
    if request.GET.get("format") != "pdf":
        query = {"from": start.isoformat(), "to": end.isoformat(), "format": "pdf"}
        if unit is not None:
            query["unit"] = str(unit.public_id)
        context.update(
            chosen_unit=unit,
            shifts=[
                (s, dict(facility.shift_choices())[s.key])
                for s in period_shifts(facility, start, end, now)
            ],
            section_titles=[s.title for s in registry.bundle_sections],
            pdf_url=f"{reverse('survey_bundle')}?{urlencode(query)}",
        )
        return render(request, "facility/survey_bundle.html", context)
    unit_slug = f"-{unit.name.lower().replace(' ', '-')}" if unit else ""
    return pdf_response(
        request,
        template="pdf/survey_bundle.html",
        context=build_bundle(facility, start=start, end=end, unit=unit, now=now, user=request.user),
        facility=facility,
        title="Survey bundle",
        unit=unit.name if unit else "All units",
        period=f"{start:%Y-%m-%d} to {end:%Y-%m-%d}",
        filename=f"survey-bundle-{start:%Y%m%d}-{end:%Y%m%d}{unit_slug}.pdf",
    )
