"""Photos kept between a refused submission and the corrected one, so the shopper need not pick them again.

Browsers cannot re-fill a file input, so checked photos are parked on disk under a random token that is
remembered in the shopper's session (never trusted from the form alone) and fed to the service on resubmit.
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.http import HttpRequest

from cases.evidence import CheckedFile

SESSION_KEY = "web_evidence_stash"
MAX_AGE_SECONDS = 24 * 3600


@dataclass
class StashedFile:
    key: str
    name: str
    content_type: str
    path: Path

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


def _root() -> Path:
    return Path(settings.MEDIA_ROOT) / "web-stash"


def _owned(request: HttpRequest, token: str, item_id: int) -> bool:
    owned = request.session.get(SESSION_KEY, {})
    entry = owned.get(token)
    return bool(entry) and entry.get("item") == item_id and entry.get("user") == request.user.pk


def stash_list(request: HttpRequest, token: str, item_id: int) -> list[StashedFile]:
    if not token or not token.isalnum() or not _owned(request, token, item_id):
        return []
    folder = _root() / token
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return []
    return [StashedFile(key=m["key"], name=m["name"], content_type=m["content_type"], path=folder / m["key"])
            for m in meta if (folder / m["key"]).is_file()]


def stash_save(request: HttpRequest, token: str, item_id: int, kept: list[StashedFile],
               new: list[CheckedFile]) -> str:
    """Park the kept and the newly checked photos; returns the (possibly new) token."""
    _prune()
    if not token or not _owned(request, token, item_id):
        token = secrets.token_hex(16)
    folder = _root() / token
    folder.mkdir(parents=True, exist_ok=True)
    meta = [{"key": s.key, "name": s.name, "content_type": s.content_type} for s in kept]
    keep_keys = {s.key for s in kept}
    for path in folder.iterdir():
        if path.name != "meta.json" and path.name not in keep_keys:
            path.unlink(missing_ok=True)
    for checked in new:
        key = secrets.token_hex(8)
        (folder / key).write_bytes(checked.data)
        meta.append({"key": key, "name": checked.name, "content_type": checked.content_type})
    (folder / "meta.json").write_text(json.dumps(meta))
    owned = dict(request.session.get(SESSION_KEY, {}))
    owned[token] = {"item": item_id, "user": request.user.pk}
    request.session[SESSION_KEY] = owned
    return token


def stash_files(stashed: list[StashedFile]) -> list[ContentFile]:
    """The stashed photos as uploads the services accept (they check the bytes again)."""
    return [ContentFile(s.path.read_bytes(), name=s.name) for s in stashed]


def stash_drop(request: HttpRequest, token: str) -> None:
    owned = dict(request.session.get(SESSION_KEY, {}))
    if token and owned.pop(token, None) is not None:
        request.session[SESSION_KEY] = owned
        shutil.rmtree(_root() / token, ignore_errors=True)


def _prune() -> None:
    root = _root()
    if not root.is_dir():
        return
    cutoff = time.time() - MAX_AGE_SECONDS
    for folder in root.iterdir():
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue
