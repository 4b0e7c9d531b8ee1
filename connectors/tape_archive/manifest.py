"""The manifest of a tape archive: what it holds, where each partition's records came from, file hashes.

``manifest.json`` looks like::

    {"format": "tape-archive", "version": 1, "created_at": "2024-01-02T03:04:05Z",
     "content_hash": "<sha256 over the log files' hashes>",
     "topics": {"md.bar.1m": {"partition_count": 2, "partitions": {"0": {
         "start_offset": 0, "end_offset": 10, "count": 10, "first_ts_event": ..., "last_ts_event": ...,
         "schemas": {"Bar": {"fingerprint": "<16 hex>", "count": 10}}, "undecodable": 0,
         "columnar": ["Bar"], "files": {"log/md.bar.1m/0.avro": "<sha256>", "columns/...": "..."}}}}}}

``end_offset`` is exclusive (last offset + 1); ``first_ts_event``/``last_ts_event`` are the lowest and
highest ``ts_event`` of the decodable records. ``content_hash`` covers only the log (the truth), so it
survives a rebuild of the columnar cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from connectors.tape_archive.layout import FORMAT, FORMAT_VERSION, LOG_DIR, MANIFEST
from schemas.errors import TapeError

_REQUIRED_PARTITION_KEYS = ("start_offset", "end_offset", "count", "schemas", "undecodable", "files")


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def file_hashes(root: Path, folders: list[Path]) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``folders`` (or each file named), sorted."""
    paths = sorted(
        p for folder in folders for p in ([folder] if folder.is_file() else folder.rglob("*")) if p.is_file()
    )
    return {p.relative_to(root).as_posix(): sha256_of(p) for p in paths}


def content_hash(topics: dict) -> str:
    """The run-level hash: sha256 over the sorted ``path sha256`` lines of the log files."""
    lines = sorted(
        f"{path} {digest}\n"
        for topic in topics.values()
        for part in topic["partitions"].values()
        for path, digest in part["files"].items()
        if path.startswith(f"{LOG_DIR}/")
    )
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def build(topics: dict) -> dict:
    """A complete manifest for ``topics`` (``{topic: {"partition_count", "partitions"}}``)."""
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "content_hash": content_hash(topics),
        "topics": topics,
    }


def write(root: Path, manifest: dict) -> None:
    """Write ``manifest.json`` atomically (write, then rename)."""
    tmp = root / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    os.replace(tmp, root / MANIFEST)


def read(root: Path) -> dict:
    """Load and validate ``manifest.json``; raise `TapeError` saying what is wrong."""
    path = root / MANIFEST
    if not path.is_file():
        raise TapeError(f"{root} is not a tape archive: {MANIFEST} is missing (was the writer closed?)")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise TapeError(f"{path} is not valid JSON: {e}") from e
    if manifest.get("format") != FORMAT:
        raise TapeError(f"{path}: format must be {FORMAT!r}, was {manifest.get('format')!r}")
    if manifest.get("version") != FORMAT_VERSION:
        raise TapeError(
            f"{path}: version {manifest.get('version')!r} is not supported (expected {FORMAT_VERSION})"
        )
    for topic, entry in manifest.get("topics", {}).items():
        for partition, part in entry.get("partitions", {}).items():
            missing = [k for k in _REQUIRED_PARTITION_KEYS if k not in part]
            if missing or "partition_count" not in entry:
                raise TapeError(f"{path}: {topic}/{partition} lacks {missing or ['partition_count']}")
    return manifest
