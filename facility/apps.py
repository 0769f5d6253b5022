from django.apps import AppConfig


class FacilityConfig(AppConfig):
    name = "facility"
    verbose_name = "Facility"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from facility import accounts, audit, audit_chain, audit_signals, registry  # noqa: F401

        registry.autodiscover()
