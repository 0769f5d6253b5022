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
        # Groups come from the facility's curriculum, hours against its targets (issue 12).
        from observations.services.groups import groups_seed_defaults

        register_facility_defaults("group_curriculum", groups_seed_defaults)
        # A leave cannot start before the client's last check (issue 10 item 3).
        leaves.register()
        # Drafts of incident reports open from rounds, naloxone doses and count losses, and
        # their alerts close only when answered (issue 12 item 4).
        from observations.services import incidents

        incidents.register()
        # The MAR reads the latest vitals through the registry (issue 11 item 7).
        from observations import readings

        readings.register()
        # SUD counseling notes (issue 16 item 8): their record category, under their own consent
        # only, and the chart's entry for their author and grantees.
        from observations import counseling

        counseling.register()
