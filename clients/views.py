"""Census board, client chart, admission, bed moves, discharge, leaves, orientation."""

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients import services
from clients.access import admission_for, client_for
from clients.forms import (
    AdmissionAllergiesForm,
    AllergyForm,
    AllergyRemoveForm,
    DischargeForm,
    LeaveForm,
    MoveBedForm,
    NewClientForm,
    OutingRestrictionForm,
    OutingRestrictionLiftForm,
    PlacementForm,
    ReturnForm,
)
from clients.glass import VIA_GLASS, chart_requires, section_shown, via_glass
from clients.models import (
    PHOTO_TYPES,
    Admission,
    AllergenKind,
    Allergy,
    AllergyStatus,
    Client,
    Leave,
    OrientationItem,
    OutingRestriction,
)
from facility import policy
from facility.access import client_ip, current_facility_or_404
from facility.forms import add_service_errors
from facility.models import AccessAction, Bed, Unit
from facility.pdf import pdf_response
from facility.registry import registry
from facility.services import access_log
from medications.allergies import reading


def _unit_param(facility, value: str) -> Unit:
    """The unit a query string names, by public id; anything else is a 404, not a 500."""
    try:
        public_id = uuid.UUID(value)
    except ValueError as exc:
        raise Http404("No such unit.") from exc
    return get_object_or_404(Unit, facility=facility, public_id=public_id)


@dataclass
class CensusRow:
    bed: Bed
    admission: Admission | None
    leave: Leave | None
    days: int | None
    slots: list[Any]


def census_rows(facility, unit=None, *, now=None, user=None) -> tuple[list[CensusRow], list]:
    """One row per active bed (occupied or not), filled by every registered census slot; a
    `per_user` slot fills for `user` (the alerts count the reader's own alerts, issue 17).

    Queries: beds, current admissions (with clients), open leaves, plus one per slot; the count
    does not depend on the number of clients.
    """
    now = now or timezone.now()
    beds = Bed.objects.filter(unit__facility=facility, active=True).select_related("unit")
    admissions = (
        Admission.objects.current().filter(facility=facility).select_related("client", "facility")
    )
    if unit is not None:
        beds = beds.filter(unit=unit)
        admissions = admissions.filter(unit=unit)
    admissions = list(
        admissions.prefetch_related(
            Prefetch("leaves", queryset=Leave.objects.open(), to_attr="open_leaves")
        )
    )
    by_bed = {a.bed_id: a for a in admissions}
    slots = registry.census_slots
    filled = [
        slot.fill(admissions, now, user=user) if slot.per_user else slot.fill(admissions, now)
        for slot in slots
    ]
    today = timezone.localtime(now, facility.tz).date()
    rows = []
    for bed in beds.order_by("unit__name", "label"):
        admission = by_bed.get(bed.pk)
        leave = admission.open_leaves[0] if admission and admission.open_leaves else None
        days = None
        cells = []
        if admission is not None:
            days = (today - timezone.localtime(admission.admitted_at, facility.tz).date()).days
            cells = [
                (slot, cells_for.get(admission.pk))
                for slot, cells_for in zip(slots, filled, strict=True)
            ]
        rows.append(CensusRow(bed=bed, admission=admission, leave=leave, days=days, slots=cells))
    return rows, slots


@policy.requires("census.view")
@require_GET
def census(request):
    """The census board: every bed of the facility or one unit, who is in it, and for how long."""
    facility = current_facility_or_404(request)
    units = list(Unit.objects.filter(facility=facility).order_by("name"))
    unit = None
    if request.GET.get("unit"):
        unit = next((u for u in units if str(u.public_id) == request.GET["unit"]), None)
        if unit is None:
            raise Http404("No such unit.")
    rows, slots = census_rows(facility, unit, user=request.user)
    occupied = sum(1 for r in rows if r.admission)
    context = {
        "facility": facility,
        "units": units,
        "unit": unit,
        "rows": rows,
        "slots": slots,
        "occupied": occupied,
        "off_site": sum(1 for r in rows if r.leave),
        "can_admit": policy.allows(request.user, "clients.admit"),
    }
    template = "clients/census.html#census-table" if request.htmx else "clients/census.html"
    return render(request, template, context)


