from django.apps import AppConfig


class QualityConfig(AppConfig):
    """Service quality (issue #18): ratings, the shop scorecard, consequences at thresholds, buyer trust."""

    name = "cases.quality"
    label = "quality"
    verbose_name = "服务质量 Service quality"
