"""Where a document comes from: a dict in memory, or a JSON file read as a stream (bounded memory)."""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import IO, Any

from .common import SECTIONS, ImportError_


class DictSource:
    """A document already parsed (the API)."""

    def __init__(self, doc: Any) -> None:
        if not isinstance(doc, dict):
            raise ImportError_("", "the document must be a JSON object")
        for name in SECTIONS:
            value = doc.get(name)
            if value is not None and not isinstance(value, list):
                raise ImportError_(name, "must be a list")
        self.doc = doc

    def records(self, section: str) -> Iterator[tuple[int, Any]]:
        yield from enumerate(self.doc.get(section) or [])


class FileSource:
    """A JSON file parsed incrementally: only one top-level array element is decoded at a time.

    The first scan reads the whole file (checking its syntax) and notes the byte offset where each
    section's array starts; later scans seek straight to the one section they want.
    """

    def __init__(self, path: str, *, chunk_size: int = 1 << 16,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.path, self.chunk_size, self.progress = path, chunk_size, progress
        self.size = os.path.getsize(path)
        self.offsets: dict[str, int] | None = None

    def records(self, section: str) -> Iterator[tuple[int, Any]]:
        if self.offsets is None:
            yield from self._scan(wanted=section)
        elif section in self.offsets:
            reader = _StreamReader(self.path, self.chunk_size, self.progress, self.size,
                                   start=self.offsets[section])
            try:
                reader.expect("[")
                yield from _array(reader, section)
            finally:
                reader.close()

    def _scan(self, *, wanted: str) -> Iterator[tuple[int, Any]]:
        reader = _StreamReader(self.path, self.chunk_size, self.progress, self.size)
        offsets: dict[str, int] = {}
        try:
            reader.expect("{")
            if reader.peek() == "}":
                reader.advance(1)
            else:
                while True:
                    key = reader.value()
                    if not isinstance(key, str):
                        raise ImportError_("", "invalid JSON: object keys must be strings")
                    reader.expect(":")
                    if key in SECTIONS and reader.peek() == "[":
                        offsets[key] = reader.byte_offset()
                        reader.advance(1)
                        items = _array(reader, key)
                        if key == wanted:
                            yield from items
                        else:
                            for _ in items:
                                pass
                    else:
                        value = reader.value()
                        if key in SECTIONS and value is not None:
                            raise ImportError_(key, "must be a list")
                    sep = reader.peek()
                    reader.advance(1)
                    if sep == "}":
                        break
                    if sep != ",":
                        raise ImportError_("", "invalid JSON: expected ',' or '}'")
            if reader.peek() != "":
                raise ImportError_("", "invalid JSON: extra data after the document")
        finally:
            reader.close()
        self.offsets = offsets


def _array(reader: _StreamReader, key: str) -> Iterator[tuple[int, Any]]:
    """The elements of an array whose '[' was just read."""
    if reader.peek() == "]":
        reader.advance(1)
        return
    index = 0
    while True:
        yield index, reader.value()
        index += 1
        sep = reader.peek()
        reader.advance(1)
        if sep == "]":
            return
        if sep != ",":
            raise ImportError_(f"{key}[{index}]", "invalid JSON: expected ',' or ']'")


class _StreamReader:
    """Just enough of an incremental JSON reader: raw_decode on a sliding buffer of the file."""

    def __init__(self, path: str, chunk_size: int, progress: Callable[[int, int], None] | None,
                 size: int, *, start: int = 0) -> None:
        self.file: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by close()
        if start:
            self.file.seek(start)
        self.text = codecs.getincrementaldecoder("utf-8")()
        self.chunk_size, self.progress, self.size = chunk_size, progress, size
        self.decoder = json.JSONDecoder(parse_float=Decimal)
        self.buf, self.pos, self.eof = "", 0, False
        self.base = start  # byte offset of buf[0] in the file

    def close(self) -> None:
        self.file.close()

    def byte_offset(self) -> int:
        return self.base + len(self.buf[:self.pos].encode("utf-8"))

    def _fill(self, at_least: int) -> bool:
        if self.eof:
            return False
        if self.pos:
            self.base += len(self.buf[:self.pos].encode("utf-8"))
            self.buf = self.buf[self.pos:]
            self.pos = 0
        data = self.file.read(max(self.chunk_size, at_least))
        if not data:
            self.text.decode(b"", final=True)
            self.eof = True
            return False
        self.buf += self.text.decode(data)
        if self.progress is not None:
            self.progress(min(self.file.tell(), self.size), self.size)
        return True

    def _skip_ws(self) -> None:
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf) or not self._fill(0):
                return

    def peek(self) -> str:
        self._skip_ws()
        return self.buf[self.pos] if self.pos < len(self.buf) else ""

    def advance(self, n: int) -> None:
        self.pos += n

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise ImportError_("", f"invalid JSON: expected '{char}'")
        self.pos += 1

    def value(self) -> Any:
        self._skip_ws()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self._fill(len(self.buf)):
                    continue
                raise ImportError_("", f"invalid JSON: {exc.msg} (line {exc.lineno})") from exc
            if end >= len(self.buf) and not self.eof and self._fill(len(self.buf)):
                continue  # a number or literal cut at the buffer's end: read on and decode again
            self.pos = end
            return value
