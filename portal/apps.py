from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Marketplace"

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the OpenAPI auth extensions)
        from .request_ids import connect_after_django_guid

        connect_after_django_guid()  # django_guid comes before portal in INSTALLED_APPS
