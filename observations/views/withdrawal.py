"""Withdrawal pages (issue 11 item 5): start and end a protocol, score a CIWA-Ar or COWS, the
result with the PRN it now indicates, strike an entry, and the nurse's withdrawal board."""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients.access import admission_for, admissions_visible_to
from facility import policy
from facility.access import current_facility_or_404
from facility.forms import add_service_errors
from facility.models import Unit
from facility.registry import score_triggers_for
from observations import withdrawal as rules
from observations.forms import SCALE_FORMS, ProtocolForm, ReasonForm, SuggestedForm
from observations.forms import WithdrawalBoardForm as BoardForm
from observations.models import ScaleAssessment, WithdrawalProtocol
from observations.services import withdrawal as services

STATE_TEXT = {
    "upcoming": "Next due",
    "due_soon": "Due soon",
    "due": "Due now",
    "overdue": "Overdue",
    "off_site": "Off site: owed on return",
}
STATE_ORDER = {"overdue": 0, "due": 1, "due_soon": 2, "upcoming": 3, "off_site": 4}


@dataclass
class BoardRow:
    """One client on a protocol: the protocol's status and the PRN its last score indicates."""

    status: services.ProtocolStatus
    prns: list

    @property
    def admission(self):
        return self.status.protocol.admission

    @property
    def state_text(self) -> str:
        if self.status.first_due and self.status.state != "off_site":
            word = "First score overdue" if self.status.state == "overdue" else "First score due"
            return word
        return STATE_TEXT[self.status.state]


def _scale_or_404(scale: str) -> str:
    if scale not in SCALE_FORMS:
        raise Http404("No such scale.")
    return scale


def _open_protocol(admission, scale):
    return WithdrawalProtocol.objects.filter(
        admission=admission, scale=scale, ended_at__isnull=True
    ).first()


def board_rows(facility, unit, now) -> list[BoardRow]:
    """Everyone on an open protocol in the facility (or one unit), most urgent first. Three
    queries for the protocols and their scores, plus the score-trigger sources', whatever the
    number of clients."""
    protocols = WithdrawalProtocol.objects.filter(
        ended_at__isnull=True,
        started_at__lte=now,
        admission__facility=facility,
        admission__discharged_at__isnull=True,
    ).select_related("admission__client", "admission__bed", "admission__unit")
    if unit is not None:
        protocols = protocols.filter(admission__unit=unit)
    protocols = list(protocols)
    statuses = services.protocol_statuses(
        {p.admission_id for p in protocols}, now=now, protocols=protocols
    )
    triggers = score_triggers_for(sorted({p.admission_id for p in protocols}), at=now)
    rows = []
    for status in statuses.values():
        last = status.last
        prns = services.indicated(
            triggers.get(status.protocol.admission_id, []),
            status.protocol.scale,
            last.total if last else None,
            current=status.score_current,
        )
        rows.append(BoardRow(status, prns))
    far = timezone.now().replace(year=9999)
    rows.sort(
        key=lambda r: (
            STATE_ORDER[r.status.state],
            r.status.due_at or far,
            r.admission.bed.label if r.admission.bed_id else "",
        )
    )
    return rows


@policy.requires("withdrawal.view")
@require_GET
def board(request):
    """The nurse's withdrawal board: who is on a protocol, the last score, its trend, when the
    next is due, and the PRN the score now indicates."""
    facility = current_facility_or_404(request)
    form = BoardForm(request.GET, facility=facility)
    if not form.is_valid():
        raise Http404(form.errors["unit"][0])
    unit = form.cleaned_data["unit"]
    now = timezone.now()
    return render(
        request,
        "observations/withdrawal_board.html",
        {
            "facility": facility,
            "unit": unit,
            "units": Unit.objects.filter(facility=facility).order_by("name"),
            "rows": board_rows(facility, unit, now),
            "now": now,
            "can_assess": policy.allows(request.user, "withdrawal.assess"),
        },
    )


@policy.requires("withdrawal.order")
@require_http_methods(["GET", "POST"])
def protocol_start(request, public_id):
    """Put a client on a CIWA-Ar or COWS protocol; the first score is due at once, so the
    scoring page opens next."""
    admission = admission_for(request, public_id)
    form = ProtocolForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            protocol = services.protocol_start(
                actor=request.user,
                admission=admission,
                scale=data["scale"],
                every_hours=data["every_hours"],
                tight_from=data["tight_from"],
                tight_hours=data["tight_hours"],
                reason=data["reason"],
                started_at=data["started_at"],
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"{rules.SCALE_NAMES[protocol.scale]} protocol started: score it now."
            )
            return redirect("observations:withdrawal_score", admission.public_id, protocol.scale)
    return render(
        request,
        "observations/withdrawal_start.html",
        {
            "admission": admission,
            "client": admission.client,
            "form": form,
            "defaults": rules.PROTOCOL_DEFAULTS,
        },
        status=400 if form.errors else 200,
    )


@policy.requires("withdrawal.order")
@require_POST
def protocol_end(request, public_id):
    protocol = get_object_or_404(
        WithdrawalProtocol.objects.select_related("admission__client"),
        public_id=public_id,
        admission__in=admissions_visible_to(request.user),
    )
    _with_reason(
        request,
        lambda reason: services.protocol_end(actor=request.user, protocol=protocol, reason=reason),
        f"{rules.SCALE_NAMES[protocol.scale]} protocol ended.",
    )
    return redirect("clients:chart", public_id=protocol.admission.client.public_id)


