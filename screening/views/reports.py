"""Screening lists and reports (issue 13 item 8): positives by analyte over a period, on screen,
as CSV and as PDF (both with the 42 CFR Part 2 notice, both audited)."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from facility import policy
from facility.access import client_ip, current_facility_or_404
from facility.models import AccessAction
from facility.pdf import csv_writer_with_notice, pdf_response
from facility.services import access_log
from screening.defaults import ANALYTE_NAMES, analyte_sort_key
from screening.models import AnalyteResult, LabResult, Reading
from screening.result_forms import PositivesFilterForm
from screening.views.results import optional_url

DEFAULT_DAYS = 30


@dataclass
class Period:
    start: object  # local dates, inclusive
    end: object
    since: datetime
    until: datetime

    @property
    def words(self) -> str:
        return f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"


def _period(form: PositivesFilterForm, facility) -> Period:
    tz = facility.tz
    today = timezone.localtime(timezone.now(), tz).date()
    data = form.cleaned_data if form.is_valid() else {}
    end = data.get("end") or today
    start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
    since = datetime.combine(start, time.min, tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    return Period(start, end, since, until)


def positives(facility, period: Period) -> dict:
    """Per analyte: results read, presumptive positives (expected, unexpected), invalid strips,
    and laboratory results (positive of those reported). Three queries for any period."""
    live = AnalyteResult.objects.filter(
        test__specimen__admission__facility=facility,
        test__struck_at__isnull=True,
        test__tested_at__gte=period.since,
        test__tested_at__lt=period.until,
    )
    pos = Q(reading=Reading.PRESUMPTIVE_POSITIVE)
    counts = {
        row["analyte"]: row
        for row in live.values("analyte").annotate(
            read=Count("pk"),
            positive=Count("pk", filter=pos),
            expected=Count("pk", filter=pos & ~Q(expected_by="")),
            unexpected=Count("pk", filter=pos & Q(expected_by="")),
            invalid=Count("pk", filter=Q(reading=Reading.INVALID)),
        )
    }
    labs = {
        row["analyte"]: row
        for row in LabResult.objects.filter(
            specimen__admission__facility=facility,
            reported_at__gte=period.since,
            reported_at__lt=period.until,
        )
        .values("analyte")
        .annotate(lab=Count("pk"), lab_positive=Count("pk", filter=Q(positive=True)))
    }
    rows = []
    for code in sorted(set(counts) | set(labs), key=analyte_sort_key):
        c, lab = counts.get(code, {}), labs.get(code, {})
        rows.append({
            "analyte": code, "name": ANALYTE_NAMES.get(code, ""), "read": c.get("read", 0),
            "positive": c.get("positive", 0), "expected": c.get("expected", 0),
            "unexpected": c.get("unexpected", 0), "invalid": c.get("invalid", 0),
            "lab": lab.get("lab", 0), "lab_positive": lab.get("lab_positive", 0),
        })  # fmt: skip
    detail = list(
        live.filter(pos)
        .select_related("test__specimen__admission__client")
        .order_by("test__tested_at", "test_id", "analyte")
    )
    return {"rows": rows, "detail": detail}


def _context(request):
    facility = current_facility_or_404(request)
    timezone.activate(facility.tz)
    form = PositivesFilterForm(request.GET or None)
    period = _period(form, facility)
    return facility, form, period


@policy.requires("report.print")
@require_GET
def positives_report(request):
    facility, form, period = _context(request)
    query = request.GET.urlencode()
    return render(
        request,
        "screening/report_positives.html",
        {
            "facility": facility,
            "random_list_url": optional_url("screening:random_list"),
            "form": form,
            "period": period,
            **positives(facility, period),
            "query": f"?{query}" if query else "",
        },
        status=400 if form.errors else 200,
    )


@policy.requires("report.print")
@require_GET
def positives_pdf(request):
    facility, form, period = _context(request)
    if form.errors:
        return positives_report(request)
    return pdf_response(
        request,
        template="screening/pdf/positives.html",
        context=positives(facility, period),
        facility=facility,
        title="Drug screen positives by analyte",
        period=period.words,
        filename=f"screen-positives-{period.start:%Y%m%d}-{period.end:%Y%m%d}.pdf",
    )


@policy.requires("report.print")
@require_GET
def positives_csv(request):
    """One row per presumptive positive, after the summary, the Part 2 notice first."""
    facility, form, period = _context(request)
    if form.errors:
        return positives_report(request)
    data = positives(facility, period)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"screen-positives-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    out = csv_writer_with_notice(response)
    out.writerow(["analyte", "name", "read", "presumptive positive", "expected", "unexpected",
                  "invalid", "lab results", "lab positive"])  # fmt: skip
    keys = ("analyte", "name", "read", "positive", "expected", "unexpected", "invalid", "lab",
            "lab_positive")  # fmt: skip
    for r in data["rows"]:
        out.writerow([_cell(r[k]) for k in keys])
    out.writerow([])
    out.writerow(["read at", "specimen", "MRN", "analyte", "cutoff ng/mL", "expected by",
                  "sent to lab"])  # fmt: skip
    tz = facility.tz
    for a in data["detail"]:
        test = a.test
        out.writerow([
            f"{timezone.localtime(test.tested_at, tz):%Y-%m-%d %H:%M}",
            _cell(test.specimen.specimen_id), _cell(test.specimen.admission.client.mrn),
            _cell(a.analyte), a.cutoff_ng_ml, _cell(a.expected_by or "unexpected"),
            "yes" if test.sent_to_lab else "no",
        ])  # fmt: skip
    access_log(
        action=AccessAction.EXPORT,
        actor=request.user,
        facility=facility,
        what=f"Drug screen positives by analyte (CSV), {period.words}",
        ip=client_ip(request),
    )
    return response


def _cell(value):
    """A spreadsheet must not run a cell as a formula (CSV injection)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else value
