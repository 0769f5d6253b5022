"""The Celery app. Periodic scans are listed in settings.CELERY_BEAT_SCHEDULE."""

import os

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "facility.settings")

app = Celery("haven")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _fresh_content_types(**kwargs):
    # Content type ids can change under a long-lived worker (a test database flush renumbers
    # them); auditlog looks them up through this cache.
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
