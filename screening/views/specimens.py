"""Specimen pages (issue 13 items 1–4): the screening home with the scan field, the day's random
list, starting or ordering a specimen, collection (or refusal), the label, the chain of custody
with its PDF, laboratory results and the specimens awaiting one."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients.access import admission_for, admissions_visible_to
from facility import policy
from facility.access import client_ip, current_facility_or_404
from facility.forms import add_service_errors
from facility.models import AccessAction, User
from facility.pdf import pdf_response
from facility.services import access_log
from screening.defaults import ANALYTE_ORDER
from screening.forms import (
    OBSERVED_REASONS,
    CollectForm,
    CustodyForm,
    LabResultForm,
    RandomDrawForm,
    RefusalForm,
    ScanForm,
    SpecimenStartForm,
)
from screening.identifiers import normalize_specimen_id
from screening.labels import label_context
from screening.models import CustodyEvent, RandomDraw, Specimen, SpecimenStatus
from screening.services import custody as custody_services
from screening.services import results as result_services
from screening.services import specimens as services

STATUS_TONES = {"ordered": "due", "collected": "ok", "refused": "alert", "cancelled": ""}


def _log_read(request, specimen: Specimen, what: str) -> None:
    """A read of a client's screening record is audited like any chart read (DESIGN.md §2)."""
    access_log(
        action=AccessAction.VIEW,
        actor=request.user,
        facility=specimen.admission.facility,
        client=specimen.admission.client,
        what=f"{what} {specimen.specimen_id}",
        ip=client_ip(request),
    )


def specimen_for(request, public_id) -> Specimen:
    """A specimen of a client the user may see, else 404; activates its facility's clock."""
    specimen = get_object_or_404(
        Specimen.objects.select_related(
            "admission__client", "admission__facility", "admission__unit", "collector",
            "observer", "ordered_by", "random_draw", "leave", "recollection_of",
        ),
        public_id=public_id,
        admission__in=admissions_visible_to(request.user),
    )  # fmt: skip
    timezone.activate(specimen.admission.facility.tz)
    return specimen


def _age(since, now) -> str:
    """ "3 d 4 h", "5 h 10 min", "12 min": how long a specimen has waited."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


# ---------------------------------------------------------------- home, scan, lists


def _home(request, facility, scan_form, status=200):
    today = timezone.localtime(timezone.now(), facility.tz).date()
    return render(
        request,
        "screening/specimen_home.html",
        {
            "facility": facility,
            "scan_form": scan_form,
            "to_collect": list(services.to_collect(facility)[:50]),
            "draw": RandomDraw.objects.filter(facility=facility, day=today).first(),
            "awaiting_count": services.awaiting_lab_result(facility).count(),
            "recent": list(
                services.facility_specimens(facility)
                .exclude(status=SpecimenStatus.ORDERED)
                .order_by("-collected_at")[:15]
            ),
            "tones": STATUS_TONES,
        },
        status=status,
    )


@policy.requires("screening.view")
@require_GET
def specimen_home(request):
    """The screening home: the scan field first (a scanner types into it), what is to collect,
    today's random list and the specimens awaiting a lab result."""
    facility = current_facility_or_404(request)
    timezone.activate(facility.tz)
    return _home(request, facility, ScanForm())


@policy.requires("screening.view")
@require_GET
def specimen_scan(request):
    """A scanned (or typed) specimen ID opens the specimen; an unknown one says so on the
    field. Only specimens of clients the user may see are found."""
    facility = current_facility_or_404(request)
    timezone.activate(facility.tz)
    form = ScanForm(request.GET)
    if form.is_valid():
        typed = form.cleaned_data["specimen_id"]
        wanted = normalize_specimen_id(typed)
        found = None
        if wanted is not None:
            found = Specimen.objects.filter(
                specimen_id=wanted, admission__in=admissions_visible_to(request.user)
            ).first()
        if found is not None:
            return redirect("screening:specimen", public_id=found.public_id)
        form.add_error(
            "specimen_id",
            f"No specimen {wanted or typed.strip()[:20]} here: check the label and scan again.",
        )
    return _home(request, facility, form, status=400)


