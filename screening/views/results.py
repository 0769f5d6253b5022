"""Point-of-care cup results (issue 13 items 4 and 5): one screen to read a collected specimen's
cup, the result with its expected and unexpected positives, "Send to lab", and strike."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients.access import admissions_visible_to
from facility import policy, registry
from facility.forms import add_service_errors
from screening.defaults import ADULTERANT_PADS as PAD_ORDER
from screening.defaults import ANALYTE_NAMES, analyte_sort_key
from screening.models import Device, DeviceKind, DeviceLot, PocTest, Reading, Specimen
from screening.result_forms import DevicePickForm, PocResultForm, StrikeForm
from screening.services import results as services


def optional_url(name: str, *args) -> str:
    """A page another part of screening owns, if it is there (custody, specimen, labels)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def specimen_for(request, public_id) -> Specimen:
    specimen = get_object_or_404(
        Specimen.objects.select_related("admission__client", "admission__facility"),
        public_id=public_id,
        admission__in=admissions_visible_to(request.user),
    )
    timezone.activate(specimen.admission.facility.tz)
    return specimen


def test_for(request, public_id) -> PocTest:
    test = get_object_or_404(
        PocTest.objects.select_related(
            "specimen__admission__client", "specimen__admission__facility", "device", "lot",
            "tested_by", "struck_by",
        ),
        public_id=public_id,
        specimen__admission__in=admissions_visible_to(request.user),
    )  # fmt: skip
    timezone.activate(test.specimen.admission.facility.tz)
    return test


def _cups(facility) -> list[Device]:
    return list(
        Device.objects.filter(facility=facility, kind=DeviceKind.CUP, active=True).order_by(
            "make", "model"
        )
    )


@policy.requires("screening.poc")
@require_http_methods(["GET", "POST"])
def poc_record(request, public_id):
    """Read a collected specimen's cup: device and lot, "All negative" then the exceptions, the
    adulterant pads, one save. The expected analytes are shown before saving."""
    specimen = specimen_for(request, public_id)
    admission = specimen.admission
    facility = admission.facility
    now = timezone.now()
    today = timezone.localtime(now, facility.tz).date()
    cups = _cups(facility)
    existing = services.live_test(specimen)
    if existing is not None:
        messages.info(request, "This specimen already has a result.")
        return redirect("screening:poc_result", public_id=existing.public_id)
    if not cups:
        return render(
            request,
            "screening/result_form.html",
            {"specimen": specimen, "client": admission.client, "no_cups": True},
            status=200,
        )
    pick = DevicePickForm(request.POST if request.method == "POST" else request.GET)
    wanted = pick.cleaned_data.get("device") if pick.is_valid() else None
    device = next((d for d in cups if d.public_id == wanted), cups[0])
    lots = list(DeviceLot.objects.filter(device=device).order_by("-expires_on", "lot")[:20])
    form = PocResultForm(
        request.POST if request.method == "POST" else None, device=device, lots=lots, today=today
    )
    if request.method == "POST" and form.is_valid():
        lot = next((x for x in lots if x.pk == form.cleaned_data["lot"]), None)
        try:
            if lot is None:
                raise ValidationError({"lot": "Lot: choose from the list."})
            test = services.poc_test_record(
                actor=request.user,
                specimen=specimen,
                device=device,
                lot=lot,
                readings=form.readings(),
                adulterants=form.adulterants(),
                tested_at=form.cleaned_data["tested_at"],
                now=now,
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Result recorded for {specimen.specimen_id}.")
            return redirect("screening:poc_result", public_id=test.public_id)
    explained = registry.analytes_explained([admission.pk], at=now).get(admission.pk, {})
    return render(
        request,
        "screening/result_form.html",
        {
            "specimen": specimen,
            "client": admission.client,
            "form": form,
            "device": device,
            "cups": cups,
            "explained": sorted(explained.items()),
            "analyte_rows": form.analyte_rows(explained),
            "no_lots": not lots,
        },
        status=400 if form.errors else 200,
    )


def _result_context(request, test: PocTest) -> dict:
    specimen = test.specimen
    rows = sorted(test.analytes.all(), key=lambda r: analyte_sort_key(r.analyte))
    finding = services.finding_of(test, rows)
    return {
        "test": test,
        "specimen": specimen,
        "client": specimen.admission.client,
        "rows": [
            {
                "row": r,
                "name": ANALYTE_NAMES.get(r.analyte, r.analyte),
                "positive": r.reading == Reading.PRESUMPTIVE_POSITIVE,
                "invalid": r.reading == Reading.INVALID,
            }
            for r in rows
        ],
        "finding": finding,
        "pads": [
            (pad if pad[1:2].isupper() else pad[:1].upper() + pad[1:], value)
            for pad, value in sorted(
                (test.adulterants or {}).items(),
                key=lambda kv: PAD_ORDER.index(kv[0]) if kv[0] in PAD_ORDER else len(PAD_ORDER),
            )
        ],
        "lot_expired": services.lot_expired(
            test.lot, timezone.localtime(test.tested_at, specimen.admission.facility.tz).date()
        ),
        "can_act": policy.allows(request.user, "screening.poc", specimen)
        and test.struck_at is None,
        "lab_worthy": test.struck_at is None and services.lab_worthy(test),
        "custody_url": optional_url("screening:specimen_custody", specimen.public_id),
        "specimen_url": optional_url("screening:specimen", specimen.public_id),
        "strike_form": StrikeForm(),
    }


@policy.requires("screening.view")
@require_GET
def poc_result(request, public_id):
    test = test_for(request, public_id)
    return render(request, "screening/result_detail.html", _result_context(request, test))


@policy.requires("screening.poc")
@require_POST
def poc_send_to_lab(request, public_id):
    """Mark the result sent for confirmation; custody goes on from the custody page."""
    test = test_for(request, public_id)
    try:
        services.poc_send_to_lab(actor=request.user, test=test)
    except (ValidationError, PermissionDenied) as exc:
        add_service_errors(request, exc)
        return redirect("screening:poc_result", public_id=test.public_id)
    messages.success(
        request,
        f"{test.specimen.specimen_id} marked for the lab: record the hand-over to the courier "
        "on the custody page.",
    )
    custody = optional_url("screening:specimen_custody", test.specimen.public_id)
    return redirect(custody or reverse("screening:poc_result", args=[test.public_id]))


@policy.requires("screening.poc")
@require_POST
def poc_strike(request, public_id):
    test = test_for(request, public_id)
    form = StrikeForm(request.POST)
    if form.is_valid():
        try:
            services.poc_test_strike(
                actor=request.user, test=test, reason=form.cleaned_data["reason"]
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Result struck (entered in error).")
            return redirect("screening:poc_result", public_id=test.public_id)
    context = _result_context(request, test) | {"strike_form": form}
    return render(request, "screening/result_detail.html", context, status=400)
