from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "screening"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from facility.registry import register_facility_defaults
        from screening.defaults import devices_seed_defaults

        # The default cup with the spec's cutoffs: a new facility gets it when it is made.
        register_facility_defaults("screening_devices", devices_seed_defaults)
