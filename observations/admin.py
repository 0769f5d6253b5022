"""Admins edit each facility's round codes; a code is retired (inactive), never deleted."""

from facility.admin import NoDeleteAdmin, admin_site
from observations.models import RoundCode


class RoundCodeAdmin(NoDeleteAdmin):
    list_display = ["code", "label", "kind", "facility", "active", "position"]
    list_filter = ["facility", "kind", "active"]
    list_editable = ["active", "position"]


admin_site.register(RoundCode, RoundCodeAdmin)
