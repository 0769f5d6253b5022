from django.apps import AppConfig


class ObservationsConfig(AppConfig):
    name = "observations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from facility.registry import register_facility_defaults
        from observations import leaves, services

        # Pages only read these: a new facility gets them when it is made (issue 8).
        register_facility_defaults("round_codes", services.codes_seed_defaults)
        register_facility_defaults("security_areas", services.security_areas_seed_defaults)
        # A leave cannot start before the client's last check (issue 10 item 3).
        leaves.register()
        # The MAR reads the latest vitals through the registry (issue 11 item 7).
        from observations import readings

        readings.register()
