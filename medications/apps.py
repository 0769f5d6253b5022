from django.apps import AppConfig


class MedicationsConfig(AppConfig):
    name = "medications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from facility.registry import register_workflow_alert

        # A variance closes only with a sign-off by someone who counted neither count (issue 9:
        # a supervisor who counted could otherwise tap Resolve on their own variance).
        register_workflow_alert("count_variance", "a discrepancy sign-off on the controlled page")
        # A significant loss's incident closes when its DEA Form 106 filing is recorded.
        register_workflow_alert(
            "incident_required", "recording the DEA Form 106 filing on the controlled page"
        )
