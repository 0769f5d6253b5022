from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from clients.services import leave_refused_while_restricted
        from facility.registry import register_leave_rule

        # Issue 14: no pass or outing while a "no outings" restriction is in force.
        register_leave_rule("outing_restriction", leave_refused_while_restricted)
