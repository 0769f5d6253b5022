"""The shift report pages (issue 15 items 2-3): the report of one shift on screen and as a PDF,
the handoff buttons, and the frozen report a handoff stored.

The report comes from facility/shift_report.py and the handoff from facility/handoff.py; this
module imports no domain app. Everything is scoped to the user's current facility: a unit or a
handoff of another facility is a 404.
"""

import uuid
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from facility import handoff as handoffs
from facility import policy
from facility.access import client_ip, current_facility_or_404
from facility.forms import HavenForm, add_service_errors
from facility.models import AccessAction, Handoff, Unit
from facility.pdf import pdf_response
from facility.services import access_log
from facility.shift_report import build_shift_report

# How far back a report may be opened: three years of survey history.
OLDEST_REPORT = timedelta(days=3 * 366)


def clean_unit(facility, value: str) -> Unit | None:
    """A unit by public id (empty: all units): malformed is a field message; well formed but not
    one of this facility's units is a 404 (raised from is_valid), as for any object of another
    facility."""
    value = value.strip()
    if not value:
        return None
    try:
        public_id = uuid.UUID(value)
    except ValueError:
        raise ValidationError("Unit: choose one of this facility's units.") from None
    unit = Unit.objects.filter(facility=facility, public_id=public_id).first()
    if unit is None:
        raise Http404("No such unit.")
    return unit


def check_period(form, max_days: int, too_long: str) -> None:
    """A form's From (`start`) and To (`end`) days: To not before From, at most `max_days`
    days; the message `too_long` on To otherwise."""
    start, end = form.cleaned_data.get("start"), form.cleaned_data.get("end")
    if start and end and end < start:
        form.add_error("end", "To: not before the From date.")
    elif start and end and (end - start).days + 1 > max_days:
        form.add_error("end", too_long)


class ShiftForm(HavenForm):
    """Which shift: a unit of the facility (or all), a local day and a shift key. Left out, the
    day and the shift are those of the shift in progress."""

    unit = forms.CharField(required=False, max_length=36, label="Unit")
    day = forms.DateField(
        required=False,
        label="Day",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Day: enter a date (YYYY-MM-DD)."},
    )
    shift = forms.ChoiceField(
        required=False,
        label="Shift",
        error_messages={"invalid_choice": "Shift: choose one of this facility's shifts."},
    )

    def __init__(self, *args, facility, now, **kwargs):
        super().__init__(*args, **kwargs)
        self.facility, self.now = facility, now
        self.fields["shift"].choices = facility.shift_choices()
        # The project's date check compares with UTC today; this one is on the facility's clock.
        self.fields["day"].validators = []
        self.current = facility.current_shift(now)

    def clean_unit(self) -> Unit | None:
        return clean_unit(self.facility, self.cleaned_data["unit"])

    def clean_day(self):
        day = self.cleaned_data["day"]
        if day is None:
            return self.current[0]
        today = timezone.localtime(self.now, self.facility.tz).date()
        if not today - OLDEST_REPORT <= day <= today:
            raise ValidationError(
                f"Day: enter a date between {today - OLDEST_REPORT:%Y-%m-%d} and {today:%Y-%m-%d}."
            )
        return day

    def clean(self):
        data = super().clean()
        if "day" in data and not data.get("shift") and "shift" not in self.errors:
            data["shift"] = self.current[1]
        day, key = data.get("day"), data.get("shift")
        if day and key and self.facility.shift_bounds(day, key)[0] > self.now:
            self.add_error("shift", "Shift: that shift has not started yet.")
        return data


def _shift_form(request, data, facility, now) -> ShiftForm:
    form = ShiftForm(data, facility=facility, now=now)
    form.is_valid()  # a foreign unit raises Http404 here
    return form


def _shift_of(form: ShiftForm):
    return form.cleaned_data["unit"], form.cleaned_data["day"], form.cleaned_data["shift"]


def _neighbours(facility, day, key) -> tuple[tuple, tuple | None]:
    """The shifts before and after, as (day, key); None after the one in progress."""
    start, end = facility.shift_bounds(day, key)
    before = facility.current_shift(start - timedelta(seconds=1))
    after = facility.current_shift(end)
    return before, (after if end <= timezone.now() else None)


