"""Names and shapes on disk of a tape archive: paths, the format version and the log envelope schema."""

from __future__ import annotations

from pathlib import Path

import fastavro

FORMAT = "tape-archive"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
LOG_DIR = "log"
COLUMNS_DIR = "columns"
LOG_CODEC = "deflate"

ENVELOPE_SCHEMA = fastavro.parse_schema(
    {
        "type": "record",
        "name": "Envelope",
        "namespace": "tape.archive",
        "doc": "One Kafka record exactly as the log held it.",
        "fields": [
            {"name": "offset", "type": "long"},
            {"name": "timestamp_ms", "type": "long"},
            {"name": "key", "type": ["null", "bytes"]},
            {"name": "value", "type": ["null", "bytes"], "doc": "null only for a tombstone"},
            {
                "name": "headers",
                "type": {
                    "type": "array",
                    "items": {
                        "type": "record",
                        "name": "Header",
                        "fields": [
                            {"name": "name", "type": "string"},
                            {"name": "value", "type": ["null", "bytes"]},
                        ],
                    },
                },
            },
        ],
    }
)


def log_path(root: Path, topic: str, partition: int) -> Path:
    """The Avro container file holding one partition's records."""
    return root / LOG_DIR / topic / f"{partition}.avro"


def columns_path(root: Path, topic: str, partition: int) -> Path:
    """The folder holding one partition's columnar cache."""
    return root / COLUMNS_DIR / topic / str(partition)
