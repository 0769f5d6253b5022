from django.apps import AppConfig


class ObservationsConfig(AppConfig):
    name = "observations"
    default_auto_field = "django.db.models.BigAutoField"
