from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from clients.services import leave_refused_while_restricted
        from facility.registry import register_leave_rule

        # Issue 14: no pass or outing while a "no outings" restriction is in force.
        register_leave_rule("outing_restriction", leave_refused_while_restricted)

        # Issue 16: break-the-glass finds a client by MRN in any facility; its alert closes
        # only with the supervisor's sign-off.
        from clients import glass

        glass.register()

        # Issue 16: the audit trail finds clients by name, MRN or date of birth and scopes
        # data-change rows to a facility and client through this hook (clients/finder.py).
        from clients.finder import FINDER
        from facility.registry import register_client_finder

        register_client_finder(FINDER)
