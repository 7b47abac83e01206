"""Staff see the assistant's log (to improve the knowledge base) and the service inbox, read-only here;
replies go through the thread page (`/service/<id>/`), where the service writes them."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cases.admin.base import ReadOnlyAdmin

from .models import Exchange, Thread


@admin.register(Exchange)
class ExchangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "question", "suggested_kind", "suggested_reason", "confidence",
                    "handoff", "elapsed_ms"]
    list_filter = ["handoff", "suggested_reason", "language"]
    search_fields = ["question", "answer"]
    date_hierarchy = "created_at"


@admin.register(Thread)
class ThreadAdmin(ReadOnlyAdmin):
    list_display = ["id", "consumer", "to", "shop", "order_item", "updated_at", "answered_at", "open_link"]
    list_filter = ["to", "answered_at"]
    list_select_related = ["consumer", "shop"]

    @admin.display(description=_("会话"))
    def open_link(self, obj: Thread) -> str:
        return format_html('<a href="{}">{}</a>', reverse("assistant:thread", args=[obj.pk]), _("打开并回复"))
