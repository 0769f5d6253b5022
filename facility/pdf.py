"""The printing core: every PDF extends templates/pdf/base.html and goes through `pdf_response`.

The base template carries the facility, unit, period, who printed it and when, page X of Y, and
the 42 CFR Part 2 notice: statement 1 once, statement 2 in every page footer (privacy.md §2.32).
"""

import csv

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML

from facility.access import client_ip
from facility.models import AccessAction, Facility
from facility.services import access_log

PART2_STATEMENT_1 = (
    "This record which has been disclosed to you is protected by Federal confidentiality rules "
    "(42 CFR part 2). These rules prohibit you from using or disclosing this record, or testimony "
    "that describes the information contained in this record, in any civil, criminal, "
    "administrative, or legislative proceedings by any Federal, State, or local authority, against "
    "the patient, unless authorized by the consent of the patient, except as provided at 42 CFR "
    "2.12(c)(5) or as authorized by a court in accordance with 42 CFR 2.64 or 2.65. In addition, "
    "the Federal rules prohibit you from making any other use or disclosure of this record unless "
    "at least one of the following applies:"
)
PART2_STATEMENT_1_ITEMS = (
    "(i) Further use or disclosure is expressly permitted by the written consent of the "
    "individual whose information is being disclosed in this record or as otherwise permitted by "
    "42 CFR part 2.",
    "(ii) You are a covered entity or business associate and have received the record for "
    "treatment, payment, or health care operations, or",
    "(iii) You have received the record from a covered entity or business associate as permitted "
    "by 45 CFR part 164, subparts A and E.",
)
PART2_STATEMENT_1_CLOSE = (
    "A general authorization for the release of medical or other information is NOT sufficient to "
    "meet the required elements of written consent to further use or redisclose the record (see "
    "42 CFR 2.31)."
)
PART2_STATEMENT_2 = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."


def part2_statement_1() -> str:
    """Statement 1 as one string, in the regulation's order."""
    return " ".join([PART2_STATEMENT_1, *PART2_STATEMENT_1_ITEMS, PART2_STATEMENT_1_CLOSE])


def csv_writer_with_notice(stream):
    """A csv.writer on `stream` (an HttpResponse) that has written the Part 2 notice every CSV
    export starts with (privacy.md): one cell holding statement 1, then an empty row. The
    caller writes the header next. The one place a CSV's notice is made."""
    out = csv.writer(stream)
    out.writerow([part2_statement_1()])
    out.writerow([])
    return out


def render_pdf(
    *,
    template: str,
    context: dict,
    facility: Facility,
    title: str,
    printed_by,
    unit: str = "",
    period: str = "",
) -> bytes:
    """Render a report template (which extends pdf/base.html) to PDF bytes."""
    printed_at = timezone.localtime(timezone.now(), facility.tz)
    # Templates show times in the active zone: make it the facility's, whoever prints.
    with timezone.override(facility.tz):
        html = render_to_string(
            template,
            {
                **context,
                "facility": facility,
                "report_title": title,
                "report_unit": unit,
                "report_period": period,
                "printed_by": printed_by,
                "printed_at": printed_at,
                "part2_statement_1": PART2_STATEMENT_1,
                "part2_statement_1_items": PART2_STATEMENT_1_ITEMS,
                "part2_statement_1_close": PART2_STATEMENT_1_CLOSE,
                "part2_statement_2": PART2_STATEMENT_2,
            },
        )
    return HTML(string=html).write_pdf()


def pdf_response(request, *, filename: str, client=None, clients=(), **kwargs) -> HttpResponse:
    """Render, audit the print (who, what, which client, from where), and send inline. A print
    naming several clients (`clients`) is one access-log row per client, each recorded with
    its client (privacy.md); none at all, one row without a client."""
    data = render_pdf(printed_by=request.user, **kwargs)
    for each in list(clients) or [client]:
        access_log(
            action=AccessAction.PRINT,
            actor=request.user,
            facility=kwargs["facility"],
            client=each,
            what=kwargs["title"],
            ip=client_ip(request),
        )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
