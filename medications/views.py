"""The MAR board, the med pass, and orders: transcribe, verify, discontinue."""

from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients.access import admission_for
from clients.models import Admission, Client
from facility import policy
from facility.access import client_ip, current_facility, verify_cosigner
from facility.forms import add_service_errors
from facility.models import AccessAction, Unit
from facility.pdf import pdf_response
from facility.services import access_log
from facility.validators import PlausibleDateValidator
from medications import services
from medications.forms import (
    CountForm,
    DocumentForm,
    FollowUpForm,
    OrderForm,
    PrnGiveForm,
    ReasonForm,
    ReceiveForm,
    SignOffForm,
    StockNewForm,
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


def _doses_between(admissions, start, end):
    """Doses of these stays from `start` to 6 hours past `end`: a next dose can end the late
    period of one before it only within 2·window + next window ≤ 6 hours (specs/mar.md).

    Orders and medications are read once and shared, not built again for every dose row.
    """
    orders = {
        o.pk: o for o in Order.objects.filter(admission__in=admissions).select_related("medication")
    }
    doses = list(
        ScheduledDose.objects.filter(
            order__in=list(orders),
            scheduled_at__gte=start,
            scheduled_at__lt=end + timedelta(hours=6),
        )
        .only("id", "public_id", "order_id", "scheduled_at", "window_minutes", "cancelled_at")
        .prefetch_related(services.live_prefetch())
        .order_by("order_id", "scheduled_at")
    )
    for dose in doses:
        dose.order = orders[dose.order_id]
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
    doses = _doses_between(admissions, start, end)
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
    admission = admission_for(request, public_id)
    access_log(
        action=AccessAction.VIEW, actor=request.user, facility=admission.facility,
        client=admission.client, what="med pass", ip=client_ip(request),
    )  # fmt: skip
    now = timezone.now()
    doses = _doses_between([admission], now - timedelta(hours=12), now + timedelta(hours=6))
    views = [
        v for v in services.dose_views(doses, now) if v.dose.scheduled_at < now + timedelta(hours=6)
    ]
    views.sort(key=lambda v: v.dose.scheduled_at)
    orders = list(
        Order.objects.filter(admission=admission)
        .select_related("medication", "transcribed_by", "verified_by")
        .order_by("discontinued_at", "medication__name")
    )
    active = {o.pk for o in Order.objects.active_at(now).filter(admission=admission)}
    prn = [(o, services.prn_blocks(o, now)) for o in orders if o.is_prn and o.pk in active]
    return render(
        request,
        "medications/med_pass.html",
        {
            "admission": admission,
            "client": admission.client,
            "views": views,
            "orders": orders,
            "outcomes": Outcome.choices,
            # Observed self-administration only: the one-button form, and no PRN section.
            "observed_only": policy.allows(request.user, "mar.record")
            and not policy.allows(request.user, "mar.give"),
            "can_transcribe": policy.allows(request.user, "order.transcribe"),
            "prn": prn,
            "follow_ups": services.prn_pending([admission.pk], now),
            "effects": FollowUpForm.base_fields["result"].choices,
            "now": now,
        },
    )


def _dose_for(request, public_id) -> ScheduledDose:
    return get_object_or_404(
        ScheduledDose.objects.select_related("order__admission__client"),
        public_id=public_id,
        order__admission__client__in=Client.objects.visible_to(request.user),
    )


def _field_messages(request, form) -> None:
    """A refused form's first message per field, on the page the view redirects to."""
    for errors in form.errors.values():
        messages.error(request, errors[0])


@policy.requires("mar.record")
@require_POST
def dose_document(request, public_id):
    dose = _dose_for(request, public_id)
    admission = dose.order.admission
    form = DocumentForm(request.POST)
    if not form.is_valid():
        _field_messages(request, form)
        return redirect("medications:med_pass", public_id=admission.public_id)
    try:
        services.administration_record(actor=request.user, dose=dose, **form.cleaned_data)
    except services.DoseAlreadyCharted as exc:
        messages.warning(request, exc.messages[0])  # not an error: the dose is charted
    except (ValidationError, PermissionDenied) as exc:
        add_service_errors(request, exc)
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
            messages.success(request, "Order transcribed. A second nurse must verify it.")
            return redirect("medications:order_detail", public_id=order.public_id)
    return render(
        request,
        "medications/order_form.html",
        {"admission": admission, "client": admission.client, "form": form},
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
        ),
        public_id=public_id,
        admission__client__in=Client.objects.visible_to(request.user),
    )
    timezone.activate(order.admission.facility.tz)
    return order


