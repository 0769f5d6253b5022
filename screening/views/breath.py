"""Breath alcohol (issue 13 item 6): the test form (calibration warning, 15-minute observation,
BrAC to three decimals, refusal) and the result with what it asks for: the repeat due after 15
minutes, and links to observations' vitals and CIWA-Ar pages."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from clients.access import admission_for, admissions_visible_to
from facility import policy
from facility.forms import add_service_errors
from screening.custody import BAC_VITALS_FROM
from screening.models import BreathKind, BreathTest, Device, DeviceKind
from screening.result_forms import BreathForm, RepeatContextForm
from screening.services import breath as services


def _devices(facility) -> list[Device]:
    return list(
        Device.objects.filter(facility=facility, kind=DeviceKind.BREATH, active=True).order_by(
            "make", "model", "serial"
        )
    )


def follow_up_links(admission, outcome) -> list[tuple[str, str]]:
    """Observations' entry points for vitals and a CIWA-Ar, with the reason they understand."""
    if not outcome.vitals_ciwa:
        return []
    return [
        (
            "Record vitals",
            reverse("observations:vitals_record", args=[admission.public_id])
            + "?reason=breath_alcohol",
        ),
        (
            "Score CIWA-Ar",
            reverse("observations:withdrawal_score", args=[admission.public_id, "ciwa_ar"])
            + "?reason=breath_alcohol",
        ),
    ]


@policy.requires("screening.breath")
@require_http_methods(["GET", "POST"])
def breath_record(request, public_id):
    """A breath test for a client; `?repeat_of=<test>` opens the 15-minute repeat."""
    admission = admission_for(request, public_id)
    facility = admission.facility
    now = timezone.now()
    devices = _devices(facility)
    data = request.POST if request.method == "POST" else None
    context = RepeatContextForm(data if data is not None else request.GET)
    wanted = context.cleaned_data.get("repeat_of") if context.is_valid() else None
    repeat_of = (
        BreathTest.objects.filter(admission=admission, public_id=wanted).first() if wanted else None
    )
    initial = {"repeat_of": wanted}
    if repeat_of is not None:
        initial["kind"] = BreathKind.CONFIRMATION
    form = BreathForm(data, devices=devices, initial=initial)
    if data is not None and form.is_valid():
        d = form.cleaned_data
        device = next((x for x in devices if x.pk == d["device"]), None)
        try:
            if device is None:
                raise ValidationError({"device": "Device: choose from the list."})
            if d["repeat_of"] and repeat_of is None:
                raise ValidationError({"kind": "Repeat of: a test of this client."})
            test = services.breath_test_record(
                actor=request.user,
                admission=admission,
                device=device,
                tested_at=d["tested_at"] or now,
                observation_started_at=d["observation_started_at"],
                brac=d["brac"],
                refused=d["refused"],
                kind=d["kind"],
                repeat_of=repeat_of,
                client_signature=d["client_signature"],
                client_declined_to_sign=d["client_declined_to_sign"],
                remarks=d["remarks"],
                now=now,
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Breath alcohol test recorded.")
            return redirect("screening:breath_result", public_id=test.public_id)
    today = timezone.localtime(now, facility.tz).date()
    chosen = next((x for x in devices if str(x.pk) == str(form["device"].value())), None)
    warnings = [
        (d, services.calibration_warning(d, today))
        for d in ([chosen] if chosen else devices)
        if services.calibration_warning(d, today)
    ]
    return render(
        request,
        "screening/breath_form.html",
        {
            "admission": admission,
            "client": admission.client,
            "form": form,
            "devices": devices,
            "warnings": [w for _, w in warnings],
            "repeat_of": repeat_of,
        },
        status=400 if form.errors else 200,
    )


@policy.requires("screening.view")
@require_GET
def breath_result(request, public_id):
    test = get_object_or_404(
        BreathTest.objects.select_related(
            "admission__client", "admission__facility", "device", "operator", "repeat_of"
        ),
        public_id=public_id,
        admission__in=admissions_visible_to(request.user),
    )
    admission = test.admission
    timezone.activate(admission.facility.tz)
    outcome = services.outcome_of(test)
    day = timezone.localtime(test.tested_at, admission.facility.tz).date()
    calibration = ""
    if test.calibrated_on is not None and test.device.calibration_interval_days is not None:
        age = (day - test.calibrated_on).days
        if age > test.device.calibration_interval_days:
            calibration = (
                f"Calibration was {age} days old at the test (interval "
                f"{test.device.calibration_interval_days} days)."
            )
    elif test.calibrated_on is None:
        calibration = "No calibration date was on file at the test."
    can_chart = policy.allows(request.user, "screening.breath", admission)
    return render(
        request,
        "screening/breath_result.html",
        {
            "test": test,
            "admission": admission,
            "client": admission.client,
            "outcome": outcome,
            "high": test.brac is not None and test.brac >= BAC_VITALS_FROM,
            "links": follow_up_links(admission, outcome) if admission.is_open else [],
            "calibration": calibration,
            "can_repeat": can_chart and outcome.repeat_due_at is not None,
            "repeats": list(test.repeats.select_related("operator")),
        },
    )
