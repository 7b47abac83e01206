from typing import Any

from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    unread = 0
    if user is not None and user.is_authenticated:
        from cases.models import Notification

        unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    return {"unread_notifications": unread}