@policy.requires("mar.use")
@require_GET
def order_detail(request, public_id):
    order = _order_for(request, public_id)
    access_log(
        action=AccessAction.VIEW, actor=request.user, facility=order.admission.facility,
        client=order.admission.client, what="medication order", ip=client_ip(request),
    )  # fmt: skip
    history = list(
        Administration.objects.filter(order=order)
        .select_related("recorded_by", "struck_by", "dose")
        .order_by("-recorded_at")[:50]
    )
    return render(
        request,
        "medications/order_detail.html",
        {
            "order": order,
            "admission": order.admission,
            "client": order.admission.client,
            "history": history,
            "can_verify": policy.allows(request.user, "order.verify")
            and order.verified_at is None
            and order.discontinued_at is None
            and order.transcribed_by_id != request.user.pk,
            "can_discontinue": policy.allows(request.user, "order.discontinue")
            and order.discontinued_at is None,
        },
    )


@policy.requires("order.verify")
@require_POST
def order_verify(request, public_id):
    order = _order_for(request, public_id)
    try:
        services.order_verify(actor=request.user, order=order)
        messages.success(request, "Order verified; doses are on the MAR.")
    except ValidationError as exc:
        add_service_errors(request, exc)
    return redirect("medications:order_detail", public_id=order.public_id)


@policy.requires("order.discontinue")
@require_POST
def order_discontinue(request, public_id):
    order = _order_for(request, public_id)
    form = ReasonForm(request.POST)
    if not form.is_valid() and not form.data.get("reason"):
        messages.error(request, "Reason: say why the order is discontinued.")
    elif not form.is_valid():
        _field_messages(request, form)
    else:
        try:
            services.order_discontinue(
                actor=request.user, order=order, reason=form.cleaned_data["reason"]
            )
            messages.success(request, "Order discontinued; its future doses are cancelled.")
        except ValidationError as exc:
            add_service_errors(request, exc)
    return redirect("medications:order_detail", public_id=order.public_id)


@policy.requires("mar.give")
@require_POST
def prn_give(request, public_id):
    """Give a PRN dose; past its limits a second nurse co-signs with their own password."""
    order = _order_for(request, public_id)
    form = PrnGiveForm(request.POST)
    back = redirect("medications:med_pass", public_id=order.admission.public_id)
    if not form.is_valid():
        _field_messages(request, form)
        return back
    data = form.cleaned_data
    try:
        second = verify_cosigner(
            request, username=data["second_nurse"], password=data["second_password"],
            facility=order.admission.facility,
        )  # fmt: skip
    except ValidationError as exc:
        add_service_errors(request, exc)
        return back
    try:
        services.prn_give(
            actor=request.user,
            order=order,
            indication=data["indication"],
            pre_assessment=data["pre_assessment"],
            override_reason=data["override_reason"],
            override_by=second,
        )
    except (ValidationError, PermissionDenied) as exc:
        add_service_errors(request, exc)
    else:
        messages.success(request, f"{order.medication} PRN given. Reassess its effect later.")
    return back


