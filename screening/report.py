"""Screening's part of the shift report (issue 15; specs/shift-report.md): per client, the drug
screens of the shift (refusals, cup reads, laboratory results, specimens awaiting a result),
breath alcohol tests, and belongings searches with what they found.

Expected and unexpected are screening's own judgement, never made again here: a cup's positive
is expected when its analyte row names the order that explained it (`expected_by`, found through
the expected-analytes registry when the cup was read); a laboratory positive is unexpected when
screening alerted the nurse for it (lab_result_record asks the registry at the collection time
and names the unexpected analytes in the alert's key). Eight queries whatever the census.
"""

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.urls import reverse
from django.utils import timezone

from facility.models import Alert
from facility.registry import ReportItem, ReportSection, register_report_section
from screening.defaults import analyte_sort_key
from screening.models import (
    BelongingsSearch,
    BreathTest,
    LabResult,
    PocTest,
    SearchItem,
    Specimen,
    SpecimenStatus,
)
from screening.services import breath as breath_services
from screening.services.results import ALERT_KIND, finding_of

LAB_KEY = "screen:lab:"  # lab_result_record's alert: screen:lab:<specimen>:<unexpected,...>


def _clock(moment, tz) -> str:
    return f"{timezone.localtime(moment, tz):%H:%M}"


def _in_shift(scope, moment) -> bool:
    return moment is not None and scope.start <= moment < scope.end


def _specimens(scope) -> list[Specimen]:
    """Specimens with something in the shift: collected or refused, a live cup read, or a
    laboratory report. Four queries (the specimens, live cups, their analytes, lab results)."""
    shift = {"gte": scope.start, "lt": scope.end}
    cup_read = PocTest.objects.filter(
        specimen=OuterRef("pk"), struck_at__isnull=True,
        tested_at__gte=shift["gte"], tested_at__lt=shift["lt"],
    )  # fmt: skip
    lab_report = LabResult.objects.filter(
        specimen=OuterRef("pk"), reported_at__gte=shift["gte"], reported_at__lt=shift["lt"]
    )
    live_tests = PocTest.objects.filter(struck_at__isnull=True).prefetch_related("analytes")
    return list(
        Specimen.objects.filter(admission__in=scope.admission_ids)
        .filter(
            Q(collected_at__gte=shift["gte"], collected_at__lt=shift["lt"])
            | Exists(cup_read)
            | Exists(lab_report)
        )
        .select_related("admission")
        .prefetch_related(
            Prefetch("poc_tests", queryset=live_tests, to_attr="live_tests"), "lab_results"
        )
        .order_by("collected_at", "pk")
    )


def _lab_unexpected(scope, specimens) -> dict[str, set[str]]:
    """Specimen public id → the laboratory positives screening found unexpected (one query)."""
    with_labs = [s for s in specimens if s.lab_results.all()]
    if not with_labs:
        return {}
    keys = Q()
    for s in with_labs:
        keys |= Q(dedupe_key__startswith=f"{LAB_KEY}{s.public_id}:")
    found: dict[str, set[str]] = {}
    for key in Alert.objects.filter(keys, facility=scope.facility, kind=ALERT_KIND).values_list(
        "dedupe_key", flat=True
    ):
        specimen_id, _, analytes = key[len(LAB_KEY) :].partition(":")
        found.setdefault(specimen_id, set()).update(a for a in analytes.split(",") if a)
    return found


def _specimen_lines(scope, tz) -> dict[int, list[ReportItem]]:
    specimens = _specimens(scope)
    lab_unexpected = _lab_unexpected(scope, specimens)
    lines: dict[int, list[ReportItem]] = {}
    for s in specimens:
        add = lines.setdefault(s.admission_id, []).append
        href = reverse("screening:specimen", args=[s.public_id])
        what = f"{s.get_specimen_type_display().lower()} drug screen {s.specimen_id}"
        why = s.get_reason_display().lower()
        if s.status == SpecimenStatus.REFUSED:
            if _in_shift(scope, s.collected_at):
                add(ReportItem(text=f"Refused a {what} ({why}) at {_clock(s.collected_at, tz)}",
                               tag="Screen refused", at=s.collected_at, concern=2,
                               href=href))  # fmt: skip
            continue
        test = s.live_tests[0] if s.live_tests else None
        labs = list(s.lab_results.all())
        if test is not None and _in_shift(scope, test.tested_at):
            finding = finding_of(test, list(test.analytes.all()))
            text = f"Cup read {_clock(test.tested_at, tz)}, {what} ({why}): "
            parts, concern, tag = [], 0, "Drug screen"
            if finding.unexpected:
                parts.append(f"unexpected presumptive positive {', '.join(finding.unexpected)}")
                concern, tag = 2, "Unexpected positive"
            if finding.expected:
                parts.append(f"expected {', '.join(finding.expected)} (prescribed)")
            if finding.invalid:
                parts.append(f"invalid strip {', '.join(finding.invalid)}")
                concern = max(concern, 1)
            if finding.abnormal_pads:
                parts.append(f"abnormal adulterant pad {', '.join(finding.abnormal_pads)}")
                concern = max(concern, 1)
            text += "; ".join(parts) if parts else "all negative"
            if test.sent_to_lab:
                text += "; sent to the lab"
            result = reverse("screening:poc_result", args=[test.public_id])
            add(ReportItem(text=text, tag=tag, at=test.tested_at, concern=concern, href=result))
        reported = [r for r in labs if _in_shift(scope, r.reported_at)]
        if reported:
            unexpected_codes = lab_unexpected.get(str(s.public_id), set())
            positives = sorted((r.analyte for r in reported if r.positive), key=analyte_sort_key)
            unexpected = [a for a in positives if a in unexpected_codes]
            expected = [a for a in positives if a not in unexpected_codes]
            at = max(r.reported_at for r in reported)
            text = f"Lab result ({reported[0].lab_name}), {what} ({why}): "
            parts = []
            if unexpected:
                parts.append(f"confirmed positive {', '.join(unexpected)}")
            if expected:
                parts.append(f"positive {', '.join(expected)}, explained by an order")
            text += "; ".join(parts) if parts else "negative"
            add(ReportItem(text=text, tag="Unexpected positive" if unexpected else "Lab result",
                           at=at, concern=2 if unexpected else 0, href=href))  # fmt: skip
        if (
            s.status == SpecimenStatus.COLLECTED
            and _in_shift(scope, s.collected_at)
            and test is None
            and not labs
        ):
            add(ReportItem(text=f"Collected {_clock(s.collected_at, tz)}, {what} ({why}); "
                                "result pending",
                           tag="Drug screen", at=s.collected_at, concern=0,
                           href=href))  # fmt: skip
    return lines


