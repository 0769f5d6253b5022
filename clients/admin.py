"""Admins configure each facility's orientation checklist here; items are retired, not deleted."""

from clients.models import OrientationItem
from facility.admin import NoDeleteAdmin, admin_site


class OrientationItemAdmin(NoDeleteAdmin):
    list_display = ["label", "facility", "position", "active"]
    list_filter = ["facility", "active"]
    ordering = ["facility", "position"]


admin_site.register(OrientationItem, OrientationItemAdmin)
