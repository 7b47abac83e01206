"""An email backend for the demo and development: one INFO log line per message, no MIME dump."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

log = logging.getLogger("portal.mail")


class LogSummaryEmailBackend(BaseEmailBackend):
    """Says who would get which subject; the body stays out of the log (it repeats the page)."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            log.info("email to %s: %s", ", ".join(message.recipients()), message.subject)
        return len(email_messages)