@policy.requires("census.view")
@require_GET
def census_pdf(request):
    facility = current_facility_or_404(request)
    unit = None
    if request.GET.get("unit"):
        unit = _unit_param(facility, request.GET["unit"])
    rows, slots = census_rows(facility, unit, user=request.user)
    now = timezone.localtime(timezone.now(), facility.tz)
    return pdf_response(
        request,
        template="clients/pdf/census.html",
        context={"rows": rows, "slots": slots},
        facility=facility,
        title="Census",
        unit=unit.name if unit else "All units",
        period=f"{now:%Y-%m-%d %H:%M %Z}",
        filename=f"census-{now:%Y%m%d-%H%M}.pdf",
    )


@chart_requires("census.view")
@require_GET
def client_chart(request, public_id):
    """The chart: the identity band, then each app's section. Every view is logged; a view
    through break-the-glass (clients/glass.py) says so in the log."""
    client = client_for(request, public_id, log_glass=False)  # logged below, as the chart
    glass_view = via_glass(request.user, client)
    # The open stay if there is one, else the most recent.
    admission = (
        client.admissions.select_related("unit", "bed", "facility")
        .order_by(F("discharged_at").desc(nulls_first=True), "-admitted_at")
        .first()
    )
    sections = []
    for section in registry.chart_sections:
        if section_shown(request.user, section.capability, glass_view=glass_view):
            context = section.render(request, client, admission)
            if context is None:  # not for this reader (counseling notes: not even the entry)
                continue
            sections.append({"section": section, "context": context})
    access_log(
        action=AccessAction.VIEW,
        actor=request.user,
        facility=client.facility,
        client=client,
        what=VIA_GLASS if glass_view else "client chart",
        ip=client_ip(request),
    )
    today = timezone.localtime(timezone.now(), client.facility.tz).date()
    return render(
        request,
        "clients/chart.html",
        {
            "client": client,
            "admission": admission,
            "age": client.age_on(today),
            "sections": sections,
            # Emergency access reads; it never writes (the services refuse it too): the section
            # templates hide their actions under this flag.
            "emergency_read_only": glass_view,
            "can_edit_allergies": not glass_view
            and policy.allows(request.user, services.ALLERGY_CAPABILITY),
            # Issue 14: "no outings", at the top of the chart while in force.
            "outing_restriction": (
                services.outing_restriction_in_force(admission)
                if admission is not None and admission.is_open
                else None
            ),
        },
    )


