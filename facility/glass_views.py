"""Break-the-glass pages (issue 16 item 5): open an emergency access, one's own accesses, and
the supervisors' review list with its sign-off. The rules are in facility/glass.py."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from facility import glass, policy
from facility.access import client_ip
from facility.forms import add_service_errors
from facility.glass_forms import GlassOpenForm, GlassReviewForm
from facility.models import BreakGlassAccess
from facility.registry import client_names


def _chart(public_id) -> str:
    return reverse("clients:chart", args=[public_id])


def _until(access: BreakGlassAccess) -> str:
    """On the client's facility clock, with its zone (the banner says the same)."""
    return glass.until_label(access)


@policy.requires("break_glass")
@require_http_methods(["GET", "POST"])
def glass_open(request):
    """Emergency access: the MRN of a client outside one's scope and a reason."""
    form = GlassOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            access, created = glass.glass_open(
                actor=request.user,
                mrn=form.cleaned_data["mrn"],
                facility=form.cleaned_data["facility"],
                reason=form.cleaned_data["reason"],
                ip=client_ip(request),
            )
        except glass.AlreadyVisible as known:
            messages.info(request, f"{glass.ALREADY_VISIBLE} Nothing was opened.")
            return redirect(_chart(known.client.public_id))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            glass.remember(request, access)
            if created:
                messages.warning(
                    request,
                    f"Emergency access to {access.client_label} is open until {_until(access)}. "
                    "Your supervisors have been told; every view is logged.",
                )
            else:
                messages.info(
                    request,
                    f"Your emergency access to {access.client_label} is already open until "
                    f"{_until(access)}; it was not extended.",
                )
            return redirect(_chart(access.client_public_id))
    return render(
        request,
        "facility/glass_open.html",
        {"form": form, "minutes": glass.minutes()},
        status=400 if form.errors else 200,
    )


@policy.requires("break_glass")
@require_GET
def glass_mine(request):
    """One's own emergency accesses, the running ones first."""
    now = timezone.now()
    accesses = list(
        BreakGlassAccess.objects.filter(user=request.user)
        .select_related("facility", "reviewed_by")
        .order_by("-opened_at", "-id")[:100]
    )
    running = [a for a in accesses if a.expires_at > now]
    past = [a for a in accesses if a.expires_at <= now]
    return render(
        request,
        "facility/glass_mine.html",
        {
            "running": running,
            "past": past,
            "can_review": policy.allows(request.user, "break_glass.review"),
        },
    )


def _ids(access: BreakGlassAccess) -> str:
    """Each access's sign-off form on the list has its own field ids."""
    return f"glass-{access.public_id}-%s"


def _review_page(request, *, failed=None, failed_form=None, status=200):
    accesses = list(glass.reviewable(request.user))
    viewed = glass.pages_viewed(accesses)
    names = client_names(a.client_public_id for a in accesses)
    now = timezone.now()
    rows = []
    for access in accesses:
        if failed is not None and failed.pk == access.pk:
            form = failed_form
        else:
            form = GlassReviewForm(auto_id=_ids(access))
        rows.append(
            {
                "access": access,
                "running": access.expires_at > now,
                "pages": viewed[access.pk],
                "client_name": names.get(access.client_public_id, ""),
                "form": form,
            }
        )
    return render(request, "facility/glass_review.html", {"rows": rows}, status=status)


@policy.requires("break_glass.review")
@require_GET
def glass_review(request):
    """Accesses at the supervisor's facilities waiting for sign-off, with what was opened."""
    return _review_page(request)


@policy.requires("break_glass.review")
@require_POST
def glass_sign_off(request, public_id):
    access = get_object_or_404(
        BreakGlassAccess.objects.select_related("user", "facility"),
        public_id=public_id,
        facility_id__in=request.user.facility_ids(),
    )
    form = GlassReviewForm(request.POST, auto_id=_ids(access))
    if form.is_valid():
        try:
            glass.glass_review(
                actor=request.user,
                access=access,
                note=form.cleaned_data["note"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            access.refresh_from_db(fields=["reviewed_at"])
            if access.reviewed_at is not None:
                add_service_errors(request, exc)
                return redirect("glass_review")
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Signed off {access.user}'s emergency access to {access.client_label}."
            )
            return redirect("glass_review")
    return _review_page(request, failed=access, failed_form=form, status=400)
