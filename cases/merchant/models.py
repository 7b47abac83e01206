"""Merchant desk models: what a shop's service team keeps for itself (templates, reasons, exports)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReplyTemplate(models.Model):
    """A canned reply a shop's team inserts into a case conversation (快捷回复)."""

    shop = models.ForeignKey("portal.Shop", on_delete=models.CASCADE, related_name="reply_templates")
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"), max_length=2000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shop_id", "title", "id"]
        constraints = [models.UniqueConstraint(fields=["shop", "title"], name="reply_template_unique_title")]

    def __str__(self) -> str:
        return self.title


class RejectReason(models.Model):
    """A shop's own entry in the list of reasons for refusing a request or a returned parcel.

    Every shop also has the built-in list (`forms.DEFAULT_REJECT_REASONS`); these rows add to it.
    """

    shop = models.ForeignKey("portal.Shop", on_delete=models.CASCADE, related_name="reject_reasons")
    code = models.SlugField(_("代码"), max_length=48)
    label = models.CharField(_("名称"), max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["shop_id", "label", "id"]
        constraints = [models.UniqueConstraint(fields=["shop", "code"], name="reject_reason_unique_code")]

    def __str__(self) -> str:
        return self.label


class ExportJob(models.Model):
    """A large queue export written by a Celery task; only members of every shop in it may download it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("导出中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    shops = models.ManyToManyField("portal.Shop", related_name="+")
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(default=0)
    written = models.PositiveIntegerField(default=0)
    file = models.CharField(max_length=255, blank=True, help_text=_("default storage 中的文件名"))
    error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"export {self.pk} {self.status}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, int(self.written * 100 / self.total))
