"""The MAR board, the med pass, and orders: transcribe, verify, discontinue."""

from collections import namedtuple
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Exists, FilteredRelation, Max, OuterRef, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients.access import admission_for
from clients.models import Admission, Client
from facility import policy
from facility.access import client_ip, current_facility, verify_cosigner
from facility.forms import add_service_errors, service_error_messages
from facility.models import AccessAction, Unit
from facility.pdf import pdf_response
from facility.services import access_log
from facility.validators import PlausibleDateValidator
from medications import holds as hold_rules
from medications import services, triggers
from medications.forms import (
    CountForm,
    Dea106Form,
    DiscontinueForm,
    DocumentForm,
    FollowUpForm,
    OrderForm,
    PrescriberOrderForm,
    PrnGiveForm,
    ReasonForm,
    ReceiveForm,
    ReleaseForm,
    SignOffForm,
    StockNewForm,
    VerifyForm,
    WasteForm,
)
from medications.models import (
    Administration,
    ControlledCount,
    ControlledStock,
    Medication,
    Order,
    Outcome,
    ScheduledDose,
)
from medications.services.doses import STAT_DEADLINE
from medications.services.holds import (
    admission_readings,
    holds_by_order,
    judge_holds,
    met_texts,
    trigger_for,
)
from medications.templatetags.order_lists import prescribing_refusal


def _doses_between(admissions, start, end):
    """Doses of these stays from `start` to 6 hours past `end`: a next dose can end the late
    period of one before it only within 2·window + next window ≤ 6 hours (specs/mar.md).

    Orders and medications are read once and shared, not built again for every dose row.
    """
    orders = {
        o.pk: o
        for o in Order.objects.filter(admission__in=admissions).select_related(
            "medication", "admission__facility"
        )
    }
    doses = list(
        ScheduledDose.objects.filter(
            order__in=list(orders),
            scheduled_at__gte=start,
            scheduled_at__lt=end + timedelta(hours=6),
        )
        .only(
            "id",
            "public_id",
            "order_id",
            "scheduled_at",
            "window_minutes",
            "cancelled_at",
            "kind",
            "deadline_at",
        )  # fmt: skip
        .prefetch_related(services.live_prefetch())
        .order_by("order_id", "scheduled_at")
    )
    for dose in doses:
        dose.order = orders[dose.order_id]
    return doses


class _BoardDose:
    """A dose as the MAR board and dose_views() read it: plain attributes, no model instance."""

    __slots__ = ("pk", "order_id", "order", "scheduled_at", "window_minutes", "cancelled_at",
                 "deadline_at", "kind", "live")  # fmt: skip

    def __init__(self, *values):
        for name, value in zip(self.__slots__, values, strict=True):
            setattr(self, name, value)


# Tuples of plain values: the garbage collector stops tracking them.
_BoardMedication = namedtuple("_BoardMedication", "name")
_BoardOrder = namedtuple("_BoardOrder", "admission_id dose medication unverified")


def _board_doses(admission_ids, start, end) -> list[_BoardDose]:
    """_doses_between for the MAR board, as plain values in one query: each dose with its live
    documentation's outcome, timing and initials, its order's dose and drug name. A 60-client
    shift reads ~900 doses: model instances were most of the page's time, and every object
    made here brings the next full garbage collection closer (the page's slow tail), so
    orders and documentation (by outcome, timing and initials) are shared, not made per dose.
    """
    live = FilteredRelation("administrations", condition=Q(administrations__struck_at__isnull=True))
    fields = ("pk", "order_id", "scheduled_at", "window_minutes", "cancelled_at", "deadline_at",
              "kind", "doc__outcome", "doc__timing", "doc__recorded_by__initials",
              "order__admission_id", "order__dose", "order__medication__name",
              "order__verified_at", "order__released_at")  # fmt: skip
    rows = (
        ScheduledDose.objects.filter(
            order__admission__in=admission_ids,
            scheduled_at__gte=start,
            scheduled_at__lt=end + timedelta(hours=6),
        )
        .annotate(doc=live)
        .order_by("order_id", "scheduled_at")
        .values_list(*fields)
    )
    # A few hundred index entries: PostgreSQL starts parallel workers for them once the orders
    # table outgrows min_parallel_table_scan_size, and on the 2-core reference host those cost
    # the page 25-35 ms instead of saving any (bench/README.md, MAR).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        rows = list(rows)
    orders, docs, doses = {}, {(None, None, None): []}, []
    for *dose, outcome, timing, initials, admission_id, text, name, verified, released in rows:
        order = orders.get(dose[1])
        if order is None:
            # Given before the second nurse's check (released) and not yet verified.
            unverified = verified is None and released is not None
            order = orders[dose[1]] = _BoardOrder(
                admission_id, text, _BoardMedication(name), unverified
            )
        doc = docs.get((outcome, timing, initials))
        if doc is None:
            by = SimpleNamespace(initials=initials)
            doc = docs[outcome, timing, initials] = [
                SimpleNamespace(outcome=outcome, timing=timing, recorded_by=by)
            ]
        doses.append(_BoardDose(dose[0], dose[1], order, *dose[2:], doc))
    return doses


def _query_day(value: str, label: str) -> date:
    """A day named in a query string, within the plausible range, else 404."""
    try:
        day = date.fromisoformat(value)
        PlausibleDateValidator(label)(day)
    except ValueError as exc:
        raise Http404(f"{label}: use YYYY-MM-DD.") from exc
    except ValidationError as exc:
        raise Http404(exc.messages[0]) from exc
    return day


