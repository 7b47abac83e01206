from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("售后")

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (the tasks register their names; the domain queues them through cases.effects)
        from .choices import State
        from .hooks import on_entering
        from .shop_notices import shop_notices_for_cases

        # a `not_shipped` refund tells the shop's system not to ship (docs/shop-notices.md)
        on_entering(State.REFUNDED, shop_notices_for_cases)