@policy.requires("report.view")
@require_GET
def shift_report(request):
    """The report of one shift for the facility or one unit: census and facility sections, the
    clients with something to hand off (ordered by concern), then the quiet ones, one line each;
    and the handoff of that shift with its buttons."""
    facility = current_facility_or_404(request)
    now = timezone.now()
    form = _shift_form(request, request.GET, facility, now)
    units = list(Unit.objects.filter(facility=facility).order_by("name"))
    context = {"facility": facility, "units": units, "form": form}
    if form.errors:
        return render(request, "facility/shift_report.html", context, status=400)
    unit, day, key = _shift_of(form)
    report = build_shift_report(facility, day=day, shift_key=key, now=now, unit=unit)
    handoff = handoffs.handoff_for(facility, unit, day, key)
    before, after = _neighbours(facility, day, key)
    # "Report given" opens in the shift's last hour (facility/handoff.py, GIVE_FROM).
    opens_at = handoffs.handoff_opens_at(facility, day, key)
    context.update(
        handoffs.presented(report),
        unit=unit,
        period=handoffs.report_period(report),
        handoff=handoff,
        previous_url=handoffs.report_url(facility, unit, *before),
        next_url=handoffs.report_url(facility, unit, *after) if after else "",
        # Built from what the page shows, not from the query it was opened with.
        pdf_url=handoffs.report_url(facility, unit, day, key, name="shift_report_pdf"),
        can_print=policy.allows(request.user, "report.print"),
        can_handoff=policy.allows(request.user, "report.handoff"),
        handoff_open=opens_at <= now <= report.scope.end + handoffs.HANDOFF_OPEN_FOR,
        handoff_opens_at=opens_at,
        handoff_not_yet=now < opens_at,
    )
    return render(request, "facility/shift_report.html", context)


@policy.requires("report.print")
@require_GET
def shift_report_pdf(request):
    """The report as a PDF on the base template, with the Part 2 notice; the print is audited."""
    facility = current_facility_or_404(request)
    now = timezone.now()
    form = _shift_form(request, request.GET, facility, now)
    if form.errors:
        units = list(Unit.objects.filter(facility=facility).order_by("name"))
        context = {"facility": facility, "units": units, "form": form}
        return render(request, "facility/shift_report.html", context, status=400)
    unit, day, key = _shift_of(form)
    report = build_shift_report(facility, day=day, shift_key=key, now=now, unit=unit)
    handoff = handoffs.handoff_for(facility, unit, day, key)
    unit_slug = f"-{unit.name.lower().replace(' ', '-')}" if unit else ""
    return pdf_response(
        request,
        filename=f"shift-report-{day:%Y%m%d}-{key}{unit_slug}.pdf",
        **handoffs.report_print(report, handoff=handoff),
    )


def _handoff_post(request, service, said) -> HttpResponse:
    """Give or receive the report of the posted shift; `said(handoff)` is the success message.
    Back to that shift's report either way."""
    facility = current_facility_or_404(request)
    form = _shift_form(request, request.POST, facility, timezone.now())
    if form.errors:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("shift_report")
    unit, day, key = _shift_of(form)
    back = handoffs.report_url(facility, unit, day, key)
    try:
        done = service(actor=request.user, facility=facility, unit=unit, day=day, shift_key=key)
    except ValidationError as exc:
        add_service_errors(request, exc)
    else:
        messages.success(request, said(done))
    return redirect(back)


@policy.requires("report.handoff")
@require_POST
def handoff_give(request):
    """The outgoing charge staff: "report given"."""
    return _handoff_post(
        request, handoffs.handoff_give, lambda h: f"Report marked given at {_hm(h.given_at)}."
    )


@policy.requires("report.handoff")
@require_POST
def handoff_receive(request):
    """The oncoming staff: "report received"; the report is frozen as printed."""
    return _handoff_post(
        request,
        handoffs.handoff_receive,
        lambda h: (
            f"Report received at {_hm(h.received_at)}; the report as handed over is stored "
            "(SHA-256 " + h.sha256[:12] + "…)."
        ),
    )


def _hm(at) -> str:
    return f"{timezone.localtime(at):%H:%M}"


def _received_handoff(request, public_id) -> Handoff:
    facility = current_facility_or_404(request)
    return get_object_or_404(
        Handoff.objects.select_related("facility", "unit", "given_by", "received_by"),
        public_id=public_id,
        facility=facility,
        received_at__isnull=False,
    )


@policy.requires("report.view")
@require_GET
def handoff_detail(request, public_id):
    """A frozen report: who gave and received it, when, its SHA-256, and whether the stored PDF
    still matches it."""
    handoff = _received_handoff(request, public_id)
    facility = handoff.facility
    label = dict(facility.shift_choices()).get(handoff.shift_key, handoff.shift_key)
    return render(
        request,
        "facility/shift_report_handoff.html",
        {
            "handoff": handoff,
            "facility": facility,
            "shift_label": label,
            "verified": handoffs.verify_frozen(handoff),
            "report_url": handoffs.report_url(
                facility, handoff.unit, handoff.day, handoff.shift_key
            ),
        },
    )


@policy.requires("report.view")
@require_GET
def handoff_pdf(request, public_id):
    """The stored PDF, byte for byte as it was acknowledged; the read is audited as a print."""
    handoff = _received_handoff(request, public_id)
    access_log(
        action=AccessAction.PRINT,
        actor=request.user,
        facility=handoff.facility,
        what=f"Shift report as handed over: {handoff.unit or 'all units'} {handoff.day} "
        f"{handoff.shift_key}",
        ip=client_ip(request),
    )
    response = HttpResponse(bytes(handoff.pdf), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="handoff-{handoff.day:%Y%m%d}-{handoff.shift_key}.pdf"'
    )
    return response
