"""The case services' domain error (a code, a sentence in the user's language, a field, a status)."""

from __future__ import annotations

from portal.errors import DomainError


class CaseError(DomainError):
    pass