def _breath_lines(scope, tz) -> dict[int, list[ReportItem]]:
    """Breath alcohol tests of the shift: a refusal or a positive is a warning. A repeat made
    after the shift still counts as the repeat (one query)."""
    tests = list(
        BreathTest.objects.filter(admission__in=scope.admission_ids)
        .filter(
            Q(tested_at__gte=scope.start, tested_at__lt=scope.end)
            | Q(repeat_of__tested_at__gte=scope.start, repeat_of__tested_at__lt=scope.end)
        )
        .order_by("tested_at")
    )
    lines: dict[int, list[ReportItem]] = {}
    for o in breath_services.outcomes(tests, risk_by_admission={}):
        t = o.test
        if not _in_shift(scope, t.tested_at):
            continue
        when = _clock(t.tested_at, tz)
        kind = t.get_kind_display().lower()
        if t.refused:
            text, tag, concern = f"Refused a breath alcohol test at {when}", "Breath refused", 2
        elif o.positive:
            text, tag, concern = f"BrAC {t.brac:.3f} at {when} ({kind}): positive", "", 2
            if o.repeat_due_at is not None:
                text += f"; repeat due {_clock(o.repeat_due_at, tz)}"
        else:
            text, tag, concern = f"BrAC {t.brac:.3f} at {when} ({kind}): negative", "", 0
        href = reverse("screening:breath_result", args=[t.public_id])
        lines.setdefault(t.admission_id, []).append(
            ReportItem(
                text=text, tag=tag or "Breath alcohol", at=t.tested_at, concern=concern, href=href
            )  # fmt: skip
        )
    return lines


def _search_lines(scope, tz) -> dict[int, list[ReportItem]]:
    """Belongings searches of the shift, with the contraband found (two queries)."""
    searches = (
        BelongingsSearch.objects.filter(
            admission__in=scope.admission_ids,
            searched_at__gte=scope.start,
            searched_at__lt=scope.end,
        )
        .prefetch_related(
            Prefetch(
                "items",
                queryset=SearchItem.objects.filter(contraband=True).order_by("pk"),
                to_attr="contraband_items",
            )
        )
        .order_by("searched_at")
    )
    lines: dict[int, list[ReportItem]] = {}
    for s in searches:
        why = s.get_reason_display().lower()
        text = f"Belongings search ({why}) at {_clock(s.searched_at, tz)}"
        if s.contraband_found or s.contraband_items:
            found = ", ".join(f"{i.quantity} × {i.description}" for i in s.contraband_items)
            text += f": contraband found{': ' + found if found else ''}"
            tag, concern = "Contraband", 2
        else:
            text += ": no contraband"
            tag, concern = "Search", 0
        lines.setdefault(s.admission_id, []).append(
            ReportItem(
                text=text,
                tag=tag,
                at=s.searched_at,
                concern=concern,
                href=reverse("screening:search_detail", args=[s.public_id]),
            )  # fmt: skip
        )
    return lines


def clients(scope) -> dict[int, list[ReportItem]]:
    tz = scope.facility.tz
    lines: dict[int, list[ReportItem]] = {}
    for part in (_specimen_lines(scope, tz), _breath_lines(scope, tz), _search_lines(scope, tz)):
        for admission_id, items in part.items():
            lines.setdefault(admission_id, []).extend(items)
    return lines


register_report_section(
    ReportSection(
        key="screening",
        title="Drug screens and searches",
        clients=clients,
        order=80,
    )
)