@policy.requires(services.ALLERGY_CAPABILITY)
@require_http_methods(["GET", "POST"])
def allergies(request, public_id):
    """The client's allergy list: add one, strike one entered in error, or record NKDA."""
    client = client_for(request, public_id)
    form = AllergyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            allergy = services.allergy_add(actor=request.user, client=client, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Added {allergy.label} to the allergy list.")
            known, text = reading(allergy.allergen)
            if allergy.kind == AllergenKind.DRUG and not known:
                messages.warning(request, text)  # saved all the same: names the table lacks exist
            return redirect("clients:allergies", public_id=client.public_id)
    return _allergies_page(request, client, form)


def _allergies_page(request, client, form):
    rows = list(Allergy.objects.filter(client=client).select_related("recorded_by", "removed_by"))
    for row in rows:  # what the order check makes of each drug allergy
        drug = row.kind == AllergenKind.DRUG
        row.known, row.reading = reading(row.allergen) if drug else (True, "")
    return render(
        request,
        "clients/allergies.html",
        {
            "client": client,
            "form": form,
            "live": [a for a in rows if a.removed_at is None],
            "removed": [a for a in rows if a.removed_at is not None],
        },
    )


@policy.requires(services.ALLERGY_CAPABILITY)
@require_POST
def allergy_remove(request, public_id):
    allergy = get_object_or_404(
        Allergy.objects.select_related("client"),
        public_id=public_id,
        client__in=Client.objects.visible_to(request.user),
    )
    form = AllergyRemoveForm(request.POST)
    if form.is_valid():
        try:
            services.allergy_remove(actor=request.user, allergy=allergy, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(request, exc)
        else:
            messages.success(request, f"{allergy.allergen}: struck as entered in error.")
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect("clients:allergies", public_id=allergy.client.public_id)


@policy.requires(services.ALLERGY_CAPABILITY)
@require_POST
def allergies_nkda(request, public_id):
    client = client_for(request, public_id)
    try:
        services.allergies_mark_nkda(actor=request.user, client=client)
    except ValidationError as exc:
        add_service_errors(request, exc)
    else:
        messages.success(request, "Recorded: no known drug allergies.")
    return redirect("clients:allergies", public_id=client.public_id)


@policy.requires("clients.admit")
@require_http_methods(["GET", "POST"])
def admit(request):
    """Admit a new client, after ruling out that they are already known (name + date of birth)."""
    facility = current_facility_or_404(request)
    data = request.POST or None
    client_form = NewClientForm(data, request.FILES or None)
    allergy_form = AdmissionAllergiesForm(data)
    placement = PlacementForm(data, facility=facility)
    duplicates = []
    if request.method == "POST":
        client_ok = client_form.is_valid()
        placement_ok = placement.is_valid()
        allergies_ok = allergy_form.is_valid()
        if client_ok:
            duplicates = list(
                services.client_possible_duplicates(
                    facility=facility,
                    legal_first_name=client_form.cleaned_data["legal_first_name"],
                    legal_last_name=client_form.cleaned_data["legal_last_name"],
                    date_of_birth=client_form.cleaned_data["date_of_birth"],
                )
            )
            if duplicates and not client_form.cleaned_data["confirm_new_person"]:
                client_form.add_error(
                    "confirm_new_person",
                    "Possible match: readmit the known client below, or confirm this is a "
                    "different person.",
                )
                client_ok = False
        if client_ok and placement_ok and allergies_ok:
            fields = {
                k: v for k, v in client_form.cleaned_data.items() if k != "confirm_new_person"
            }
            fields["allergy_status"] = allergy_form.cleaned_data["allergy_status"]
            try:
                admission = services.admission_admit(
                    actor=request.user,
                    facility=facility,
                    unit=placement.cleaned_data["bed"].unit,
                    client_fields=fields,
                    allergies=allergy_form.cleaned_data["allergies"],
                    **placement.cleaned_data,
                )
            except ValidationError as exc:
                target = next(
                    (f for f in (placement, allergy_form) if _touches(exc, f)), client_form
                )
                add_service_errors(target, exc)
            else:
                messages.success(
                    request,
                    f"Admitted {admission.client.display_name} ({admission.client.mrn}) "
                    f"to {admission.bed.label}.",
                )
                return redirect("clients:chart", public_id=admission.client.public_id)
    return render(
        request,
        "clients/admit.html",
        {
            "facility": facility,
            "client_form": client_form,
            "allergy_form": allergy_form,
            "placement": placement,
            "duplicates": duplicates,
            # Already in a bed: their chart, not "Readmit".
            "admitted_ids": set(
                Admission.objects.current()
                .filter(client__in=[d.pk for d in duplicates])
                .values_list("client_id", flat=True)
            ),
        },
    )


def _touches(exc: ValidationError, form) -> bool:
    return hasattr(exc, "error_dict") and any(f in form.fields for f in exc.error_dict)


@policy.requires("clients.admit")
@require_http_methods(["GET", "POST"])
def readmit(request, public_id):
    """Admit a known client again, under the MRN they already have. Not while they are in a
    bed; and a client whose drug allergies were never recorded (stays before issue 9) gets the
    admission's allergy answer first."""
    client = client_for(request, public_id)
    current = Admission.objects.current().filter(client=client).select_related("bed").first()
    if current is not None:
        messages.error(
            request,
            f"{client.display_name} is already admitted ({current.bed.label}): nothing to readmit.",
        )
        return redirect("clients:chart", public_id=client.public_id)
    facility = client.facility
    data = request.POST or None
    placement = PlacementForm(data, facility=facility)
    unanswered = client.allergy_status == AllergyStatus.NOT_RECORDED
    allergy_form = AdmissionAllergiesForm(data) if unanswered else None
    if request.method == "POST" and all(
        [placement.is_valid(), allergy_form is None or allergy_form.is_valid()]
    ):
        try:
            with transaction.atomic():
                admission = services.admission_admit(
                    actor=request.user,
                    facility=facility,
                    unit=placement.cleaned_data["bed"].unit,
                    client=client,
                    **placement.cleaned_data,
                )
                if allergy_form is not None:
                    _record_admission_allergies(request.user, client, allergy_form.cleaned_data)
        except ValidationError as exc:
            target = allergy_form if allergy_form and _touches(exc, allergy_form) else placement
            add_service_errors(target, exc)
        else:
            messages.success(request, f"Readmitted {client.display_name} to {admission.bed.label}.")
            return redirect("clients:chart", public_id=client.public_id)
    return render(
        request,
        "clients/readmit.html",
        {"client": client, "placement": placement, "allergy_form": allergy_form},
    )


def _record_admission_allergies(actor, client: Client, data: dict) -> None:
    """The admission's allergy answer for a known client: NKDA, or the allergies listed."""
    if data["allergy_status"] == AllergyStatus.NKDA:
        services.allergies_mark_nkda(actor=actor, client=client)
    for row in data["allergies"]:
        services.allergy_add(actor=actor, client=client, **row)


def _admission_form_view(request, public_id, *, form_class, service, template, success, **extra):
    """Shared shape of the one-admission forms: load in scope, bind, call the service."""
    admission = admission_for(request, public_id)
    kwargs = {"facility": admission.facility} if form_class is MoveBedForm else {}
    form = form_class(request.POST or None, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            service(actor=request.user, admission=admission, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, success.format(client=admission.client.display_name))
            return redirect("clients:chart", public_id=admission.client.public_id)
    return render(
        request,
        template,
        {"admission": admission, "client": admission.client, "form": form, **extra},
    )


@policy.requires("clients.admit")
@require_http_methods(["GET", "POST"])
def move_bed(request, public_id):
    return _admission_form_view(
        request,
        public_id,
        form_class=MoveBedForm,
        service=services.admission_move_bed,
        template="clients/move_bed.html",
        success="Moved {client}.",
    )


@policy.requires("clients.admit")
@require_http_methods(["GET", "POST"])
def discharge(request, public_id):
    """Close the stay; what other apps must settle (the MAR's orders, the client's own
    controlled stock) is asked on the same form and done in the same transaction."""
    admission = admission_for(request, public_id)
    if request.method == "GET" and not admission.is_open:
        # The confirmation: what the apps offer once the stay is closed (the med list to print).
        steps = registry.discharge_steps
        links = [link for step in steps for link in step.links(request, admission)]
        return render(
            request,
            "clients/discharge_done.html",
            {"admission": admission, "client": admission.client, "links": links},
        )
    form = DischargeForm(request.POST or None, admission=admission)
    if request.method == "POST" and form.is_valid():
        try:
            services.admission_discharge(
                actor=request.user, admission=admission,
                discharged_at=form.cleaned_data["discharged_at"],
                discharge_type=form.cleaned_data["discharge_type"],
                note=form.cleaned_data["note"], steps=form.step_answers(request, admission),
            )  # fmt: skip
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            name = admission.client.display_name
            messages.success(request, f"Discharged {name}; the bed is free.")
            return redirect("clients:discharge", public_id=admission.public_id)
    return render(
        request,
        "clients/discharge.html",
        {"admission": admission, "client": admission.client, "form": form},
    )


@policy.requires("floor.chart")
@require_http_methods(["GET", "POST"])
def leave_start(request, public_id):
    return _admission_form_view(
        request,
        public_id,
        form_class=LeaveForm,
        service=services.leave_start,
        template="clients/leave.html",
        success="Leave recorded: {client} is off site.",
    )


@policy.requires("floor.chart")
@require_http_methods(["GET", "POST"])
def leave_return(request, public_id):
    visible = Client.objects.visible_to(request.user)
    leave = get_object_or_404(
        Leave.objects.select_related("admission__client"),
        public_id=public_id,
        admission__client__in=visible,
    )
    client = leave.admission.client
    form = ReturnForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.leave_return(actor=request.user, leave=leave, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{client.display_name} is back on site.")
            return redirect("clients:chart", public_id=client.public_id)
    return render(
        request, "clients/leave_return.html", {"leave": leave, "client": client, "form": form}
    )


@policy.requires("floor.chart")
@require_POST
def orientation_tick(request, public_id, item_id):
    admission = admission_for(request, public_id)
    item = get_object_or_404(OrientationItem, pk=item_id, facility=admission.facility)
    try:
        services.orientation_tick(actor=request.user, admission=admission, item=item)
    except ValidationError as exc:
        add_service_errors(request, exc)
    return redirect("clients:chart", public_id=admission.client.public_id)


@policy.requires("census.view")
@require_GET
def client_photo(request, public_id):
    """A client's photo, served only to staff who may see the client (never as a public file)."""
    client = client_for(request, public_id)
    if not client.photo:
        raise Http404("No photo.")
    try:
        handle = client.photo.open("rb")
    except FileNotFoundError as exc:
        raise Http404("No photo.") from exc
    suffix = Path(client.photo.name).suffix.lower()
    response = FileResponse(handle, content_type=PHOTO_TYPES.get(suffix, "image/jpeg"))
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _restriction_page(request, public_id, *, form_class, service, lifting: bool):
    """Set or lift "no outings" (issue 14 item 3); the chart has the same forms inline."""
    admission = admission_for(request, public_id)
    current = services.outing_restriction_in_force(admission)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service(
                actor=request.user,
                admission=admission,
                reason=next(iter(form.cleaned_data.values())),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            name = admission.client.display_name
            messages.success(
                request,
                f"Outing restriction lifted for {name}."
                if lifting
                else f"{name}: no outings until a nurse or clinician lifts it.",
            )
            return redirect("clients:chart", public_id=admission.client.public_id)
    history = OutingRestriction.objects.filter(admission=admission).select_related(
        "set_by", "lifted_by"
    )
    return render(
        request,
        "clients/outing_restriction.html",
        {
            "admission": admission,
            "client": admission.client,
            "form": form,
            "current": current,
            "lifting": lifting,
            "history": [r for r in history if r.lifted_at is not None],
        },
        status=400 if form.errors else 200,
    )


@policy.requires(services.OUTING_RESTRICTION_CAPABILITY)
@require_http_methods(["GET", "POST"])
def outing_restriction_set(request, public_id):
    return _restriction_page(
        request,
        public_id,
        form_class=OutingRestrictionForm,
        service=services.outing_restriction_set,
        lifting=False,
    )


@policy.requires(services.OUTING_RESTRICTION_CAPABILITY)
@require_http_methods(["GET", "POST"])
def outing_restriction_lift(request, public_id):
    return _restriction_page(
        request,
        public_id,
        form_class=OutingRestrictionLiftForm,
        service=services.outing_restriction_lift,
        lifting=True,
    )