@policy.requires("mar.follow_up")
@require_POST
def prn_follow_up(request, public_id):
    admin = get_object_or_404(
        Administration.objects.select_related("order__admission"),
        public_id=public_id,
        order__admission__client__in=Client.objects.visible_to(request.user),
    )
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            services.prn_follow_up(actor=request.user, administration=admin, **form.cleaned_data)
            messages.success(request, "Follow-up recorded.")
        except ValidationError as exc:
            add_service_errors(request, exc)
    else:
        _field_messages(request, form)
    return redirect("medications:med_pass", public_id=admin.order.admission.public_id)


# ---------------------------------------------------------------- controlled substances


def _second_person(request, stock, form):
    """The co-signer or witness at the cabinet; ValidationError if they cannot prove it."""
    return verify_cosigner(
        request,
        username=form.cleaned_data["second_nurse"],
        password=form.cleaned_data["second_password"],
        facility=stock.facility,
    )


def _stock_for(request, public_id) -> ControlledStock:
    facility = current_facility(request)
    return get_object_or_404(
        ControlledStock.objects.select_related("medication", "admission__client"),
        public_id=public_id,
        facility=facility,
    )


@policy.requires("controlled.sign")
@require_GET
def controlled(request):
    """Controlled stocks of the facility: blind shift counts, receipts, waste, discrepancies."""
    facility = current_facility(request)
    if facility is None:
        raise Http404("You are not assigned to a facility.")
    stocks = list(
        ControlledStock.objects.filter(facility=facility)
        .select_related("medication", "admission__client")
        .order_by("medication__name", "admission_id")
    )
    counts = {}
    for count in (
        ControlledCount.objects.filter(stock__in=stocks)
        .select_related("first_signer", "second_signer")
        .order_by("stock_id", "-counted_at")
        .distinct("stock_id")
    ):
        counts[count.stock_id] = count
    open_variances = list(
        ControlledCount.objects.filter(stock__in=stocks, completed_at__isnull=True).select_related(
            "stock__medication", "stock__admission__client", "first_signer", "second_signer"
        )
    )
    return render(
        request,
        "medications/controlled.html",
        {
            "facility": facility,
            "rows": [(s, counts.get(s.pk)) for s in stocks],
            "open_variances": open_variances,
            "medications": Medication.objects.filter(facility=facility, active=True).exclude(
                controlled_schedule=""
            ),
            "admissions": Admission.objects.current()
            .filter(facility=facility)
            .select_related("client", "bed")
            .order_by("bed__label"),
            "can_receive": policy.allows(request.user, "controlled.receive"),
            "can_sign_off": policy.allows(request.user, "controlled.sign_off"),
        },
    )


def _form_refused(request, form) -> bool:
    """Report a refused form's field messages on the controlled page; True if it was refused."""
    if form.is_valid():
        return False
    _field_messages(request, form)
    return True


@policy.requires("controlled.receive")
@require_POST
def stock_new(request):
    """Start keeping a count: a controlled medication for the house or one client."""
    facility = current_facility(request)
    if facility is None:
        raise Http404("You are not assigned to a facility.")
    form = StockNewForm(request.POST, facility=facility)
    if _form_refused(request, form):
        return redirect("medications:controlled")
    try:
        stock = services.stock_open_and_receive(
            actor=request.user, facility=facility, medication=form.cleaned_data["medication"],
            admission=form.cleaned_data["admission"], quantity=form.cleaned_data["quantity"],
            note=form.cleaned_data["note"],
        )  # fmt: skip
    except (ValidationError, PermissionDenied) as exc:
        add_service_errors(request, exc)
    else:
        messages.success(request, f"Receipt recorded for {stock}.")
    return redirect("medications:controlled")


@policy.requires("controlled.receive")
@require_POST
def stock_receive(request, public_id):
    stock = _stock_for(request, public_id)
    form = ReceiveForm(request.POST)
    if _form_refused(request, form):
        return redirect("medications:controlled")
    try:
        services.stock_receive(
            actor=request.user, stock=stock, quantity=form.cleaned_data["quantity"],
            note=form.cleaned_data["note"],
        )  # fmt: skip
    except (ValidationError, PermissionDenied) as exc:
        add_service_errors(request, exc)
    else:
        messages.success(request, f"Receipt recorded for {stock}.")
    return redirect("medications:controlled")


