"""Service quality's rows: the consumer's rating of a case, the thresholds, the standing of shops and buyers,
and the log of every consequence applied or lifted (docs/quality.md)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# api.md, "Ratings, scorecards and the assistant": the fixed tag list (codes are the contract).
RATING_TAGS: dict[str, str] = {
    "fast_response": "响应快",
    "polite": "态度好",
    "fair_solution": "处理公平",
    "clear_explanation": "解释清楚",
    "slow_response": "处理拖延",
    "unhelpful": "没有帮助",
    "pushed_to_withdraw": "被劝撤销申请",
}


class CaseRating(models.Model):
    """售后服务评价: one per case, by its consumer, within 15 × 24 h of the case last becoming terminal."""

    case = models.OneToOneField("cases.AfterSalesCase", on_delete=models.PROTECT, related_name="rating")
    shop = models.ForeignKey("portal.Shop", on_delete=models.PROTECT, related_name="ratings")
    consumer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ratings")
    stars = models.PositiveSmallIntegerField()
    tags = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True)
    pickup_stars = models.PositiveSmallIntegerField(null=True, blank=True)
    comment_hidden = models.BooleanField(default=False)
    hidden_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    hidden_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("售后服务评价")
        verbose_name_plural = _("售后服务评价")
        indexes = [models.Index(fields=["shop", "created_at"], name="rating_shop_at")]
        constraints = [
            models.CheckConstraint(condition=Q(stars__gte=1, stars__lte=5), name="rating_stars_1_5"),
            models.CheckConstraint(condition=Q(pickup_stars__isnull=True) | Q(pickup_stars__gte=1, pickup_stars__lte=5),
                                   name="rating_pickup_stars_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} ★{self.stars}"


class QualitySetting(models.Model):
    """The thresholds consequences are held to (one row; supervisors edit it in the admin, every change logged)."""

    dispute_rate_threshold = models.DecimalField(
        _("纠纷率阈值"), max_digits=5, decimal_places=4, default=Decimal("0.0100"))
    first_response_hours_threshold = models.DecimalField(
        _("首次响应时长阈值（小时）"), max_digits=6, decimal_places=1, default=Decimal("24.0"))
    serial_returner_refund_rate = models.DecimalField(
        _("高频退款买家：退款率阈值"), max_digits=5, decimal_places=4, default=Decimal("0.5000"))
    trusted_refund_rate = models.DecimalField(
        _("信用买家：退款率上限"), max_digits=5, decimal_places=4, default=Decimal("0.1000"))
    courier_on_time_threshold = models.DecimalField(
        _("快递准时取件率阈值"), max_digits=5, decimal_places=4, default=Decimal("0.9000"))

    class Meta:
        verbose_name = _("服务质量阈值")
        verbose_name_plural = _("服务质量阈值")

    def __str__(self) -> str:
        return f"纠纷率 > {self.dispute_rate_threshold}"

    @classmethod
    def current(cls) -> QualitySetting:
        obj = cls.objects.order_by("pk").first()
        return obj if obj is not None else cls()


class ShopStanding(models.Model):
    """Which consequences a shop is under now (written only by the evaluation, which logs every change)."""

    shop = models.OneToOneField("portal.Shop", on_delete=models.CASCADE, related_name="quality_standing")
    over_dispute_threshold = models.BooleanField(default=False)
    over_dispute_since = models.DateTimeField(null=True, blank=True)
    response_warned = models.BooleanField(default=False)
    response_warned_since = models.DateTimeField(null=True, blank=True)
    figures = models.JSONField(default=dict, blank=True)  # the scorecard the last evaluation decided on
    evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("店铺服务状态")
        verbose_name_plural = _("店铺服务状态")

    def __str__(self) -> str:
        return str(self.shop_id)


class BuyerStanding(models.Model):
    """A consumer flagged to staff as a serial returner (高频退款), with the evidence; never blocks a request."""

    consumer = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                    related_name="buyer_standing")
    serial_returner = models.BooleanField(default=False)
    flagged_at = models.DateTimeField(null=True, blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("买家信用状态")
        verbose_name_plural = _("买家信用状态")

    def __str__(self) -> str:
        return str(self.consumer_id)


class QualityEvent(models.Model):
    """Append-only log: every consequence applied or lifted, every threshold change, with why."""

    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=40)
    shop = models.ForeignKey("portal.Shop", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    consumer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("服务质量记录")
        verbose_name_plural = _("服务质量记录")
        indexes = [models.Index(fields=["shop", "at"], name="quality_event_shop_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise PermissionError("Quality events are append-only.")
        super().save(*args, **kwargs)