@policy.requires("mar.use")
@require_GET
def mar_board(request):
    """Clients × doses of one shift, each dose with its status in colour and text."""
    facility = current_facility(request)
    if facility is None:
        raise Http404("You are not assigned to a facility.")
    now = timezone.now()
    units = list(Unit.objects.filter(facility=facility).order_by("name"))
    unit = None
    if request.GET.get("unit"):
        unit = next((u for u in units if str(u.public_id) == request.GET["unit"]), None)
        if unit is None:
            raise Http404("No such unit.")
    # The facility's own shift pattern (set in setup): 8-hour or 12-hour shifts.
    shifts = facility.shift_choices()
    day, shift = facility.current_shift(now)
    if request.GET.get("shift") in dict(shifts):
        shift = request.GET["shift"]
    if request.GET.get("day"):
        day = _query_day(request.GET["day"], "Day")
    start, end = facility.shift_bounds(day, shift)
    admissions = Admission.objects.current().filter(facility=facility)
    if unit is not None:
        admissions = admissions.filter(unit=unit)
    admissions = list(admissions.select_related("client", "bed").order_by("bed__label"))
    doses = _board_doses([a.pk for a in admissions], start, end)
    views = [v for v in services.dose_views(doses, now) if start <= v.dose.scheduled_at < end]
    by_admission = {a.pk: [] for a in admissions}
    for v in sorted(views, key=lambda v: v.dose.scheduled_at):
        by_admission[v.dose.order.admission_id].append(v)
    rows = [(a, by_admission[a.pk]) for a in admissions]
    return render(
        request,
        "medications/mar.html",
        {
            "facility": facility,
            "units": units,
            "unit": unit,
            "rows": rows,
            "shift": shift,
            "shifts": shifts,
            "day": day,
            "start": start,
            "end": end,
        },
    )


@policy.requires("mar.use")
@require_GET
def med_pass(request, public_id):
    """One client's doses around now, with the five rights shown before anything is recorded."""
    return _med_pass_page(request, admission_for(request, public_id))


def _when(minutes: int) -> str:
    """How far from its time, for people: minutes up to 2 hours, then hours ("20 h")."""
    n = abs(minutes)
    text = f"{n} min" if n < 120 else f"{n // 60} h" + (f" {n % 60} min" if n % 60 else "")
    if minutes < 0:
        return f"{text} before its time"
    return f"{text} after its time" if minutes else "at its time"


# Giving a dose before its window opens needs a co-sign; the med pass opens those fields and
# warns only within this much of the window opening (a dose hours away is not yet "early").
EARLY_WARNING_MINUTES = 120


def _pass_rank(v) -> int:
    """Doses now and next: due or late first, then scheduled, then charted or cancelled."""
    if v.documentation is not None or v.status == "cancelled":
        return 2
    return 1 if v.status == "scheduled" else 0


def _med_pass_page(request, admission, *, typed=None, status=200, errors=None):
    """The med pass; `typed` = (dose, data) shows a refused dose form with what was typed,
    and `errors` ({field: messages}) the refusal inside that dose's card.

    Undocumented doses past their window or deadline, of any age, stay at the top under
    "Needs an outcome" until someone charts one (issue 9): one query for those older than the
    12 hours around now, whatever their number.
    """
    access_log(
        action=AccessAction.VIEW, actor=request.user, facility=admission.facility,
        client=admission.client, what="med pass", ip=client_ip(request),
    )  # fmt: skip
    now = timezone.now()
    since = now - timedelta(hours=12)
    doses = _doses_between([admission], since, now + timedelta(hours=6))
    orders = list(
        Order.objects.filter(admission=admission)
        .select_related("medication", "transcribed_by", "verified_by", "admission__facility")
        .order_by("discontinued_at", "medication__name")
    )
    if admission.is_open:
        by_pk = {o.pk: o for o in orders}
        live = Administration.objects.filter(dose=OuterRef("pk"), struck_at__isnull=True)
        older = list(
            ScheduledDose.objects.filter(
                order__admission=admission, scheduled_at__lt=since, cancelled_at__isnull=True
            ).exclude(Exists(live))
        )
        for dose in older:
            dose.order, dose.live = by_pk[dose.order_id], []
        doses = sorted(older + doses, key=lambda d: (d.order_id, d.scheduled_at))
    views = [
        v for v in services.dose_views(doses, now) if v.dose.scheduled_at < now + timedelta(hours=6)
    ]
    views.sort(key=lambda v: v.dose.scheduled_at)
    for v in views:
        v.when = _when(v.minutes)
        v.opens_at = v.dose.scheduled_at - timedelta(minutes=v.dose.window_minutes)
        v.warn_early = v.early and v.minutes >= -(v.dose.window_minutes + EARLY_WARNING_MINUTES)
        v.errors, v.error_fields = [], set()
        if typed is not None and v.dose.pk == typed[0].pk:
            v.typed = typed[1]
            if errors and v.documentation is None and v.status != "cancelled" and admission.is_open:
                # The refusal, named at the top (drug and time); its messages on its card.
                messages.error(request, (
                    f"{v.dose.order.medication} due {timezone.localtime(v.dose.scheduled_at):%H:%M}"
                    " was not recorded: see why on its card below."
                ))  # fmt: skip
                v.errors = [m for field_errors in errors.values() for m in field_errors]
                v.error_fields, errors = set(errors), None
    for field_errors in (errors or {}).values():  # no card with a form shows them: at the top
        for message in field_errors:
            messages.error(request, message)
    # Issue 11: the latest vitals and scores (one registry call, whatever the number of orders)
    # and every order's structured holds (one query).
    readings = admission_readings(admission.pk, now)
    order_holds = holds_by_order(o.pk for o in orders)
    _hold_checks(views, order_holds, readings, admission, now)
    active = {o.pk for o in Order.objects.active_at(now).filter(admission=admission)}
    prn = [(o, services.prn_check(o, now)) for o in orders if o.is_prn and o.pk in active]
    # "No current score — assess first" links to the scoring page (observations, by URL name).
    may_score = policy.allows(request.user, "withdrawal.assess", admission)
    max_age = timedelta(minutes=admission.facility.hold_vital_max_age_minutes)
    for o, _check in prn:
        # A PRN's structured holds, judged as a scheduled dose's are (issue 11).
        o.hold_checks = []
        if order_holds.get(o.pk):
            o.hold_checks = judge_holds(order_holds[o.pk], readings, at=now, max_age=max_age)
        o.hold_rules = [rule for check in o.hold_checks for rule in check.rules]
        o.hold_met = met_texts(o.hold_checks)
        o.trigger = trigger_for(o, readings, now)
        o.scoring_url = ""
        if o.trigger is not None and may_score:
            o.scoring_url = reverse(
                "observations:withdrawal_score", args=[admission.public_id, o.prn_trigger_scale]
            )
    # Issue 14 review: a client out on any leave (pass, appointment, trip) is off site: said at
    # the top, and no dose form defaults to "Given".
    from medications.services.administrations import off_site_leave

    away = off_site_leave(admission, now) if admission.is_open else None
    return render(
        request,
        "medications/med_pass.html",
        {
            "admission": admission,
            "away": away,
            "client": admission.client,
            "needs_outcome": [v for v in views if v.needs_outcome],
            "views": sorted((v for v in views if not v.needs_outcome), key=_pass_rank),
            "orders": orders,
            "outcomes": Outcome.choices,
            "late_outcomes": [
                (k, v)
                for k, v in Outcome.choices
                if k
                in (Outcome.GIVEN, Outcome.NOT_GIVEN, Outcome.HELD, Outcome.REFUSED, Outcome.SENT)
            ],  # fmt: skip
            "notified_choices": DocumentForm.base_fields["prescriber_notified"].choices,
            # Observed self-administration only: the one-button form, and no PRN section.
            "observed_only": policy.allows(request.user, "mar.record")
            and not policy.allows(request.user, "mar.give"),
            "can_transcribe": policy.allows(request.user, "order.transcribe"),
            "prn": prn,
            "follow_ups": services.prn_pending([admission.pk], now),
            "effects": [c for c in FollowUpForm.base_fields["result"].choices if c[0]],
            "now": now,
            "hold_max_age": admission.facility.hold_vital_max_age_minutes,
        },
        status=status,
    )