@policy.requires("controlled.sign")
@require_POST
def stock_waste(request, public_id):
    stock = _stock_for(request, public_id)
    form = WasteForm(request.POST)
    if _form_refused(request, form):
        return redirect("medications:controlled")
    try:
        witness = _second_person(request, stock, form)
        services.stock_waste(
            actor=request.user, witness=witness, stock=stock,
            quantity=form.cleaned_data["quantity"], reason=form.cleaned_data["reason"],
        )  # fmt: skip
    except (ValidationError, PermissionDenied) as exc:
        add_service_errors(request, exc)
    else:
        messages.success(request, f"Waste recorded for {stock}, witnessed by {witness}.")
    return redirect("medications:controlled")


@policy.requires("controlled.sign")
@require_POST
def count_submit(request, public_id):
    """A blind count: the expected quantity is shown only after the count is saved."""
    stock = _stock_for(request, public_id)
    form = CountForm(request.POST)
    if _form_refused(request, form):
        return redirect("medications:controlled")
    try:
        second = _second_person(request, stock, form)
        count = services.count_submit(
            actor=request.user, second=second, stock=stock,
            counted_quantity=form.cleaned_data["counted_quantity"],
        )  # fmt: skip
    except (ValidationError, PermissionDenied) as exc:
        add_service_errors(request, exc)
    else:
        if count.completed_at:
            messages.success(request, f"Count complete: {stock} matches.")
        else:
            # The expected figure stays hidden from the counters, so a recount stays blind.
            messages.error(
                request,
                f"Variance: the count of {stock} does not match. It stays open until a "
                "supervisor signs off a discrepancy record.",
            )
    return redirect("medications:controlled")


@policy.requires("controlled.sign_off")
@require_POST
def discrepancy_sign_off(request, public_id):
    facility = current_facility(request)
    count = get_object_or_404(ControlledCount, public_id=public_id, stock__facility=facility)
    form = SignOffForm(request.POST)
    if _form_refused(request, form):
        return redirect("medications:controlled")
    try:
        services.discrepancy_sign_off(
            actor=request.user, count=count, explanation=form.cleaned_data["explanation"]
        )
    except (ValidationError, PermissionDenied) as exc:
        add_service_errors(request, exc)
    else:
        messages.success(request, "Discrepancy signed off; the count is complete.")
    return redirect("medications:controlled")


@policy.requires("mar.use")
@require_GET
def mar_pdf(request, public_id):
    """The MAR of one client for a period of days, printed (specs/mar.md, Printing)."""
    admission = admission_for(request, public_id)
    facility = admission.facility
    today = timezone.localtime(timezone.now(), facility.tz).date()
    first = _query_day(request.GET["start"], "From") if request.GET.get("start") else today
    last = _query_day(request.GET["end"], "To") if request.GET.get("end") else first
    if last < first or (last - first).days > 30:
        raise Http404("Period: at most 31 days, end not before start.")
    earliest, latest = admission.stay_days()
    if first > latest or last < earliest:
        raise Http404(f"Period: this stay runs from {earliest} to {latest}.")
    start = datetime.combine(first, time.min, tzinfo=facility.tz)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=facility.tz)
    orders = list(
        Order.objects.filter(admission=admission, start_at__lt=end)
        .select_related("medication", "transcribed_by", "verified_by")
        .order_by("medication__name", "start_at")
    )
    doses = list(
        ScheduledDose.objects.filter(order__in=orders, scheduled_at__gte=start,
                                     scheduled_at__lt=end + timedelta(hours=12))
        .select_related("order")
        .prefetch_related(services.live_prefetch())
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
