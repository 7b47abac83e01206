from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MerchantDeskConfig(AppConfig):
    """The merchant dashboard's own models (reply templates, export jobs) live in this sub-app."""

    name = "cases.merchant"
    label = "merchant_desk"
    verbose_name = _("商家工作台")

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the task names cases.effects queues)
