"""The catalog in the Django admin: medications with their ingredients (what the allergy check
and the daily caps read) and each facility's ingredients with their 24-hour caps. No deletes:
a medication is retired by unticking "active"."""

from django.contrib import admin

from facility.admin import NoDeleteAdmin, admin_site
from facility.forms import HavenModelForm
from medications.models import Ingredient, Medication, MedicationIngredient


class MedicationIngredientInline(admin.TabularInline):
    model = MedicationIngredient
    form = HavenModelForm
    extra = 1
    can_delete = False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "ingredient":
            kwargs["queryset"] = Ingredient.objects.filter(facility__in=request.user.facility_ids())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class MedicationAdmin(NoDeleteAdmin):
    list_display = ["name", "strength", "form", "facility", "controlled_schedule", "active"]
    list_filter = ["facility", "active", "controlled_schedule"]
    search_fields = ["name"]
    inlines = [MedicationIngredientInline]


class IngredientAdmin(NoDeleteAdmin):
    list_display = ["name", "facility", "max_mg_per_24h"]
    list_filter = ["facility"]
    search_fields = ["name"]


admin_site.register(Medication, MedicationAdmin)
admin_site.register(Ingredient, IngredientAdmin)
