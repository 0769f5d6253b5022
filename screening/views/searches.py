"""Belongings searches (issue 13 item 7): the search form with its items, the search with each
item's history, moving an item (with who and when), the nurse's list of medications brought in,
and the return-from-pass flow that orders the UDS and opens the search in one step."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from clients.access import admission_for, admissions_visible_to
from clients.models import Leave
from facility import policy
from facility.access import current_facility_or_404
from facility.forms import add_service_errors
from screening.models import (
    HELD,
    BelongingsSearch,
    Disposition,
    ItemCategory,
    ItemMovement,
    SearchItem,
    SearchReason,
    Specimen,
    SpecimenReason,
)
from screening.result_forms import ItemMoveForm, SearchContextForm, SearchForm
from screening.services import searches as services
from screening.services.specimens import specimen_order
from screening.views.results import optional_url


@policy.requires("screening.search")
@require_http_methods(["GET", "POST"])
def search_record(request, public_id):
    """A search of the client's belongings; `?reason=return_from_pass&leave=<id>` comes from the
    return-from-pass flow."""
    admission = admission_for(request, public_id)
    facility = admission.facility
    now = timezone.now()
    leaves = list(services.returned_leaves(admission)[:10])
    data = request.POST if request.method == "POST" else None
    context = SearchContextForm(request.GET)
    initial = {}
    if context.is_valid():
        initial = {k: v for k, v in context.cleaned_data.items() if v}
    form = SearchForm(data, facility=facility, actor=request.user, leaves=leaves, initial=initial)
    if data is not None and not data.get("more") and form.is_valid():
        d = form.cleaned_data
        leave = next((x for x in leaves if x.public_id == d["leave"]), None)
        try:
            if d["leave"] and leave is None and d["reason"] == SearchReason.RETURN_FROM_PASS:
                raise ValidationError({"leave": "Pass: choose a leave of this stay."})
            search = services.search_record(
                actor=request.user,
                admission=admission,
                reason=d["reason"],
                reason_detail=d["reason_detail"],
                leave=leave,
                searched_at=d["searched_at"] or now,
                witness=d["witness"],
                client_present=d["client_present"],
                items=form.items(),
                remarks=d["remarks"],
                now=now,
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Search recorded.")
            return redirect("screening:search_detail", public_id=search.public_id)
    return render(
        request,
        "screening/search_form.html",
        {"admission": admission, "client": admission.client, "form": form},
        status=400 if form.errors else 200,
    )


def search_for(request, public_id) -> BelongingsSearch:
    search = get_object_or_404(
        BelongingsSearch.objects.select_related(
            "admission__client", "admission__facility", "searched_by", "witness", "leave"
        ),
        public_id=public_id,
        admission__in=admissions_visible_to(request.user),
    )
    timezone.activate(search.admission.facility.tz)
    return search


@policy.requires("screening.view")
@require_GET
def search_detail(request, public_id):
    search = search_for(request, public_id)
    items = list(
        search.items.select_related("disposed_by", "witness").prefetch_related(
            Prefetch(
                "movements",
                queryset=ItemMovement.objects.select_related("by", "witness").order_by("at", "pk"),
            )
        )
    )
    return render(
        request,
        "screening/search_detail.html",
        {
            "search": search,
            "admission": search.admission,
            "client": search.admission.client,
            "items": items,
            "final": services.FINAL,
            "can_move": policy.allows(request.user, "screening.search"),
        },
    )


@policy.requires("screening.search")
@require_http_methods(["GET", "POST"])
def item_move(request, public_id):
    """Move one item: to storage, to family, destroyed (witness), back to the client (signs)."""
    item = get_object_or_404(
        SearchItem.objects.select_related(
            "search__admission__client", "search__admission__facility", "disposed_by"
        ),
        public_id=public_id,
        search__admission__in=admissions_visible_to(request.user),
    )
    admission = item.search.admission
    timezone.activate(admission.facility.tz)
    form = ItemMoveForm(request.POST or None, facility=admission.facility, actor=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.item_move(
                actor=request.user,
                item=item,
                disposition=d["disposition"],
                location=d["location"],
                bag_id=d["bag_id"],
                witness=d["witness"],
                client_signature=d["client_signature"],
                at=d["at"],
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{item.description}: {Disposition(d['disposition']).label}.")
            return redirect("screening:search_detail", public_id=item.search.public_id)
    return render(
        request,
        "screening/search_item_move.html",
        {
            "item": item,
            "admission": admission,
            "client": admission.client,
            "form": form,
            "final": item.disposition in services.FINAL,
        },
        status=400 if form.errors else 200,
    )


@policy.requires("screening.view")
@require_GET
def meds_brought_in(request):
    """The nurse's list: medications found in searches and still with the nurse, to log for the
    MAR (and then store, return or destroy)."""
    facility = current_facility_or_404(request)
    timezone.activate(facility.tz)
    items = list(
        SearchItem.objects.filter(
            search__admission__facility=facility,
            search__admission__discharged_at__isnull=True,
            category=ItemCategory.MEDICATION,
            disposition__in=HELD,
        )
        .select_related("search__admission__client", "search__admission__bed", "disposed_by")
        .order_by("search__searched_at", "pk")
    )
    return render(
        request,
        "screening/search_meds.html",
        {
            "items": items,
            "facility": facility,
            "can_move": policy.allows(request.user, "screening.search"),
        },
    )


def leave_for(request, public_id) -> Leave:
    leave = get_object_or_404(
        Leave.objects.select_related("admission__client", "admission__facility"),
        public_id=public_id,
        admission__in=admissions_visible_to(request.user),
    )
    timezone.activate(leave.admission.facility.tz)
    return leave


@policy.requires("screening.search")
@require_http_methods(["GET", "POST"])
def pass_return(request, public_id):
    """Return from a pass: "UDS + search" in one flow. The POST orders the return-from-pass
    specimen (unless one is ordered for this leave already) and opens the search form."""
    leave = leave_for(request, public_id)
    admission = leave.admission
    specimen = Specimen.objects.filter(
        admission=admission, leave=leave, reason=SpecimenReason.RETURN_FROM_PASS
    ).first()
    searched = BelongingsSearch.objects.filter(admission=admission, leave=leave).first()
    search_url = (
        reverse("screening:search_record", args=[admission.public_id])
        + f"?reason={SearchReason.RETURN_FROM_PASS}&leave={leave.public_id}"
    )
    if request.method == "POST":
        if not admission.is_open or leave.returned_at is None:
            messages.error(request, "Record the client's return first (or the stay has ended).")
            return redirect("screening:pass_return", public_id=leave.public_id)
        if specimen is None:
            try:
                specimen = specimen_order(
                    actor=request.user, admission=admission,
                    reason=SpecimenReason.RETURN_FROM_PASS, leave=leave,
                )  # fmt: skip
            except (ValidationError, PermissionDenied) as exc:
                add_service_errors(request, exc)
                return redirect("screening:pass_return", public_id=leave.public_id)
            messages.success(
                request, f"Return-from-pass UDS ordered: specimen {specimen.specimen_id}."
            )
        return redirect(search_url)
    return render(
        request,
        "screening/search_pass_return.html",
        {
            "leave": leave,
            "admission": admission,
            "client": admission.client,
            "specimen": specimen,
            "specimen_url": optional_url("screening:specimen", specimen.public_id)
            if specimen
            else "",
            "searched": searched,
            "search_url": search_url,
        },
    )