def _hold_checks(views, holds, readings, admission, now) -> None:
    """Each undocumented dose of an order with structured holds gets `holds` (the vitals it
    is judged on, pre-filled with a reading taken within the facility's maximum age, or what
    was typed) and `hold_met`; a met hold offers "held", its parameter and reason filled in."""
    max_age = timedelta(minutes=admission.facility.hold_vital_max_age_minutes)
    for v in views:
        order_holds = holds.get(v.dose.order_id)
        v.holds, v.hold_met = [], []
        if not order_holds or v.documentation is not None or v.status == "cancelled":
            continue
        typed = getattr(v, "typed", None) or {}
        v.holds = judge_holds(order_holds, readings, at=now, max_age=max_age)
        for check in v.holds:
            shown = check.recent_value if check.recent_value is not None else ""
            check.shown = typed.get(f"hold_{check.vital}", shown)
        v.hold_met = met_texts(v.holds)
        v.hold_rules = [rule for check in v.holds for rule in check.rules]
        if v.hold_met and not typed:
            met = "; ".join(v.hold_met)
            # Not the reason: left pre-filled, it would let "given" through as "anyway".
            v.typed = {"outcome": "held", "hold_parameter": met}


def _dose_for(request, public_id) -> ScheduledDose:
    dose = get_object_or_404(
        ScheduledDose.objects.select_related(
            "order__medication", "order__admission__client", "order__admission__facility",
            "order__admission__bed", "order__admission__unit",
        ),
        public_id=public_id,
        order__admission__client__in=Client.objects.visible_to(request.user),
    )  # fmt: skip
    timezone.activate(dose.order.admission.facility.tz)
    return dose


def _field_messages(request, form) -> None:
    """A refused form's first message per field, on the page the view redirects to."""
    for errors in form.errors.values():
        messages.error(request, errors[0])


@policy.requires("mar.record")
@require_POST
def dose_document(request, public_id):
    """Chart a dose. A refusal shows the med pass again with what was typed (passwords aside)."""
    dose = _dose_for(request, public_id)
    admission = dose.order.admission
    form = DocumentForm(request.POST)
    typed = {k: v for k, v in request.POST.items() if k != "second_password"}
    if not form.is_valid():
        return _med_pass_page(
            request, admission, typed=(dose, typed), status=400, errors=form.errors
        )
    hold_values = form.hold_values()
    data = dict(form.cleaned_data)
    username, password = data.pop("second_nurse"), data.pop("second_password")
    try:
        second = verify_cosigner(
            request, username=username, password=password, facility=admission.facility
        )
        services.administration_record(
            actor=request.user, dose=dose, override_by=second, hold_values=hold_values, **data
        )
    except services.DoseAlreadyCharted as exc:
        messages.warning(request, exc.messages[0])  # not an error: the dose is charted
    except PermissionDenied as exc:
        add_service_errors(request, exc)
    except ValidationError as exc:
        return _med_pass_page(
            request, admission, typed=(dose, typed), status=400,
            errors=service_error_messages(exc),
        )  # fmt: skip
    else:
        messages.success(request, f"{dose.order.medication}: {form.cleaned_data['outcome']}.")
    return redirect("medications:med_pass", public_id=admission.public_id)


@policy.requires("mar.strike")
@require_POST
def administration_strike(request, public_id):
    admin = get_object_or_404(
        Administration.objects.select_related("order__admission"),
        public_id=public_id,
        order__admission__client__in=Client.objects.visible_to(request.user),
    )
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.administration_strike(
                actor=request.user, administration=admin, reason=form.cleaned_data["reason"]
            )
            messages.success(request, "Marked entered in error; chart the dose again.")
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(request, exc)
    elif "reason" in form.errors and not form.data.get("reason"):
        messages.error(request, "Reason: say what was wrong.")
    else:
        _field_messages(request, form)
    return redirect("medications:med_pass", public_id=admin.order.admission.public_id)


