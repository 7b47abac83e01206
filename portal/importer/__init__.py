"""Marketplace import (api.md "Marketplace data"): validated whole, written all-or-nothing, idempotent.

The same code serves `POST /api/v1/marketplace/import/` (a parsed dict) and
`manage.py import_marketplace FILE.json` (a file streamed twice, so 100k orders never sit in memory):

* pass 1 validates every record, section by section in dependency order (shops, users, products,
  orders), resolving references against the document and the database; the first fault raises
  `ImportError_(path, detail)` with a path such as ``orders[3].items[0].sku``;
* pass 2 writes inside one transaction, in chunks with bulk operations, touching only rows whose
  values differ. A second import of the same document therefore writes nothing.

Authority (api.md): the operator's command may create and change staff accounts; an import through the
API (`operator=False`, the default) never creates, changes or promotes a staff or superuser account
(`ImportForbidden`, answered 403). Either way a re-import never changes a user's password (it is set when
the user is created) nor their role (a different role is a fault at ``users[i].role``).

Datetimes must carry an offset (``2026-11-01T10:00:00+08:00`` or ``...Z``): a naive time is rejected
rather than guessed, because the marketplace's clock zone is not ours to assume.
"""

from .common import CHUNK, SECTIONS, ImportError_, ImportForbidden
from .core import Counts, Importer, import_document, import_file
from .sources import DictSource, FileSource

__all__ = ["CHUNK", "SECTIONS", "Counts", "DictSource", "FileSource", "ImportError_", "ImportForbidden", "Importer",
           "import_document", "import_file"]
