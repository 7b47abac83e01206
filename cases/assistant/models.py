"""What the assistant keeps: every answer it gave (for the team to improve the base) and handoff threads."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Exchange(models.Model):
    """One question and the answer given, as sent (the log of issue 19 §5)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    order_item = models.ForeignKey("portal.OrderItem", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    question = models.TextField(_("问题"))
    language = models.CharField(max_length=8)
    answer = models.TextField(_("回答"))
    sources = models.JSONField(default=list, blank=True)
    suggested_kind = models.CharField(max_length=16, blank=True)
    suggested_reason = models.CharField(max_length=24, blank=True)
    confidence = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    handoff = models.BooleanField(default=False)
    elapsed_ms = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("智能客服问答")
        verbose_name_plural = _("智能客服问答")

    def __str__(self) -> str:
        return self.question[:40]


class Thread(models.Model):
    """A conversation handed from the assistant to people: a shop's service on an item, or the platform's."""

    class To(models.TextChoices):
        SHOP = "shop", _("店铺客服")
        PLATFORM = "platform", _("平台客服")

    consumer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    to = models.CharField(max_length=12, choices=To.choices)
    shop = models.ForeignKey("portal.Shop", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    order_item = models.ForeignKey("portal.OrderItem", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    transcript = models.JSONField(default=list, blank=True, help_text=_("转人工前与智能客服的对话"))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("人工客服会话")
        verbose_name_plural = _("人工客服会话")
        indexes = [models.Index(fields=["shop", "-updated_at"], name="assistant_thread_shop_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.to}"


class ThreadMessage(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    role = models.CharField(max_length=12)  # consumer, merchant, staff
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:40]
