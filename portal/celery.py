"""The project's Celery app; settings come from Django settings with the CELERY_ prefix."""

import os

from celery import Celery

from . import request_ids

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
request_ids.connect()  # before django-guid's own task hooks, which connect when Django's apps are ready