@policy.requires("order.transcribe")
@require_http_methods(["GET", "POST"])
def order_new(request, public_id):
    """Transcribe a prescriber's order; another nurse verifies it before any dose is due."""
    admission = admission_for(request, public_id)
    form = OrderForm(request.POST or None, facility=admission.facility)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items()}
        try:
            order = services.order_transcribe(actor=request.user, admission=admission, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            cosign = f" {order.prescriber_name} co-signs it." if order.prescriber_id else ""
            messages.success(request, f"Order transcribed. A second nurse must verify it.{cosign}")
            return redirect("medications:order_detail", public_id=order.public_id)
    return render(
        request,
        "medications/order_form.html",
        {"admission": admission, "client": admission.client, "form": form},
    )


@policy.requires("order.prescribe")
@require_http_methods(["GET", "POST"])
def order_prescribe(request, public_id):
    """A prescriber (MD, DO, NP, PA) enters and signs an order; one nurse acknowledges it."""
    admission = admission_for(request, public_id)
    refusal = prescribing_refusal(request.user)
    if refusal is not None:  # say so at once, not after the whole form is filled in
        context = {"admission": admission, "client": admission.client, "refusal": refusal}
        return render(request, "medications/order_form.html", context, status=403)
    form = PrescriberOrderForm(request.POST or None, facility=admission.facility)
    if request.method == "POST" and form.is_valid():
        try:
            order = services.order_prescribe(
                actor=request.user, admission=admission, **form.cleaned_data
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Order signed. A nurse acknowledges it before any dose.")
            return redirect("medications:order_detail", public_id=order.public_id)
    return render(
        request,
        "medications/order_form.html",
        {"admission": admission, "client": admission.client, "form": form, "prescribing": True},
    )


def _order_for(request, public_id) -> Order:
    order = get_object_or_404(
        Order.objects.select_related(
            "medication",
            "admission__client",
            "admission__facility",
            "transcribed_by",
            "verified_by",
            "discontinued_by",
            "released_by",
            "prescriber",
        ),
        public_id=public_id,
        admission__client__in=Client.objects.visible_to(request.user),
    )
    timezone.activate(order.admission.facility.tz)
    return order


def _order_page(request, order, *, status=200, forms=None, open_panel=None):
    """The order page. A refused verify, release or discontinue shows it again (400) with
    that form bound: its messages on the fields, what was typed kept, its panel open."""
    forms = forms or {}
    refused = forms.get(open_panel)
    history = list(
        Administration.objects.filter(order=order)
        .select_related("recorded_by", "struck_by", "dose")
        .order_by("-recorded_at")[:50]
    )
    context = {
        "order": order,
        "admission": order.admission,
        "client": order.admission.client,
        "history": history,
        # Issue 11: what the med pass acts on, for the verifying nurse to check.
        "holds": [
            SimpleNamespace(text=hold_rules.rule_text(h.vital, h.comparator, h.value))
            for h in order.holds.all()
        ],
        "trigger_label": triggers.trigger_label(
            order.prn_trigger_scale, order.prn_trigger_min_score
        )
        if order.prn_trigger_scale
        else "",
        "open_panel": open_panel,
        "can_verify": policy.allows(request.user, "order.verify")
        and order.verified_at is None
        and order.discontinued_at is None
        and order.transcribed_by_id != request.user.pk,
        "verify_form": forms.get("verify") or VerifyForm(),
        # STAT or PRN, given before the second check when no second nurse is on shift.
        "can_release": policy.allows(request.user, "order.release")
        and order.verified_at is None
        and order.released_at is None
        and order.discontinued_at is None
        and order.admission.is_open
        and order.source != "prescriber"
        and (order.priority == "stat" or order.is_prn),
        "release_form": forms.get("release") or ReleaseForm(),
        "can_cosign": policy.allows(request.user, "order.cosign")
        and prescribing_refusal(request.user) is None
        and order.prescriber_id == request.user.pk
        and order.source in ("verbal", "telephone")
        and order.prescriber_signed_at is None,
        "can_discontinue": policy.allows(request.user, "order.discontinue")
        and order.discontinued_at is None,
        "discontinue_form": forms.get("discontinue") or DiscontinueForm(),
    }
    if refused is not None and not context[f"can_{open_panel}"]:
        # Its panel is not offered (e.g. a routine order cannot be released): say why on top.
        context["refused"] = [m for errors in refused.errors.values() for m in errors]
    return render(request, "medications/order_detail.html", context, status=status)


@policy.requires("mar.use")
@require_GET
def order_detail(request, public_id):
    order = _order_for(request, public_id)
    access_log(
        action=AccessAction.VIEW, actor=request.user, facility=order.admission.facility,
        client=order.admission.client, what="medication order", ip=client_ip(request),
    )  # fmt: skip
    return _order_page(request, order)


def _order_action(request, order, kind, form, service, success):
    """Run a verify, release or discontinue form; a refusal shows the order page again (400)."""
    if form.is_valid():
        try:
            service(actor=request.user, order=order, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, success)
            return redirect("medications:order_detail", public_id=order.public_id)
    return _order_page(request, order, status=400, forms={kind: form}, open_panel=kind)


@policy.requires("order.verify")
@require_POST
def order_verify(request, public_id):
    order = _order_for(request, public_id)
    return _order_action(
        request, order, "verify", VerifyForm(request.POST), services.order_verify,
        "Order verified; doses are on the MAR.",
    )  # fmt: skip


@policy.requires("order.release")
@require_POST
def order_release(request, public_id):
    """Give a STAT or PRN order before its second check: no second nurse is on shift."""
    order = _order_for(request, public_id)
    return _order_action(
        request, order, "release", ReleaseForm(request.POST), services.order_release,
        "Released before the second check: it shows unverified until another nurse verifies it.",
    )  # fmt: skip


@policy.requires("order.cosign")
@require_POST
def order_cosign(request, public_id):
    """The prescriber co-signs a verbal or telephone order; back to their list."""
    order = _order_for(request, public_id)
    try:
        services.order_cosign(actor=request.user, order=order)
        messages.success(request, f"Co-signed: {order.medication} for {order.admission.client}.")
    except (ValidationError, PermissionDenied) as exc:
        add_service_errors(request, exc)
    return redirect("medications:orders_to_cosign")


_PRIORITY_FIRST = {"stat": 0, "now": 1}


def _worklist(request, orders, kind: str):
    """Orders with their age, times on each facility's clock: to co-sign oldest first; to verify
    STAT first, then NOW, then oldest, each with when its dose must be given. Overdue: a verbal
    order past the facility's co-sign hours, or an order given before its check and still
    unverified past the facility's alert hours (the scan alerts on both)."""
    now = timezone.now()
    rows = []
    for o in orders.select_related(
        "medication", "admission__client", "admission__facility", "admission__bed",
        "transcribed_by", "released_by",
    ).order_by("transcribed_at"):  # fmt: skip
        facility = o.admission.facility
        give_by = None
        if kind == "cosign":
            overdue = now - o.transcribed_at > timedelta(hours=facility.order_cosign_hours)
        else:
            limit = timedelta(hours=facility.unverified_order_alert_hours)
            overdue = o.released_at is not None and now - o.released_at > limit
            if o.priority == "stat":
                give_by = timezone.localtime(o.transcribed_at + STAT_DEADLINE, facility.tz)
                overdue = overdue or (o.released_at is None and now > give_by)
        rows.append((o, timezone.localtime(o.transcribed_at, facility.tz), overdue, give_by))
    if kind == "verify":
        rows.sort(key=lambda row: _PRIORITY_FIRST.get(row[0].priority, 2))  # stable: oldest next
    context = {"rows": rows, "now": now}
    if kind == "verify":
        # "My work" counts only what this nurse can verify here; the list says how its number
        # differs, each row counted once: orders she entered (another nurse verifies, wherever
        # they are), then other facilities' orders.
        here = current_facility(request)
        mine = [o.transcribed_by_id == request.user.pk for o, *_ in rows]
        away = [here is not None and o.admission.facility_id != here.pk for o, *_ in rows]
        context.update(
            here=here,
            own=sum(mine),
            elsewhere=sum(a and not m for m, a in zip(mine, away, strict=True)),
        )
    return render(request, f"medications/orders_to_{kind}.html", context)


@policy.requires("order.verify")
@require_GET
def orders_to_verify(request):
    """Every order of the nurse's facilities no second nurse has checked yet."""
    return _worklist(request, services.orders_awaiting_check(request.user), "verify")


@policy.requires("order.cosign")
@require_GET
def orders_to_cosign(request):
    """The prescriber's verbal and telephone orders not yet co-signed."""
    return _worklist(request, services.orders_awaiting_cosign(request.user), "cosign")


@policy.requires("order.discontinue")
@require_POST
def order_discontinue(request, public_id):
    order = _order_for(request, public_id)
    return _order_action(
        request, order, "discontinue", DiscontinueForm(request.POST), services.order_discontinue,
        "Order discontinued; its future doses are cancelled.",
    )  # fmt: skip


def _prn_form(order, data=None) -> PrnGiveForm:
    """The PRN form, with a field for each vital the order's structured holds are judged on."""
    vitals = {h.vital for h in order.holds.all()}
    if data is None:
        return PrnGiveForm(initial={"indication": order.indication}, hold_vitals=vitals)
    return PrnGiveForm(data, hold_vitals=vitals)


def _prn_holds(order, readings, now, typed=None) -> list:
    """The order's structured holds judged now (issue 11), on what was typed or a reading
    taken within the facility's maximum age: the checks, with `shown` the value to pre-fill."""
    holds = list(order.holds.all())
    if not holds:
        return []
    max_age = timedelta(minutes=order.admission.facility.hold_vital_max_age_minutes)
    checks = judge_holds(holds, readings, at=now, max_age=max_age, typed=typed)
    for check in checks:
        shown = check.recent_value if check.recent_value is not None else ""
        check.shown = (typed or {}).get(check.vital, shown)
    return checks


def _prn_page(request, order, form, status=200):
    """The PRN give page: what blocks a dose now (until when, mg so far), the holds judged on
    the vitals, and the form."""
    now = timezone.now()
    readings = admission_readings(order.admission_id, now)
    trigger = trigger_for(order, readings, now)
    typed = {v: form.data.get(f"hold_{v}", "") for v in form.hold_vitals} if form.is_bound else {}
    holds = _prn_holds(order, readings, now, typed)
    max_age = order.admission.facility.hold_vital_max_age_minutes
    for check in holds:
        name = f"hold_{check.vital}"
        if name in form.fields:
            form.fields[name].help_text = (
                f"{check.recent_value} from the {timezone.localtime(check.recent_taken_at):%H:%M}"
                " set; keep it or enter a new value."
                if check.recent_value is not None
                else f"No reading in the last {max_age} minutes: take it and enter it."
            )
            if not form.is_bound:
                form.initial[name] = check.shown
    if trigger is not None and trigger.score is not None and not form.is_bound:
        name = triggers.SCALES[order.prn_trigger_scale]
        taken = timezone.localtime(trigger.taken_at)
        form.initial.setdefault("pre_assessment", f"{name} {trigger.score} at {taken:%H:%M}")
    return render(
        request,
        "medications/prn_give.html",
        {
            "order": order,
            "admission": order.admission,
            "client": order.admission.client,
            "trigger": trigger,
            "trigger_label": triggers.trigger_label(
                order.prn_trigger_scale, order.prn_trigger_min_score
            )
            if trigger
            else "",
            "check": services.prn_check(order, now) if order.is_prn else None,
            "holds": holds,
            "hold_rules": [rule for check in holds for rule in check.rules],
            "hold_met": met_texts(holds),
            "form": form,
            "can_give": order.is_prn
            and order.admission.is_open
            and Order.objects.active_at(now).filter(pk=order.pk).exists(),
        },
        status=status,
    )


@policy.requires("mar.give")
@require_http_methods(["GET", "POST"])
def prn_give(request, public_id):
    """Give a PRN dose; past its limits a second nurse co-signs with their own password.

    The page shows what blocks a dose before the nurse taps give; a refusal shows the page
    again with what was typed."""
    order = _order_for(request, public_id)
    if request.method == "GET":
        return _prn_page(request, order, _prn_form(order))
    form = _prn_form(order, request.POST)
    if not form.is_valid():
        return _prn_page(request, order, form, status=400)
    data = form.cleaned_data
    try:
        second = verify_cosigner(
            request, username=data["second_nurse"], password=data["second_password"],
            facility=order.admission.facility,
        )  # fmt: skip
        services.prn_give(
            actor=request.user,
            order=order,
            indication=data["indication"],
            pre_assessment=data["pre_assessment"],
            pre_score=data["pre_score"],
            override_reason=data["override_reason"],
            override_by=second,
            given_at=data["given_at"],
            reason=data["reason"],
            trigger_reason=data["trigger_reason"],
            hold_values=form.hold_values(),
            hold_reason=data.get("hold_reason", ""),
        )
    except (ValidationError, PermissionDenied) as exc:
        add_service_errors(form, exc)
        return _prn_page(request, order, form, status=400)
    messages.success(request, f"{order.medication} PRN given. Reassess its effect later.")
    return redirect("medications:med_pass", public_id=order.admission.public_id)


@policy.requires("mar.follow_up")
@require_http_methods(["GET", "POST"])
def prn_follow_up(request, public_id):
    """The effect of a PRN dose, assessed; a refusal shows the form again with what was
    typed."""
    admin = get_object_or_404(
        Administration.objects.select_related(
            "order__admission__client", "order__admission__facility", "order__medication",
            "recorded_by",
        ),
        public_id=public_id,
        order__admission__client__in=Client.objects.visible_to(request.user),
    )  # fmt: skip
    timezone.activate(admin.order.admission.facility.tz)
    form = FollowUpForm(request.POST or None)
    opens_at = services.follow_up_opens_at(admin)
    if opens_at <= timezone.now():
        del form.fields["early_reason"]  # the reassessment time has passed: nothing to explain
    if request.method == "POST" and form.is_valid():
        try:
            services.prn_follow_up(actor=request.user, administration=admin, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Follow-up recorded.")
            return redirect("medications:med_pass", public_id=admin.order.admission.public_id)
    return render(
        request,
        "medications/prn_follow_up.html",
        {
            "a": admin,
            "admission": admin.order.admission,
            "client": admin.order.admission.client,
            "form": form,
            "opens_at": opens_at,
            "early": "early_reason" in form.fields,
            "has_follow_up": hasattr(admin, "follow_up"),
            "allowed": policy.allows(request.user, "mar.follow_up", admin),
        },
        status=400 if form.errors else 200,
    )


# ---------------------------------------------------------------- controlled substances

# A second counter who typed their password stays signed in for the counts of this session
# (issue 9 item 8): for this facility, for 30 minutes from the password, until another second
# signer is named or the first signs out (sign-out flushes the session).
COUNT_SIGNER_KEY = "haven_count_second_signer"
COUNT_SIGNER_FOR = timedelta(minutes=30)


def _second_person(request, stock, form, facility=None):
    """The co-signer or witness at the cabinet; ValidationError on the second signer's field
    if they cannot prove it."""
    try:
        return verify_cosigner(
            request,
            username=form.cleaned_data["second_nurse"],
            password=form.cleaned_data["second_password"],
            facility=facility or stock.facility,
        )
    except ValidationError as exc:
        raise ValidationError({"second_nurse": exc.messages}) from exc


def _qty(q) -> str:
    """30.00 → "30", -0.50 → "-0.5"."""
    return format(q.normalize(), "f") if q else "0"


def _kept_count_signer(request, facility):
    """The second counter verified earlier in this session, if still valid here."""
    from facility.models import User

    kept = request.session.get(COUNT_SIGNER_KEY) or {}
    if kept.get("facility") != facility.pk or kept.get("until", 0) < timezone.now().timestamp():
        return None
    user = User.objects.filter(pk=kept.get("user"), is_active=True).first()
    return user if user is not None and facility.pk in user.facility_ids() else None


def _count_second(request, stock, form):
    """The second counter: the one kept in this session when no other name and no password is
    typed, else whoever proves it with their password (they are kept once the count is saved)."""
    name = form.cleaned_data["second_nurse"].strip().lower()
    kept = _kept_count_signer(request, stock.facility)
    typed = form.cleaned_data["second_password"]
    if kept is not None and not typed and name in ("", kept.username.lower()):
        return kept
    request.session.pop(COUNT_SIGNER_KEY, None)
    return _second_person(request, stock, form)


def _stock_for(request, public_id) -> ControlledStock:
    facility = current_facility(request)
    return get_object_or_404(
        services.owing_counts().select_related("medication", "admission__client"),
        public_id=public_id,
        facility=facility,
    )


def _count_for(request, public_id) -> ControlledCount:
    return get_object_or_404(
        ControlledCount, public_id=public_id, stock__facility=current_facility(request)
    )


def _controlled_page(request, refused=None):
    """The controlled page; `refused` = (kind, target public_id, bound form) re-shows a refused
    form with its messages and what was typed, in its place."""
    facility = current_facility(request)
    if facility is None:
        raise Http404("You are not assigned to a facility.")
    kind, target, refused_form = refused or (None, None, None)

    def form_for(k, pid):
        return refused_form if (k, pid) == (kind, target) else None

    stocks = list(
        services.owing_counts(ControlledStock.objects.filter(facility=facility))
        .select_related("medication", "admission__client")
        .order_by("medication__name", "admission_id")
    )
    recent = list(
        ControlledCount.objects.filter(stock__in=stocks)
        .select_related("first_signer", "second_signer", "signed_off_by", "stock__medication",
                        "stock__admission__client")
        .order_by("-counted_at")[:30]
    )  # fmt: skip
    last = {
        c.stock_id: c
        for c in ControlledCount.objects.filter(stock__in=stocks)
        .select_related("first_signer", "second_signer")
        .order_by("stock_id", "-counted_at")
        .distinct("stock_id")
    }
    dea_pending = services.dea_106_pending(facility)
    open_variances = list(
        ControlledCount.objects.filter(
            stock__in=stocks, completed_at__isnull=True, superseded_at__isnull=True
        ).select_related(
            "stock__medication", "stock__admission__client", "first_signer", "second_signer"
        )
    )
    user = request.user
    can_sign_off = policy.allows(user, "controlled.sign_off")
    for count in recent + open_variances:
        # The counters see the expected figure once their count is saved; supervisors always.
        count.shows_expected = can_sign_off or user.pk in (
            count.first_signer_id,
            count.second_signer_id,
        )
    kept = _kept_count_signer(request, facility)
    return render(
        request,
        "medications/controlled.html",
        {
            "facility": facility,
            "rows": [
                {
                    "stock": s,
                    "last": last.get(s.pk),
                    "count_form": form_for("count", s.public_id),
                    "waste_form": form_for("waste", s.public_id),
                    "receive_form": form_for("receive", s.public_id),
                    "recount": any(c.stock_id == s.pk for c in open_variances),
                }
                for s in stocks
            ],  # fmt: skip
            "open_variances": [
                {"count": c, "form": form_for("sign_off", c.public_id)} for c in open_variances
            ],
            "recent": recent,
            "dea_pending": [
                {"count": c, "form": form_for("dea_106", c.public_id)} for c in dea_pending
            ],
            "new_form": form_for("new", None),
            "count_signer": kept,
            "count_signer_until": kept
            and datetime.fromtimestamp(request.session[COUNT_SIGNER_KEY]["until"], tz=facility.tz),
            "medications": Medication.objects.filter(facility=facility, active=True).exclude(
                controlled_schedule=""
            ),
            "admissions": Admission.objects.current()
            .filter(facility=facility)
            .select_related("client", "bed")
            .order_by("bed__label"),
            "can_receive": policy.allows(user, "controlled.receive"),
            "can_sign_off": can_sign_off,
        },
    )


@policy.requires("controlled.sign")
@require_GET
def controlled(request):
    """Controlled stocks of the facility: blind shift counts, receipts, waste, discrepancies."""
    return _controlled_page(request)


# A service's name for the person at the cabinet is the form's second signer field.
_SIGNER_FIELDS = {"witness": "second_nurse", "second": "second_nurse"}


def _call(request, form, kind, target, action):
    """Run `action()`; a refusal re-renders the page with the form's messages (each under its
    field) and input."""
    if form.is_valid():
        try:
            return action(), None
        except (ValidationError, PermissionDenied) as exc:
            if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
                exc = ValidationError(
                    {_SIGNER_FIELDS.get(f, f): m for f, m in exc.message_dict.items()}
                )
            add_service_errors(form, exc)
    return None, _controlled_page(request, (kind, target, form))


@policy.requires("controlled.receive")
@require_POST
def stock_new(request):
    """Start keeping a count: a controlled medication for the house or one client."""
    facility = current_facility(request)
    if facility is None:
        raise Http404("You are not assigned to a facility.")
    form = StockNewForm(request.POST, facility=facility)

    def receive():
        witness = _second_person(request, None, form, facility=facility)
        return services.stock_open_and_receive(
            actor=request.user, facility=facility, medication=form.cleaned_data["medication"],
            admission=form.cleaned_data["admission"], quantity=form.cleaned_data["quantity"],
            note=form.cleaned_data["note"], witness=witness,
            source_document=form.cleaned_data["source_document"],
        )  # fmt: skip

    stock, refused = _call(request, form, "new", None, receive)
    if refused:
        return refused
    messages.success(request, f"Receipt recorded for {stock}.")
    return redirect("medications:controlled")


@policy.requires("controlled.receive")
@require_POST
def stock_receive(request, public_id):
    """A receipt, signed by two: the second person proves it with their password."""
    stock = _stock_for(request, public_id)
    form = ReceiveForm(request.POST)

    def receive():
        return services.stock_receive(
            actor=request.user, stock=stock, quantity=form.cleaned_data["quantity"],
            note=form.cleaned_data["note"], witness=_second_person(request, stock, form),
            source_document=form.cleaned_data["source_document"],
        )  # fmt: skip

    movement, refused = _call(request, form, "receive", stock.public_id, receive)
    if refused:
        return refused
    messages.success(request, f"Receipt recorded for {stock}, witnessed by {movement.witness}.")
    return redirect("medications:controlled")


@policy.requires("controlled.sign")
@require_POST
def stock_waste(request, public_id):
    stock = _stock_for(request, public_id)
    form = WasteForm(request.POST)

    def waste():
        return services.stock_waste(
            actor=request.user, witness=_second_person(request, stock, form), stock=stock,
            quantity=form.cleaned_data["quantity"], reason=form.cleaned_data["reason"],
        )  # fmt: skip

    movement, refused = _call(request, form, "waste", stock.public_id, waste)
    if refused:
        return refused
    messages.success(request, f"Waste recorded for {stock}, witnessed by {movement.witness}.")
    return redirect("medications:controlled")


@policy.requires("controlled.sign")
@require_POST
def count_submit(request, public_id):
    """A blind count: the expected quantity is shown once the count is saved. While a variance
    is open, the count is its recount: its second signer types their password (the kept one
    does not sign a recount), and a supervisor must still sign the variance off."""
    stock = _stock_for(request, public_id)
    form = CountForm(request.POST)
    recount = ControlledCount.objects.filter(
        stock=stock, completed_at__isnull=True, superseded_at__isnull=True
    ).exists()

    def count():
        if recount and not form.cleaned_data["second_password"]:
            raise ValidationError(
                {"second_password": "Their password: the second signer types it again for a "
                 "recount."}
            )  # fmt: skip
        second = (_second_person if recount else _count_second)(request, stock, form)
        return services.count_submit(
            actor=request.user, second=second, stock=stock, allow_recount=recount,
            counted_quantity=form.cleaned_data["counted_quantity"],
        )  # fmt: skip

    saved, refused = _call(request, form, "count", stock.public_id, count)
    if refused:
        return refused
    figures = (
        f"counted {_qty(saved.counted_quantity)}, expected {_qty(saved.expected_quantity)}, "
        f"difference {'+' if saved.variance > 0 else ''}{_qty(saved.variance)}"
    )
    if saved.recount_of_id:
        messages.error(
            request,
            f"Recount recorded; a supervisor must sign off: {stock} {figures}. Someone who "
            "counted neither count signs off the discrepancy record.",
        )
        return redirect("medications:controlled")
    request.session[COUNT_SIGNER_KEY] = {
        "user": saved.second_signer_id,
        "facility": stock.facility_id,
        "until": request.session.get(COUNT_SIGNER_KEY, {}).get("until")
        or (timezone.now() + COUNT_SIGNER_FOR).timestamp(),
    }
    if saved.completed_at:
        messages.success(request, f"Count complete: {stock} {figures}.")
    else:
        messages.error(
            request,
            f"Variance: {stock} {figures}. A supervisor who did not count must sign off a "
            "discrepancy record; two people may recount once first (the second signer types "
            "their password again), which does not replace the sign-off.",
        )
    return redirect("medications:controlled")


@policy.requires("controlled.sign_off")
@require_POST
def discrepancy_sign_off(request, public_id):
    count = _count_for(request, public_id)
    form = SignOffForm(request.POST)

    def sign_off():
        return services.discrepancy_sign_off(actor=request.user, count=count, **form.cleaned_data)

    signed, refused = _call(request, form, "sign_off", count.public_id, sign_off)
    if refused:
        return refused
    messages.success(request, "Discrepancy signed off; the count is complete.")
    if signed.significant_loss:
        messages.warning(
            request,
            "Significant loss: an incident report is now required, and a DEA Form 106 within "
            "45 days; record its filing on this page.",
        )
    return redirect("medications:controlled")


@policy.requires("controlled.sign_off")
@require_POST
def count_dea_106(request, public_id):
    """Record the DEA Form 106 filing of a signed-off significant loss; its alert closes."""
    count = _count_for(request, public_id)
    form = Dea106Form(request.POST)

    def record():
        return services.count_dea_106_record(
            actor=request.user, count=count, filed_on=form.cleaned_data["dea_106_filed_on"]
        )

    filed, refused = _call(request, form, "dea_106", count.public_id, record)
    if refused:
        return refused
    messages.success(request, f"DEA Form 106 filed on {filed.dea_106_filed_on}: recorded.")
    return redirect("medications:controlled")


@policy.requires("mar.use")
@require_GET
def mar_pdf(request, public_id):
    """The MAR of one client for a period of days, printed (specs/mar.md, Printing)."""
    admission = admission_for(request, public_id)
    facility = admission.facility
    earliest, latest = admission.stay_days()
    # Without a day: today, or the last day of a stay that has ended (the med pass chooses one).
    first = _query_day(request.GET["start"], "From") if request.GET.get("start") else latest
    last = _query_day(request.GET["end"], "To") if request.GET.get("end") else first
    if last < first or (last - first).days > 30:
        raise Http404("Period: at most 31 days, end not before start.")
    if first > latest or last < earliest or last > latest:
        # Not in the future, and not after a discharge.
        raise Http404(f"Period: this stay runs from {earliest} to {latest}.")
    start = datetime.combine(first, time.min, tzinfo=facility.tz)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=facility.tz)
    orders = list(
        Order.objects.filter(admission=admission, start_at__lt=end)
        .select_related("medication", "transcribed_by", "verified_by")
        .order_by("medication__name", "start_at")
    )
    holds = holds_by_order(o.pk for o in orders)
    for o in orders:  # issue 11: the structured holds and the score trigger, as the MAR acts on
        o.hold_texts = [hold_rules.rule_text(h.vital, h.comparator, h.value) for h in holds[o.pk]]
        o.trigger_text = (
            triggers.trigger_label(o.prn_trigger_scale, o.prn_trigger_min_score)
            if o.prn_trigger_scale
            else ""
        )
    doses = list(
        ScheduledDose.objects.filter(order__in=orders, scheduled_at__gte=start,
                                     scheduled_at__lt=end + timedelta(hours=12))
        .select_related("order")
        .prefetch_related(services.live_prefetch(printed=True))
        .order_by("order_id", "scheduled_at")
    )  # fmt: skip
    views = [v for v in services.dose_views(doses, timezone.now()) if v.dose.scheduled_at < end]
    prn = list(
        Administration.objects.filter(order__in=orders, dose__isnull=True,
                                      given_at__gte=start, given_at__lt=end)
        .select_related("recorded_by", "override_by", "follow_up__recorded_by")
        .order_by("given_at")
    )  # fmt: skip
    struck = list(
        Administration.objects.filter(order__in=orders, struck_at__isnull=False,
                                      recorded_at__gte=start, recorded_at__lt=end)
        .select_related("recorded_by", "struck_by", "dose")
    )  # fmt: skip
    by_order = {o.pk: {"order": o, "doses": [], "prn": []} for o in orders}
    for v in views:
        by_order[v.dose.order_id]["doses"].append(v)
    for a in prn:
        by_order[a.order_id]["prn"].append(a)
    signers = {v.documentation.recorded_by for v in views if v.documentation}
    signers |= {a.recorded_by for a in prn}
    signers |= {v.documentation.override_by for v in views if v.documentation}
    signers |= {a.override_by for a in prn}
    signers.discard(None)
    return pdf_response(
        request,
        template="medications/pdf/mar.html",
        context={
            "admission": admission,
            "client": admission.client,
            "blocks": list(by_order.values()),
            "struck": struck,
            "signers": sorted(signers, key=lambda u: u.initials),
        },
        facility=facility,
        client=admission.client,
        title="Medication administration record",
        unit=admission.unit.name,
        period=f"{first} to {last}",
        filename=f"mar-{admission.client.mrn}-{first}.pdf",
    )


@policy.requires("mar.use")
@require_GET
def discharge_med_list(request, public_id):
    """The medications a client leaves with, printed: each order running at discharge (or now,
    before it) with dose, route, frequency and when last given, the allergies, and what became
    of the client's own controlled supply (issue 9 item 3)."""
    from medications.discharge import REASON, running_orders

    admission = admission_for(request, public_id)
    facility = admission.facility
    at = admission.discharged_at
    if at is None:
        orders = running_orders(admission, timezone.now())
    else:
        orders = Order.objects.filter(
            admission=admission, discontinued_at=at, discontinue_reason=REASON
        )
    orders = list(orders.select_related("medication").order_by("medication__name", "start_at"))
    last_given = dict(
        Administration.objects.filter(order__in=orders, outcome=Outcome.GIVEN, struck_at=None)
        .values("order_id")
        .annotate(last=Max("given_at"))
        .values_list("order_id", "last")
    )
    for order in orders:
        order.last_given = last_given.get(order.pk)
    return pdf_response(
        request,
        template="medications/pdf/discharge_list.html",
        context={
            "admission": admission,
            "client": admission.client,
            "orders": orders,
            "at": at,
            "stocks": ControlledStock.objects.filter(admission=admission)
            .exclude(disposition="")
            .select_related("medication", "disposition_witness", "disposed_by"),
        },
        facility=facility,
        client=admission.client,
        title="Discharge medication list",
        unit=admission.unit.name,
        period=f"discharged {timezone.localtime(at, facility.tz):%Y-%m-%d %H:%M}"
        if at
        else "before discharge",
        filename=f"discharge-medications-{admission.client.mrn}.pdf",
    )
