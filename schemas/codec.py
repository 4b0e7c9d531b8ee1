"""Avro single-object encoding of Tape's events (marker ``C3 01``, CRC-64-AVRO fingerprint, body).

The ``.avsc`` files beside this module are the single source of truth for every event type. A
`Codec` parses them once, indexes them by name and by fingerprint, and encodes or decodes records
(plain dicts) with fastavro's schemaless reader and writer.

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
from typing import Any

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

from schemas.errors import DecodeError, EncodeError, SchemaError

MARKER = b"\xc3\x01"
HEADER_SIZE = 10
SCHEMA_DIR = Path(__file__).resolve().parent


def crc64_fingerprint(parsed_schema: Any) -> bytes:
    """The 8-byte CRC-64-AVRO fingerprint of a parsed schema, in wire (little-endian) order."""
    return bytes.fromhex(fingerprint(to_parsing_canonical_form(parsed_schema), "CRC-64-AVRO"))


class Codec:
    """Encodes and decodes events of the schemas found in ``schema_dir``.

    Parameters
    ----------
    schema_dir
        Folder of ``*.avsc`` files, one record schema per file (default: the shipped schemas).
    """

    def __init__(self, schema_dir: Path = SCHEMA_DIR):
        self.schema_dir = schema_dir
        self._parsed: dict[str, Any] = {}
        self._fingerprints: dict[str, bytes] = {}
        self._by_fingerprint: dict[bytes, str] = {}
        for path in sorted(schema_dir.glob("*.avsc")):
            self.add_schema(json.loads(path.read_text()), source=str(path))
        if not self._parsed:
            raise SchemaError(f"no *.avsc schemas found in {schema_dir}")

    def add_schema(self, schema: dict, source: str = "<dict>") -> str:
        """Parse and register a record schema; return its short name (``Bar``)."""
        try:
            parsed = fastavro.parse_schema(schema, named_schemas={})
        except Exception as e:  # fastavro raises several unrelated types
            raise SchemaError(f"cannot parse schema {source}: {e}") from e
        if parsed.get("type") != "record":
            raise SchemaError(f"{source}: top-level type must be a record, was {parsed.get('type')!r}")
        name = parsed["name"].rsplit(".", 1)[-1]
        fp = crc64_fingerprint(parsed)
        if name in self._parsed and self._fingerprints[name] != fp:
            raise SchemaError(f"{source}: schema name {name!r} is already registered with another definition")
        self._parsed[name] = parsed
        self._fingerprints[name] = fp
        self._by_fingerprint[fp] = name
        return name

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
        """The 8-byte CRC-64-AVRO fingerprint of ``name``."""
        self.schema(name)
        return self._fingerprints[name]

    def name_of(self, fingerprint_bytes: bytes) -> str | None:
        """The schema name with this fingerprint, or None."""
        return self._by_fingerprint.get(fingerprint_bytes)

    def encode(self, name: str, record: dict) -> bytes:
        """Encode ``record`` as a single-object Avro message of schema ``name``."""
        parsed = self.schema(name)
        buf = io.BytesIO()
        buf.write(MARKER)
        buf.write(self._fingerprints[name])
        try:
            fastavro.schemaless_writer(buf, parsed, record)
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise EncodeError(f"record does not match schema {name}: {e}") from e
        return buf.getvalue()

    def encode_many(self, name: str, records: Iterable[dict]) -> list[bytes]:
        """Encode many records of one schema."""
        return [self.encode(name, r) for r in records]

    def schema_name_of(self, data: bytes) -> str:
        """The schema name a message was written with, without decoding its body."""
        if len(data) < HEADER_SIZE or data[:2] != MARKER:
            self._raise_bad_header(data)
        name = self._by_fingerprint.get(bytes(data[2:HEADER_SIZE]))
        if name is None:
            raise DecodeError(
                "unknown-fingerprint",
                f"no registered schema has fingerprint {bytes(data[2:HEADER_SIZE]).hex()}",
            )
        return name

    def decode(self, data: bytes) -> tuple[str, dict]:
        """Decode a single-object message into ``(schema name, record)``; raise `DecodeError`."""
        name = self.schema_name_of(data)
        body = io.BytesIO(data)
        body.seek(HEADER_SIZE)
        try:
            record = fastavro.schemaless_reader(body, self._parsed[name], None)
        except Exception as e:  # fastavro raises EOFError, ValueError, IndexError, UnicodeDecodeError…
            raise DecodeError("bad-body", f"cannot decode a {name} body of {len(data) - HEADER_SIZE} bytes: {e!r}") from e
        if body.tell() != len(data):
            raise DecodeError("bad-body", f"{len(data) - body.tell()} trailing bytes after a {name} body")
        return name, record

    def decode_many(self, messages: Iterable[bytes]) -> Iterator[tuple[str, dict]]:
        """Decode many messages; raises on the first bad one (use `decode` per message to route errors)."""
        for data in messages:
            yield self.decode(data)

    @staticmethod
    def _raise_bad_header(data: bytes) -> None:
        if len(data) < 2 or data[:2] != MARKER:
            raise DecodeError(
                "bad-marker", f"expected the single-object marker c301, the first bytes were {bytes(data[:2]).hex()}"
            )
        raise DecodeError("truncated", f"message of {len(data)} bytes is shorter than the 10-byte header")


CODEC = Codec()
