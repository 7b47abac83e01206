"""`/api/schema/`: the schema, generated once per process under a lock.

drf-spectacular loads its extension classes lazily and not thread-safely: two first requests at once made
one of them a 500. The schema does not change while the process runs, so it is built once and kept.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response

_lock = threading.Lock()
_schemas: dict[Any, dict[str, Any]] = {}


class SchemaView(SpectacularAPIView):
    def _get_schema_response(self, request: Request) -> Response:
        version = self.api_version or request.version or self._get_version_parameter(request)
        lang = request.GET.get("lang") or ""
        key = (version, self.serve_public, lang if lang in dict(settings.LANGUAGES) else "")
        with _lock:
            if key not in _schemas:
                generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
                _schemas[key] = generator.get_schema(request=request, public=self.serve_public)
        return Response(data=_schemas[key], headers={
            "Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'})
