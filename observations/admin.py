"""Admins edit each facility's round codes, security areas, group curriculum and weekly
clinical-hours targets; a code or topic is retired (inactive), never deleted."""

from django import forms

from clients.models import LevelOfCare
from facility.admin import NoDeleteAdmin, admin_site
from facility.forms import HavenModelForm
from observations.models import ClinicalHoursTarget, GroupTopic, RoundCode, SecurityArea


class RoundCodeAdmin(NoDeleteAdmin):
    list_display = ["code", "label", "kind", "facility", "active", "position"]
    list_filter = ["facility", "kind", "active"]
    list_editable = ["active", "position"]


admin_site.register(RoundCode, RoundCodeAdmin)


class SecurityAreaAdmin(NoDeleteAdmin):
    list_display = ["name", "facility", "position", "active"]
    list_filter = ["facility", "active"]


admin_site.register(SecurityArea, SecurityAreaAdmin)


# Issue 12: the group curriculum and the weekly clinical-hours targets per level of care
# ("groups.curriculum"). A topic is retired (inactive), never deleted: sessions point to it.


class GroupTopicAdmin(NoDeleteAdmin):
    list_display = ["title", "group_type", "facility", "active"]
    list_filter = ["facility", "group_type", "active"]
    list_editable = ["active"]
    search_fields = ["title"]


class ClinicalHoursTargetForm(HavenModelForm):
    level_of_care = forms.ChoiceField(label="Level of care", choices=LevelOfCare.choices)

    class Meta:
        model = ClinicalHoursTarget
        fields = ["facility", "level_of_care", "hours_per_week"]
        labels = {"hours_per_week": "Clinical group hours per week"}


class ClinicalHoursTargetAdmin(NoDeleteAdmin):
    form = ClinicalHoursTargetForm
    list_display = ["level_of_care", "facility", "hours_per_week"]
    list_filter = ["facility"]
    list_editable = ["hours_per_week"]


admin_site.register(GroupTopic, GroupTopicAdmin)
admin_site.register(ClinicalHoursTarget, ClinicalHoursTargetAdmin)
