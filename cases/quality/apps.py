from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    """Service quality (issue #18): ratings, the shop scorecard, consequences at thresholds, buyer trust."""

    name = "cases.quality"
    label = "quality"
    verbose_name = _("服务质量")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from ..models import CaseMessage
        from . import tasks  # noqa: F401  (registers the task names cases.effects queues)
        from .responses import merchant_message_saved

        post_save.connect(merchant_message_saved, sender=CaseMessage, dispatch_uid="quality-first-response")
