"""Admins edit each facility's round codes; a code is retired (inactive), never deleted."""

from facility.admin import NoDeleteAdmin, admin_site
from observations.models import RoundCode, SecurityArea


class RoundCodeAdmin(NoDeleteAdmin):
    list_display = ["code", "label", "kind", "facility", "active", "position"]
    list_filter = ["facility", "kind", "active"]
    list_editable = ["active", "position"]


admin_site.register(RoundCode, RoundCodeAdmin)


class SecurityAreaAdmin(NoDeleteAdmin):
    list_display = ["name", "facility", "position", "active"]
    list_filter = ["facility", "active"]


admin_site.register(SecurityArea, SecurityAreaAdmin)
