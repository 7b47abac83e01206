from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("商城数据")

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the OpenAPI auth extensions)
        from .request_ids import connect_after_django_guid

        connect_after_django_guid()  # django_guid comes before portal in INSTALLED_APPS
