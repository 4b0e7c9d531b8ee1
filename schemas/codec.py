"""Avro single-object encoding of Tape's events (marker ``C3 01``, CRC-64-AVRO fingerprint, body).

The ``.avsc`` files beside this module are the single source of truth for every event type. A
`Codec` parses them once, indexes them by name and by fingerprint, and encodes or decodes records
(plain dicts) with fastavro's binary reader and writer.

Older versions of each schema are kept in ``history/<Name>.<fingerprint-hex>.avsc`` (written by
``python -m schemas.snapshot``). A message written with one of them is decoded with the old schema
as writer and the current one as reader (Avro schema resolution), so it comes out in today's shape.

Examples
--------
>>> from schemas.codec import CODEC
>>> bar = {"instrument": "AAPL", "interval_ns": 60_000_000_000, "open": 1.0, "high": 2.0,
...        "low": 0.5, "close": 1.5, "volume": 10.0, "ts_event": 60_000_000_000, "ts_init": 60_000_000_001}
>>> data = CODEC.encode("Bar", bar)
>>> data[:2].hex()
'c301'
>>> CODEC.decode(data) == ("Bar", bar)
True
>>> CODEC.decode(b"garbage")
Traceback (most recent call last):
...
schemas.errors.DecodeError: bad-marker: expected the single-object marker c301, the first bytes were 6761
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

from schemas.errors import DecodeError, EncodeError, SchemaError

MARKER = b"\xc3\x01"
HEADER_SIZE = 10
SCHEMA_DIR = Path(__file__).resolve().parent
HISTORY_DIRNAME = "history"

_ENCODE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, OverflowError)


def crc64_fingerprint(parsed_schema: Any) -> bytes:
    """The 8-byte CRC-64-AVRO fingerprint of a parsed schema, in wire (little-endian) order."""
    return bytes.fromhex(fingerprint(to_parsing_canonical_form(parsed_schema), "CRC-64-AVRO"))


class _Reader(NamedTuple):
    name: str
    writer: Any
    reader: Any  # None when the writer schema is the current one


class Codec:
    """Encodes and decodes events of the schemas found in ``schema_dir``.

    Parameters
    ----------
    schema_dir
        Folder of ``*.avsc`` files, one record schema per file (default: the shipped schemas).
    history_dir
        Folder of older schema versions, read as writer schemas (default: ``schema_dir/history``;
        a missing folder means no history).

    Examples
    --------
    >>> codec = Codec()
    >>> "Order" in codec.names and len(codec.fingerprint("Order"))
    8
    """

    def __init__(self, schema_dir: Path = SCHEMA_DIR, history_dir: Path | None = None):
        self.schema_dir = schema_dir
        self.history_dir = schema_dir / HISTORY_DIRNAME if history_dir is None else history_dir
        self._parsed: dict[str, Any] = {}
        self._fingerprints: dict[str, bytes] = {}
        self._headers: dict[str, bytes] = {}
        self._readers: dict[bytes, _Reader] = {}
        for path in sorted(schema_dir.glob("*.avsc")):
            self.add_schema(json.loads(path.read_text()), source=str(path))
        if not self._parsed:
            raise SchemaError(f"no *.avsc schemas found in {schema_dir}")
        for path in sorted(self.history_dir.glob("*.avsc")):
            self.add_writer_schema(json.loads(path.read_text()), source=str(path))

    def add_schema(self, schema: dict, source: str = "<dict>") -> str:
        """Parse and register a record schema as the current version; return its short name (``Bar``)."""
        name, parsed, fp = _parse(schema, source)
        if name in self._parsed and self._fingerprints[name] != fp:
            raise SchemaError(f"{source}: schema name {name!r} is already registered with another definition")
        self._claim(fp, name, source)
        self._parsed[name] = parsed
        self._fingerprints[name] = fp
        self._headers[name] = MARKER + fp
        self._readers[fp] = _Reader(name, parsed, None)
        return name

    def add_writer_schema(self, schema: dict, source: str = "<dict>") -> str:
        """Register an older version of a current schema, so its messages decode into the current shape.

        Returns the short name. Raises `SchemaError` if no current schema has that name.
        """
        name, parsed, fp = _parse(schema, source)
        if name not in self._parsed:
            raise SchemaError(
                f"{source}: old version of {name!r}, but no current schema has that name; "
                f"known: {', '.join(self.names)}"
            )
        if fp == self._fingerprints[name]:
            return name
        self._claim(fp, name, source)
        self._readers[fp] = _Reader(name, parsed, self._parsed[name])
        return name

    def _claim(self, fp: bytes, name: str, source: str) -> None:
        owner = self._readers.get(fp)
        if owner is not None and owner.name != name:
            raise SchemaError(
                f"{source}: fingerprint {fp.hex()} of {name!r} is already used by {owner.name!r}"
            )

    @property
    def names(self) -> list[str]:
        """Short names of the registered schemas, sorted."""
        return sorted(self._parsed)

    def schema(self, name: str) -> Any:
        """The parsed schema of ``name``."""
        try:
            return self._parsed[name]
        except KeyError:
            raise SchemaError(f"unknown schema {name!r}; known: {', '.join(self.names)}") from None

    def fingerprint(self, name: str) -> bytes:
        """The 8-byte CRC-64-AVRO fingerprint of the current version of ``name``."""
        self.schema(name)
        return self._fingerprints[name]

    def name_of(self, fingerprint_bytes: bytes) -> str | None:
        """The schema name with this fingerprint (current or older version), or None."""
        reader = self._readers.get(fingerprint_bytes)
        return None if reader is None else reader.name

    def encode(self, name: str, record: dict) -> bytes:
        """Encode ``record`` as a single-object Avro message of schema ``name``."""
        parsed = self.schema(name)
        buf = io.BytesIO()
        buf.write(self._headers[name])
        try:
            fastavro.schemaless_writer(buf, parsed, record)
        except _ENCODE_ERRORS as e:
            raise EncodeError(f"record does not match schema {name}: {e}") from e
        return buf.getvalue()

    def encode_many(self, name: str, records: Iterable[dict]) -> list[bytes]:
        """Encode many records of one schema."""
        return [self.encode(name, r) for r in records]

    def schema_name_of(self, data: bytes) -> str:
        """The schema name a message was written with, without decoding its body."""
        return self._reader_of(data).name

    def decode(self, data: bytes) -> tuple[str, dict]:
        """Decode a single-object message into ``(schema name, record)``; raise `DecodeError`.

        A message written with an older version of the schema comes out in the current version's
        shape (fields added since then take their defaults).
        """
        reader = self._reader_of(data)
        body = io.BytesIO(data)
        body.seek(HEADER_SIZE)
        try:
            record = fastavro.schemaless_reader(body, reader.writer, reader.reader)
        except Exception as e:  # fastavro raises EOFError, ValueError, IndexError, UnicodeDecodeError…
            size = len(data) - HEADER_SIZE
            if isinstance(e, EOFError) or body.tell() >= len(data):
                raise DecodeError(
                    "truncated", f"a {reader.name} body of {size} bytes ends early: {e!r}"
                ) from e
            raise DecodeError("bad-body", f"cannot decode a {reader.name} body of {size} bytes: {e!r}") from e
        if body.tell() != len(data):
            raise DecodeError(
                "bad-body", f"{len(data) - body.tell()} trailing bytes after a {reader.name} body"
            )
        return reader.name, record

    def decode_many(self, messages: Iterable[bytes]) -> Iterator[tuple[str, dict]]:
        """Decode many messages; raises on the first bad one (use `decode` per message to route errors)."""
        for data in messages:
            yield self.decode(data)

    def _reader_of(self, data: bytes) -> _Reader:
        if len(data) < HEADER_SIZE or data[:2] != MARKER:
            self._raise_bad_header(data)
        key = bytes(data[2:HEADER_SIZE])
        reader = self._readers.get(key)
        if reader is None:
            raise DecodeError("unknown-fingerprint", f"no registered schema has fingerprint {key.hex()}")
        return reader

    @staticmethod
    def _raise_bad_header(data: bytes) -> None:
        if len(data) < 2 or data[:2] != MARKER:
            raise DecodeError(
                "bad-marker",
                f"expected the single-object marker c301, the first bytes were {bytes(data[:2]).hex()}",
            )
        raise DecodeError("truncated", f"message of {len(data)} bytes is shorter than the 10-byte header")


def _parse(schema: dict, source: str) -> tuple[str, Any, bytes]:
    try:
        parsed = fastavro.parse_schema(schema, named_schemas={})
    except Exception as e:  # fastavro raises several unrelated types
        raise SchemaError(f"cannot parse schema {source}: {e}") from e
    if parsed.get("type") != "record":
        raise SchemaError(f"{source}: top-level type must be a record, was {parsed.get('type')!r}")
    return parsed["name"].rsplit(".", 1)[-1], parsed, crc64_fingerprint(parsed)


CODEC = Codec()