@policy.requires("withdrawal.assess")
@require_http_methods(["GET", "POST"])
def score(request, public_id, scale):
    """Score a CIWA-Ar or COWS: each item's allowed values only, with their anchors. A breath-
    alcohol reading links here with `?reason=breath_alcohol` (issue 11 item 8)."""
    scale = _scale_or_404(scale)
    admission = admission_for(request, public_id)
    form_class = SCALE_FORMS[scale]
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assessment = services.assessment_record(
                actor=request.user,
                admission=admission,
                scale=scale,
                items=form.item_values(),
                pulse_bpm=data.get("pulse_bpm"),
                assessed_at=data["assessed_at"],
                late_reason=data["late_reason"],
                remark=data["remark"],
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            return redirect("observations:withdrawal_result", assessment.public_id)
    protocol = _open_protocol(admission, scale)
    status = None
    if protocol is not None:
        status = services.protocol_statuses(
            [admission.pk], now=timezone.now(), protocols=[protocol]
        ).get(protocol.pk)
    return render(
        request,
        "observations/withdrawal_score.html",
        {
            "admission": admission,
            "client": admission.client,
            "form": form,
            "scale": scale,
            "scale_name": rules.SCALE_NAMES[scale],
            "max_total": 67 if scale == "ciwa_ar" else 48,
            "protocol": protocol,
            "status": status,
            "suggested": SuggestedForm(request.GET).text(),
            "running_total": form.running_total() if form.is_bound else 0,
            "profile": admission.facility.get_ciwa_profile_display() if scale == "ciwa_ar" else "",
        },
        status=400 if form.errors else 200,
    )


def _assessment_for(request, public_id) -> ScaleAssessment:
    assessment = get_object_or_404(
        ScaleAssessment.objects.select_related(
            "admission__client", "admission__facility", "admission__bed", "recorded_by"
        ),
        public_id=public_id,
        admission__in=admissions_visible_to(request.user),
    )
    timezone.activate(assessment.admission.facility.tz)
    return assessment


@policy.requires("withdrawal.view")
@require_GET
def result(request, public_id):
    """One assessment: its items, total and band, when the next is due, and the PRN it now
    indicates (the score-triggered PRN orders, through facility.registry)."""
    assessment = _assessment_for(request, public_id)
    admission = assessment.admission
    now = timezone.now()
    protocol = assessment.protocol if assessment.protocol_id else None
    status = None
    if protocol is not None and protocol.ended_at is None:
        status = services.protocol_statuses([admission.pk], now=now, protocols=[protocol]).get(
            protocol.pk
        )
    reading = services.latest_scores([admission.pk], at=now).get(admission.pk, {})
    latest = reading.get(assessment.scale)
    is_latest = latest is not None and latest.public_id == assessment.public_id
    current = is_latest and now < latest.due_at
    triggers = score_triggers_for([admission.pk], at=now).get(admission.pk, [])
    prns = services.indicated(triggers, assessment.scale, assessment.total, current=current)
    text = rules.ITEM_TEXT[assessment.scale]
    items = [
        (
            item.label,
            assessment.items.get(key),
            item.anchors.get(assessment.items.get(key), ""),
        )
        for key, item in text.items()
    ]
    return render(
        request,
        "observations/withdrawal_result.html",
        {
            "assessment": assessment,
            "admission": admission,
            "client": admission.client,
            "scale_name": rules.SCALE_NAMES[assessment.scale],
            "band_name": rules.BAND_NAMES.get(assessment.band, assessment.band),
            "items": items,
            "status": status,
            "due_at": status.due_at if status else (latest.due_at if is_latest else None),
            "is_latest": is_latest,
            "prns": prns,
            "other_triggers": [t for t in triggers if t not in prns],
            "severe": assessment.band in rules.SEVERE_BANDS[assessment.scale],
            "can_strike": assessment.struck_at is None
            and policy.allows(request.user, "withdrawal.assess", admission),
            "strike_form": ReasonForm(),
            "max_total": 67 if assessment.scale == "ciwa_ar" else 48,
            "reassess_rule": _rule_text(protocol, assessment.scale),
        },
    )


def _rule_text(protocol, scale) -> str:
    every, tight_from, tight_hours = (
        (protocol.every_hours, protocol.tight_from, protocol.tight_hours)
        if protocol is not None
        else rules.PROTOCOL_DEFAULTS[scale]
    )
    return f"every {every} h; every {tight_hours} h from a score of {tight_from}"


@policy.requires("withdrawal.assess")
@require_POST
def strike(request, public_id):
    """Entered in error: struck with a reason, kept visible."""
    assessment = _assessment_for(request, public_id)
    _with_reason(
        request,
        lambda reason: services.assessment_strike(
            actor=request.user, assessment=assessment, reason=reason
        ),
        "Struck as entered in error.",
    )
    return redirect("observations:withdrawal_result", assessment.public_id)


def _with_reason(request, act, done: str) -> None:
    """A POST whose one field is a reason (ending a protocol, striking a score): `act(reason)`,
    then `done` as a message on the next page, or why it was refused."""
    form = ReasonForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return
    try:
        act(form.cleaned_data["reason"])
    except (ValidationError, PermissionDenied) as exc:
        add_service_errors(request, exc)
    else:
        messages.success(request, done)
