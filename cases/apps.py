from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("售后")

    def ready(self) -> None:
        # the tasks register their names here; the domain queues them through cases.effects, never by import
        from . import tasks  # noqa: F401
