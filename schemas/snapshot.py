"""Store the current version of every schema in ``schemas/history/`` (``python -m schemas.snapshot``).

Each version is kept as ``history/<Name>.<fingerprint-hex>.avsc``, a copy of the ``.avsc`` file.
The `~schemas.codec.Codec` reads these as writer schemas, so messages written with a version that
has since changed still decode. Run it whenever a schema is added or changed, and commit the new
files with the schema change; ``tests/schemas/test_compat.py`` fails while a current version is
missing from the history.

Examples
--------
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     written = snapshot(history_dir=Path(folder))
...     again = snapshot(history_dir=Path(folder))
>>> any(p.name.startswith("Bar.") for p in written), again
(True, [])
"""

from __future__ import annotations

import json
from pathlib import Path

from schemas.codec import HISTORY_DIRNAME, SCHEMA_DIR, Codec


def history_path(name: str, fingerprint: bytes, history_dir: Path) -> Path:
    """Where the version of schema ``name`` with ``fingerprint`` is kept."""
    return history_dir / f"{name}.{fingerprint.hex()}.avsc"


def missing_versions(schema_dir: Path = SCHEMA_DIR, history_dir: Path | None = None) -> dict[Path, Path]:
    """Map each current schema file whose version is not in the history to its history path."""
    history_dir = schema_dir / HISTORY_DIRNAME if history_dir is None else history_dir
    codec = Codec(schema_dir, history_dir=history_dir)
    missing = {}
    for source in sorted(schema_dir.glob("*.avsc")):
        name = json.loads(source.read_text())["name"].rsplit(".", 1)[-1]
        target = history_path(name, codec.fingerprint(name), history_dir)
        if not target.exists():
            missing[source] = target
    return missing


def snapshot(schema_dir: Path = SCHEMA_DIR, history_dir: Path | None = None) -> list[Path]:
    """Copy every current schema version not yet in the history there; return the files written."""
    written = []
    for source, target in missing_versions(schema_dir, history_dir).items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read_text())
        written.append(target)
    return written


def main() -> None:
    """Snapshot the shipped schemas and say what was written."""
    written = snapshot()
    for path in written:
        print(f"stored {path.relative_to(SCHEMA_DIR.parent)}")
    print(f"{len(written)} new schema version(s) stored in {SCHEMA_DIR / HISTORY_DIRNAME}")


if __name__ == "__main__":
    main()
