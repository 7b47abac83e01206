"""Shared by the importer's modules: the sections in dependency order, limits, and the document fault."""

from __future__ import annotations

import re
from decimal import Decimal

SECTIONS = ("shops", "users", "products", "orders")
CENT = Decimal("0.01")
MAX_MONEY = Decimal("1e10")
CHUNK = 1000
USERNAME_RE = re.compile(r"^[\w.@+-]{1,150}$")
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]{1,64}$")
STAFF_GROUPS = ("agents", "supervisors")


class ImportError_(Exception):  # noqa: N801 - the API and the command already use this name
    """A document fault: `path` names the offending value, `detail` says what is wrong with it."""

    def __init__(self, path: str, detail: str) -> None:
        self.path, self.detail = path, detail
        super().__init__(f"{path}: {detail}" if path else detail)


class ImportForbidden(ImportError_):  # noqa: N818 - a refusal like its parent, answered 403 by the API
    """The document asks for something its importer may not do (api.md: through the API an import never
    creates, changes or promotes a staff or superuser account). Nothing of the document is written."""
