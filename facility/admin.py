"""The Django admin, for admins only: facilities, units, beds (and code lists from other apps).

Admins sign in through the normal login (with MFA); there is no separate admin login and no
delete anywhere — retire a bed by marking it inactive.
"""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from facility import policy
from facility.forms import FacilitySetupForm, HavenModelForm
from facility.models import Bed, Facility, Unit
from facility.services import facility_seed_defaults


class HavenAdminSite(admin.AdminSite):
    site_header = "Haven administration"
    site_title = "Haven administration"
    index_title = "Facilities, units, beds and code lists"

    def has_permission(self, request):
        return policy.allows(request.user, "code_lists.manage")

    def login(self, request, extra_context=None):
        # A signed-in person without the capability would bounce between this page and the
        # sign-in page (which sends the signed-in back to `next`): a redirect loop. Refuse.
        if request.user.is_authenticated:
            raise PermissionDenied("Setup is for administrators.")
        return redirect_to_login(request.get_full_path())


admin_site = HavenAdminSite(name="admin")


class NoDeleteAdmin(admin.ModelAdmin):
    """No deletes, and an admin sees and picks only the facilities they are assigned to.

    `facility_path` is the lookup from the model to its Facility ("" for Facility itself).
    """

    facility_path = "facility"
    # The same input checks as every other form: no NUL or bidi characters in names that print
    # on the MAR and the observation sheet, lengths, plausible dates (issue 7).
    form = HavenModelForm

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        lookup = f"{self.facility_path}__in" if self.facility_path else "pk__in"
        return super().get_queryset(request).filter(**{lookup: request.user.facility_ids()})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        ids = request.user.facility_ids()
        if db_field.related_model is Facility:
            kwargs["queryset"] = Facility.objects.filter(pk__in=ids)
        elif db_field.related_model is Unit:
            kwargs["queryset"] = Unit.objects.filter(facility__in=ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class UnitInline(admin.TabularInline):
    model = Unit
    form = HavenModelForm
    extra = 0
    can_delete = False


class BedInline(admin.TabularInline):
    model = Bed
    form = HavenModelForm
    extra = 0
    can_delete = False


@admin.register(Facility, site=admin_site)
class FacilityAdmin(NoDeleteAdmin):
    facility_path = ""
    list_display = ["name", "time_zone", "shift_pattern"]
    # The technician scope on the MAR (issue 9): facility policy, read by facility/policy.py.
    form = FacilitySetupForm
    fields = [
        "name", "time_zone", "address", "shift_pattern",
        "tech_observed_routes", "tech_observed_controlled", "tech_prn_effect",
        "ciwa_profile",
    ]  # fmt: skip

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            # Pages only read round codes and security areas: they exist from the start.
            facility_seed_defaults(facility=obj)
            # The admin who opens a facility administers it (and so can still see it).
            request.user.facilities.add(obj)

    inlines = [UnitInline]


@admin.register(Unit, site=admin_site)
class UnitAdmin(NoDeleteAdmin):
    list_display = ["name", "facility"]
    list_filter = ["facility"]
    inlines = [BedInline]


@admin.register(Bed, site=admin_site)
class BedAdmin(NoDeleteAdmin):
    facility_path = "unit__facility"
    list_display = ["label", "unit", "active"]
    list_filter = ["unit__facility", "unit", "active"]