@policy.requires("screening.view", post="screening.random_draw")
@require_http_methods(["GET", "POST"])
def random_list(request):
    """Today's random list at the current facility: drawn once a day (percent of the census,
    a recorded seed), each drawn client with their specimen."""
    facility = current_facility_or_404(request)
    timezone.activate(facility.tz)
    form = RandomDrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.random_draw_make(
                actor=request.user, facility=facility, percent=form.cleaned_data["percent"]
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Today's random list is drawn.")
            return redirect("screening:random_list")
    now = timezone.now()
    today = timezone.localtime(now, facility.tz).date()
    made = RandomDraw.objects.filter(facility=facility, day=today).select_related("drawn_by")
    made = made.first()
    drawn = []
    if made is not None:
        drawn = list(
            made.specimens.select_related(
                "admission__client", "admission__unit", "collector"
            ).order_by("admission__client__legal_last_name", "ordered_at")
        )
    return render(
        request,
        "screening/specimen_random.html",
        {
            "facility": facility,
            "form": form,
            "draw": made,
            "drawn": drawn,
            "pool_size": len(made.pool) if made else len(services.random_pool(facility, now)),
            "can_draw": policy.allows(request.user, "screening.random_draw"),
            "tones": STATUS_TONES,
        },
        status=400 if form.errors else 200,
    )


@policy.requires("screening.view")
@require_GET
def awaiting_lab(request):
    """Specimens sent to a laboratory with no result yet, oldest first, with their age."""
    facility = current_facility_or_404(request)
    timezone.activate(facility.tz)
    now = timezone.now()
    rows = [
        {"specimen": s, "age": _age(s.collected_at, now)}
        for s in services.awaiting_lab_result(facility).prefetch_related(
            Prefetch("custody", queryset=CustodyEvent.objects.order_by("seq"))
        )
    ]
    for row in rows:
        row["holder"] = custody_services.current_holder(row["specimen"].custody.all())
    return render(request, "screening/specimen_awaiting_lab.html", {"rows": rows})


# ---------------------------------------------------------------- starting a specimen


def _start(request, public_id, *, reasons, title, template_action):
    admission = admission_for(request, public_id)
    if admission.discharged_at is not None:
        raise PermissionDenied("This client has been discharged.")
    form = SpecimenStartForm(request.POST or None, admission=admission, reasons=reasons)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            specimen = services.specimen_order(
                actor=request.user,
                admission=admission,
                reason=data["reason"],
                reason_detail=data.get("reason_detail", ""),
                leave=data.get("leave"),
                specimen_type=data["specimen_type"],
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Specimen {specimen.specimen_id} started.")
            if policy.allows(request.user, "screening.collect", specimen):
                return redirect("screening:specimen_collect", public_id=specimen.public_id)
            return redirect("screening:specimen", public_id=specimen.public_id)
    return render(
        request,
        "screening/specimen_start.html",
        {
            "admission": admission,
            "client": admission.client,
            "form": form,
            "title": title,
            "action": template_action,
        },
        status=400 if form.errors else 200,
    )


@policy.requires("screening.collect")
@require_http_methods(["GET", "POST"])
def specimen_start(request, public_id):
    """The floor starts a client's admission or return-from-pass specimen, then collects it."""
    return _start(
        request,
        public_id,
        reasons=list(services.FLOOR_REASONS),
        title="Start a drug screen",
        template_action=reverse("screening:specimen_start", args=[public_id]),
    )


@policy.requires("screening.order")
@require_http_methods(["GET", "POST"])
def specimen_order(request, public_id):
    """A nurse, clinician or supervisor orders a screen for cause (saying why) or scheduled."""
    return _start(
        request,
        public_id,
        reasons=list(services.ORDERED_REASONS),
        title="Order a drug screen",
        template_action=reverse("screening:specimen_order", args=[public_id]),
    )


# ---------------------------------------------------------------- one specimen


def _timeline(specimen):
    return custody_services.custody_timeline(
        specimen.custody.select_related(
            "recorded_by", "released_by_user", "received_by_user"
        ).order_by("seq")
    )


@policy.requires("screening.view")
@require_GET
def specimen(request, public_id):
    """One specimen: its order, collection (or refusal), flag, custody timeline and results."""
    specimen = specimen_for(request, public_id)
    _log_read(request, specimen, "specimen")
    user = request.user
    timeline = _timeline(specimen)
    cup = result_services.live_test(specimen)
    return render(
        request,
        "screening/specimen_detail.html",
        {
            # The cup read where a scan or a finished collection lands: collect -> read.
            "cup": cup,
            "cup_finding": result_services.finding_of(cup, list(cup.analytes.all()))
            if cup
            else None,
            "can_read_cup": cup is None
            and specimen.status == SpecimenStatus.COLLECTED
            and policy.allows(user, "screening.poc", specimen),
            "specimen": specimen,
            "admission": specimen.admission,
            "client": specimen.admission.client,
            "timeline": timeline,
            "holder": timeline[-1].event.received_by if timeline else "",
            "lab_results": list(specimen.lab_results.select_related("recorded_by")),
            "recollections": list(specimen.recollections.all()),
            "can_collect": specimen.status == SpecimenStatus.ORDERED
            and policy.allows(user, "screening.collect", specimen),
            "can_custody": specimen.status == SpecimenStatus.COLLECTED
            and policy.allows(user, "screening.custody", specimen),
            "can_label": policy.allows(user, "screening.collect", specimen),
            "can_recollect": specimen.flagged
            and not any(r.status == SpecimenStatus.ORDERED for r in specimen.recollections.all())
            and policy.allows(user, "screening.collect", specimen),
            "can_lab": specimen.status == SpecimenStatus.COLLECTED
            and policy.allows(user, "screening.lab_result", specimen),
            "tones": STATUS_TONES,
        },
    )


@policy.requires("screening.collect")
@require_http_methods(["GET", "POST"])
def specimen_collect(request, public_id):
    """Record the collection: every field of the spec, and the client's signature drawn on the
    tablet (or that they declined). A flagged temperature offers an observed recollection."""
    specimen = specimen_for(request, public_id)
    admission = specimen.admission
    if specimen.status != SpecimenStatus.ORDERED:
        messages.info(request, f"Specimen {specimen.specimen_id} is already recorded.")
        return redirect("screening:specimen", public_id=specimen.public_id)
    if admission.discharged_at is not None:
        raise PermissionDenied("This client has been discharged.")
    tz = admission.facility.tz
    form = CollectForm(request.POST or None, facility=admission.facility, tz=tz)
    if request.method == "POST" and form.is_valid():
        try:
            done = services.specimen_collect(
                actor=request.user, specimen=specimen, collection=form.collection()
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            if done.flagged:
                messages.warning(request, f"Specimen {done.specimen_id} is flagged.")
            else:
                messages.success(request, f"Specimen {done.specimen_id} collected.")
            return redirect("screening:specimen", public_id=done.public_id)
    if specimen.recollection_of_id and not form.is_bound:
        form.initial.update({"observed": "yes", "observed_reason": services.RECOLLECTION_REASON})
    return render(
        request,
        "screening/specimen_collect.html",
        {
            "specimen": specimen,
            "admission": admission,
            "client": admission.client,
            "form": form,
            "refusal_form": RefusalForm(tz=tz),
            "observed_reasons": OBSERVED_REASONS,
        },
        status=400 if form.errors else 200,
    )


@policy.requires("screening.collect")
@require_POST
def specimen_refuse(request, public_id):
    """The client refuses to provide a specimen: recorded as the result."""
    specimen = specimen_for(request, public_id)
    admission = specimen.admission
    tz = admission.facility.tz
    form = RefusalForm(request.POST, tz=tz)
    if form.is_valid():
        try:
            services.specimen_refuse(
                actor=request.user,
                specimen=specimen,
                at=form.cleaned_data["refused_at"],
                note=form.cleaned_data["refusal_note"],
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Refusal recorded as the result.")
            return redirect("screening:specimen", public_id=specimen.public_id)
    return render(
        request,
        "screening/specimen_collect.html",
        {
            "specimen": specimen,
            "admission": admission,
            "client": admission.client,
            "form": CollectForm(facility=admission.facility, tz=tz),
            "refusal_form": form,
            "refusal_open": True,
            "observed_reasons": OBSERVED_REASONS,
        },
        status=400,
    )


@policy.requires("screening.collect")
@require_POST
def specimen_recollect(request, public_id):
    """An observed recollection of a flagged specimen: a new specimen, then its collection."""
    specimen = specimen_for(request, public_id)
    try:
        new = services.specimen_recollect(actor=request.user, specimen=specimen)
    except (ValidationError, PermissionDenied) as exc:
        add_service_errors(request, exc)
        return redirect("screening:specimen", public_id=specimen.public_id)
    messages.success(request, f"Observed recollection {new.specimen_id}: collect it now.")
    return redirect("screening:specimen_collect", public_id=new.public_id)


@policy.requires("screening.collect")
@require_GET
def specimen_label(request, public_id):
    """The label PDF: the cup label, the seal strip and the Part 2 notice, on label stock."""
    specimen = specimen_for(request, public_id)
    if specimen.status in (SpecimenStatus.REFUSED, SpecimenStatus.CANCELLED):
        raise Http404("No specimen to label.")
    facility = specimen.admission.facility
    return pdf_response(
        request,
        filename=f"label-{specimen.specimen_id}.pdf",
        template="screening/pdf/label.html",
        context=label_context(specimen),
        facility=facility,
        client=specimen.admission.client,
        title=f"Specimen label {specimen.specimen_id}",
    )


# ---------------------------------------------------------------- custody


@policy.requires("screening.custody")
@require_http_methods(["GET", "POST"])
def specimen_custody(request, public_id):
    """The chain of custody as a timeline, and the next hand-over (or a correction of an entry:
    `?corrects=<entry id>` fills the form from it)."""
    specimen = specimen_for(request, public_id)
    if request.method == "GET":
        _log_read(request, specimen, "custody of specimen")
    tz = specimen.admission.facility.tz
    timeline = _timeline(specimen)
    holder = timeline[-1].event.received_by if timeline else ""
    # A correction names the entry it corrects (`?corrects=` on the link, a hidden field on
    # the form); only an entry in force can be corrected (the service says which is).
    source = request.POST if request.method == "POST" else request.GET
    wanted = source.get("corrects", "")
    correcting = next((r.event for r in timeline if str(r.event.public_id) == wanted), None)
    form = CustodyForm(request.POST or None, specimen=specimen, tz=tz)
    if correcting is not None:
        form.set_correcting(correcting)
    if not form.is_bound and correcting is not None:
        form.initial.update(
            {
                "at": timezone.localtime(correcting.at, tz).strftime("%Y-%m-%dT%H:%M"),
                "purpose": correcting.purpose,
                "released_by": correcting.released_by,
                "received_by": correcting.received_by,
                "seal_intact": "yes" if correcting.seal_intact else "no",
                "storage_location": correcting.storage_location,
                "corrects": correcting.public_id,
            }
        )
    elif not form.is_bound:
        form.initial["released_by"] = holder
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            event = custody_services.custody_append(
                actor=request.user,
                specimen=specimen,
                at=data["at"],
                released_by=data["released_by"],
                received_by=data["received_by"],
                purpose=data["purpose"],
                seal_intact=data["seal_intact"],
                storage_location=data["storage_location"],
                remarks=data["remarks"],
                corrects=data["corrects"],
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            what = "Correction" if event.corrects_id else "Hand-over"
            messages.success(request, f"{what} #{event.seq} recorded: {event.received_by}.")
            return redirect("screening:specimen_custody", public_id=specimen.public_id)
    return render(
        request,
        "screening/custody_page.html",
        {
            "specimen": specimen,
            "admission": specimen.admission,
            "client": specimen.admission.client,
            "timeline": timeline,
            "holder": holder,
            "form": form,
            "correcting": correcting,
            "holders": _holder_suggestions(specimen),
            "collected": specimen.status == SpecimenStatus.COLLECTED,
        },
        status=400 if form.errors else 200,
    )


def _holder_suggestions(specimen) -> list[str]:
    """Names for the "Received by" list: the facility's staff and the holders (storage, couriers,
    labs) its chains have named before."""
    facility = specimen.admission.facility
    staff = [u.signature for u in User.objects.filter(facilities=facility, is_active=True)]
    used = (
        CustodyEvent.objects.filter(specimen__admission__facility=facility)
        .exclude(purpose="collected")
        .values_list("received_by", flat=True)
        .distinct()[:40]
    )
    return sorted(set(staff) | set(used))


@policy.requires("screening.view")
@require_GET
def custody_pdf(request, public_id):
    """The custody record laid out like the federal CCF's custody block, with the notice."""
    specimen = specimen_for(request, public_id)
    facility = specimen.admission.facility
    return pdf_response(
        request,
        filename=f"custody-{specimen.specimen_id}.pdf",
        template="screening/pdf/custody.html",
        context={
            "specimen": specimen,
            "client": specimen.admission.client,
            "admission": specimen.admission,
            "timeline": _timeline(specimen),
            **label_context(specimen),
        },
        facility=facility,
        client=specimen.admission.client,
        title=f"Chain of custody · specimen {specimen.specimen_id}",
        unit=specimen.admission.unit.name,
        period=timezone.localtime(specimen.collected_at or specimen.ordered_at).strftime(
            "%Y-%m-%d"
        ),
    )


# ---------------------------------------------------------------- laboratory result


@policy.requires("screening.lab_result")
@require_http_methods(["GET", "POST"])
def lab_result(request, public_id):
    """Enter a laboratory's report per analyte: the lab's cutoff, value and result."""
    specimen = specimen_for(request, public_id)
    tz = specimen.admission.facility.tz
    form = LabResultForm(request.POST or None, tz=tz)
    receipt = services.lab_receipt(specimen)
    if not form.is_bound and receipt is not None:
        form.initial.setdefault("lab_name", receipt.received_by)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.lab_result_record(
                actor=request.user,
                specimen=specimen,
                lab_name=data["lab_name"],
                reported_at=data["reported_at"],
                rows=data["rows"],
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Laboratory result recorded for {specimen.specimen_id}.")
            return redirect("screening:specimen", public_id=specimen.public_id)
    return render(
        request,
        "screening/specimen_lab_result.html",
        {
            "specimen": specimen,
            "admission": specimen.admission,
            "client": specimen.admission.client,
            "form": form,
            "receipt": receipt,
            "analytes": ANALYTE_ORDER,
            "recorded": list(specimen.lab_results.all()),
        },
        status=400 if form.errors else 200,
    )
