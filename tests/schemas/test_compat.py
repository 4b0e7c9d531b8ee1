"""Schema-evolution guard: every schema change must stay readable by the new version (Avro resolution).

Each ``schemas/*.avsc`` is checked against every version of it in git history and every version kept
in ``schemas/history/``: structurally with `schemas.compat.check_backward_compatible`, and for real by
writing fastavro-generated data with the old schema and reading it with the new one. The checker
itself is tested on planted changes, with fastavro's own resolution as the reference.
"""

from __future__ import annotations

import copy
import io
import json
import random
import shutil
import subprocess
from pathlib import Path

import fastavro
import pytest
from fastavro.utils import generate_many

from schemas.codec import SCHEMA_DIR
from schemas.compat import check_backward_compatible
from schemas.errors import SchemaError
from schemas.snapshot import missing_versions, snapshot

SCHEMA_FILES = sorted(SCHEMA_DIR.glob("*.avsc"))
HISTORY_DIR = SCHEMA_DIR / "history"


def git(*args: str, cwd: Path = SCHEMA_DIR) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def git_versions(path: Path) -> list[tuple[str, dict]]:
    """Every committed version of ``path`` as (short sha, schema); skip the test outside a git checkout."""
    try:
        top = Path(git("rev-parse", "--show-toplevel").strip())
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not in a git checkout (or git is not installed): no history to compare with")
    relative = path.resolve().relative_to(top.resolve()).as_posix()
    versions = []
    for sha in git("log", "--format=%H", "--", relative, cwd=top).split():
        try:
            versions.append((sha[:10], json.loads(git("show", f"{sha}:{relative}", cwd=top))))
        except subprocess.CalledProcessError:  # the commit deleted the file
            continue
    return versions


def stored_versions(name: str) -> list[tuple[str, dict]]:
    return [(p.name, json.loads(p.read_text())) for p in sorted(HISTORY_DIR.glob(f"{name}.*.avsc"))]


def resolution_errors(old: dict, new: dict, count: int = 300) -> list[str]:
    """Write ``count`` generated records with ``old`` and read them with ``new`` using fastavro."""
    writer = fastavro.parse_schema(old, named_schemas={})
    reader = fastavro.parse_schema(new, named_schemas={})
    random.seed(json.dumps(old, sort_keys=True))
    errors = []
    for record in generate_many(writer, count):
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, writer, record)
        buf.seek(0)
        try:
            fastavro.schemaless_reader(buf, writer, reader)
        except Exception as e:  # SchemaResolutionError and friends
            errors.append(repr(e))
    return errors


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_schema_change_is_backward_compatible_with_every_older_version(path):
    new = json.loads(path.read_text())
    older = git_versions(path) + stored_versions(new["name"])

    for label, old in older:
        assert check_backward_compatible(old, new) == [], f"{path.name} cannot read data written by {label}"
        assert resolution_errors(old, new, count=50) == [], f"fastavro cannot resolve {label} to {path.name}"


def test_history_holds_current_version_of_every_schema():
    missing = missing_versions()

    assert not missing, (
        f"run `python -m schemas.snapshot` and commit the files: {sorted(map(str, missing.values()))}"
    )


def test_snapshot_stores_each_version_once(tmp_path):
    for path in SCHEMA_FILES[:2]:
        shutil.copy(path, tmp_path)
    history = tmp_path / "history"

    first, second = snapshot(tmp_path, history), snapshot(tmp_path, history)

    assert len(first) == 2 and second == []
    assert sorted(p.name for p in history.iterdir()) == sorted(p.name for p in first)


ORDER = json.loads((SCHEMA_DIR / "order.avsc").read_text())
MANIFEST = json.loads((SCHEMA_DIR / "run_manifest.avsc").read_text())


def changed(schema: dict, edit) -> dict:
    new = copy.deepcopy(schema)
    edit(new)
    return new


def field(schema: dict, name: str) -> dict:
    return next(f for f in schema["fields"] if f["name"] == name)


def topic_range(schema: dict) -> dict:
    return field(schema, "inputs")["type"]["items"]


PLANTED = {
    "field added without default": (
        ORDER,
        lambda s: s["fields"].append({"name": "venue", "type": "string"}),
        False,
    ),
    "field added with default": (
        ORDER,
        lambda s: s["fields"].append({"name": "venue", "type": "string", "default": ""}),
        True,
    ),
    "field removed": (ORDER, lambda s: s["fields"].remove(field(s, "stop_price")), True),
    "double narrowed to float": (ORDER, lambda s: field(s, "quantity").update(type="float"), False),
    "nullable made required": (
        ORDER,
        lambda s: field(s, "limit_price").update(type="double", default=0.0),
        False,
    ),
    "enum symbol removed": (ORDER, lambda s: field(s, "side")["type"].update(symbols=["BUY"]), False),
    "enum symbol removed with enum default": (
        ORDER,
        lambda s: field(s, "side")["type"].update(symbols=["BUY", "UNKNOWN"], default="UNKNOWN"),
        True,
    ),
    "enum symbol added": (ORDER, lambda s: field(s, "side")["type"]["symbols"].append("SHORT"), True),
    "record renamed": (ORDER, lambda s: s.update(name="PlacedOrder"), False),
    "nested int promoted to long": (
        MANIFEST,
        lambda s: field(topic_range(s), "partition").update(type="long"),
        True,
    ),
    "nested long narrowed to int": (
        MANIFEST,
        lambda s: field(topic_range(s), "start_offset").update(type="int"),
        False,
    ),
    "map values narrowed": (MANIFEST, lambda s: field(s, "seeds")["type"].update(values="int"), False),
    "map values promoted": (MANIFEST, lambda s: field(s, "seeds")["type"].update(values="double"), True),
    "string made nullable": (MANIFEST, lambda s: field(s, "kind").update(type=["null", "string"]), True),
}


@pytest.mark.parametrize("change", PLANTED)
def test_check_backward_compatible_agrees_with_fastavro_resolution(change):
    base, edit, compatible = PLANTED[change]
    new = changed(base, edit)

    problems = check_backward_compatible(base, new)
    errors = resolution_errors(base, new)

    assert (problems == []) is compatible, problems
    assert (errors == []) is compatible, errors[:3]


def test_check_backward_compatible_names_the_offending_field():
    added = changed(ORDER, lambda s: s["fields"].append({"name": "venue", "type": "string"}))
    narrowed = changed(MANIFEST, lambda s: field(topic_range(s), "start_offset").update(type="int"))

    assert check_backward_compatible(ORDER, added) == [
        "Order.venue: field added without a default (old data has no value for it)"
    ]
    assert check_backward_compatible(MANIFEST, narrowed) == [
        "RunManifest.inputs[].start_offset: type changed from long to int, which Avro cannot promote"
    ]


def test_check_backward_compatible_invalid_schema_raises_schema_error():
    with pytest.raises(SchemaError, match="new schema"):
        check_backward_compatible(ORDER, {"type": "record", "name": "Broken", "fields": [{"name": "x"}]})


def test_check_backward_compatible_recursive_type_terminates_and_checks_nested_fields():
    node = {
        "type": "record",
        "name": "Node",
        "fields": [{"name": "value", "type": "long"}, {"name": "next", "type": ["null", "Node"]}],
    }
    promoted = changed(node, lambda s: field(s, "value").update(type="double"))
    grown = changed(node, lambda s: s["fields"].append({"name": "label", "type": "string"}))

    assert check_backward_compatible(node, promoted) == []
    assert check_backward_compatible(node, grown) == [
        "Node.label: field added without a default (old data has no value for it)"
    ]
