"""The Django admin, for admins only: facilities, units, beds (and code lists from other apps).

Admins sign in through the normal login (with MFA); there is no separate admin login and no
delete anywhere — retire a bed by marking it inactive.
"""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login

from facility.models import Bed, Facility, Unit


class HavenAdminSite(admin.AdminSite):
    site_header = "Haven administration"
    site_title = "Haven administration"
    index_title = "Facilities, units, beds and code lists"

    def has_permission(self, request):
        return request.user.is_active and request.user.has_perm("facility.manage_code_lists")

    def login(self, request, extra_context=None):
        return redirect_to_login(request.get_full_path())


admin_site = HavenAdminSite(name="admin")


class NoDeleteAdmin(admin.ModelAdmin):
    def has_delete_permission(self, request, obj=None):
        return False


class UnitInline(admin.TabularInline):
    model = Unit
    extra = 0
    can_delete = False


class BedInline(admin.TabularInline):
    model = Bed
    extra = 0
    can_delete = False


@admin.register(Facility, site=admin_site)
class FacilityAdmin(NoDeleteAdmin):
    list_display = ["name", "time_zone"]
    inlines = [UnitInline]


@admin.register(Unit, site=admin_site)
class UnitAdmin(NoDeleteAdmin):
    list_display = ["name", "facility"]
    list_filter = ["facility"]
    inlines = [BedInline]


@admin.register(Bed, site=admin_site)
class BedAdmin(NoDeleteAdmin):
    list_display = ["label", "unit", "active"]
    list_filter = ["unit__facility", "unit", "active"]
