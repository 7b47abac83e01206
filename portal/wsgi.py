import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")
application = get_wsgi_application()

from pickups.courier_secrets import refuse_weak_secrets_at_startup  # noqa: E402  (needs the apps loaded)

refuse_weak_secrets_at_startup()
