"""Backward-compatibility check of two versions of an Avro schema (Avro schema-resolution rules).

A new schema is *backward compatible* with an old one when a reader using the new schema can read
every datum written with the old one. `check_backward_compatible` applies the resolution rules of the
Avro specification structurally, with the old schema as writer and the new one as reader, and returns
the problems found (an empty list means compatible):

- a reader field the writer lacks needs a default (removed writer fields are ignored);
- a field's type may only change by an allowed promotion (int to long, float or double; long to
  float or double; float to double; string to and from bytes) or by widening into a union;
- an enum may gain symbols; it may lose a symbol only if the reader's enum declares a ``default``;
- a fixed keeps its size; named types keep their unqualified name (or list the old one in ``aliases``).

Examples
--------
>>> old = {"type": "record", "name": "Bar", "fields": [{"name": "close", "type": "double"}]}
>>> check_backward_compatible(old, {**old, "fields": old["fields"] + [{"name": "vwap", "type": "double"}]})
['Bar.vwap: field added without a default (old data has no value for it)']
>>> check_backward_compatible(old, {**old, "fields": old["fields"] + [
...     {"name": "vwap", "type": ["null", "double"], "default": None}]})
[]
"""

from __future__ import annotations

from typing import Any

import fastavro

from schemas.errors import SchemaError

PROMOTIONS: dict[str, frozenset[str]] = {
    "int": frozenset({"long", "float", "double"}),
    "long": frozenset({"float", "double"}),
    "float": frozenset({"double"}),
    "string": frozenset({"bytes"}),
    "bytes": frozenset({"string"}),
}
"""Writer type to the reader types the Avro specification lets it be promoted to."""

NAMED = frozenset({"record", "enum", "fixed"})


def check_backward_compatible(old: dict, new: dict) -> list[str]:
    """Return the reasons why ``new`` cannot read data written with ``old`` (empty if it can).

    Parameters
    ----------
    old
        The writer schema, as a JSON-like dict (the content of an ``.avsc`` file).
    new
        The reader schema, same form.

    Raises
    ------
    SchemaError
        If either schema is not a valid Avro schema.

    Examples
    --------
    >>> old = {"type": "record", "name": "Fill", "fields": [{"name": "quantity", "type": "long"}]}
    >>> check_backward_compatible(old, {**old, "fields": [{"name": "quantity", "type": "double"}]})
    []
    >>> check_backward_compatible(old, {**old, "fields": [{"name": "quantity", "type": "int"}]})
    ['Fill.quantity: type changed from long to int, which Avro cannot promote']
    """
    writer_names: dict[str, Any] = {}
    reader_names: dict[str, Any] = {}
    writer = _parse(old, writer_names, "old")
    reader = _parse(new, reader_names, "new")
    problems: list[str] = []
    _Resolver(writer_names, reader_names).compare(writer, reader, _short_name(reader), problems)
    return problems


def _parse(schema: dict, named: dict[str, Any], label: str) -> Any:
    try:
        parsed = fastavro.parse_schema(schema, named_schemas=named)
    except Exception as e:  # fastavro raises several unrelated types
        raise SchemaError(f"the {label} schema is not a valid Avro schema: {e}") from e
    return {k: v for k, v in parsed.items() if not k.startswith("__")} if isinstance(parsed, dict) else parsed


def _short_name(schema: Any) -> str:
    if isinstance(schema, dict) and "name" in schema:
        return str(schema["name"]).rsplit(".", 1)[-1]
    return _type_name(schema)


def _type_name(schema: Any) -> str:
    if isinstance(schema, list):
        return "union[" + ", ".join(_type_name(s) for s in schema) + "]"
    if isinstance(schema, dict):
        return str(schema["name"]) if schema["type"] in NAMED else str(schema["type"])
    return str(schema)


class _Resolver:
    """Walks a writer and a reader schema side by side, resolving named-type references."""

    def __init__(self, writer_names: dict[str, Any], reader_names: dict[str, Any]):
        self.writer_names = writer_names
        self.reader_names = reader_names
        self.in_progress: set[tuple[str, str]] = set()

    def compare(self, writer: Any, reader: Any, path: str, problems: list[str]) -> None:
        writer = self._deref(writer, self.writer_names)
        reader = self._deref(reader, self.reader_names)
        if isinstance(writer, list):
            for branch in writer:
                self.compare(branch, reader, path, problems)
        elif isinstance(reader, list):
            self._compare_into_union(writer, reader, path, problems)
        else:
            self._compare_plain(writer, reader, path, problems)

    def _compare_into_union(self, writer: Any, reader: list, path: str, problems: list[str]) -> None:
        same_kind_problems = []
        for branch in reader:
            branch_problems: list[str] = []
            self.compare(writer, branch, path, branch_problems)
            if not branch_problems:
                return
            if _kind(self._deref(branch, self.reader_names)) == _kind(writer):
                same_kind_problems.append(branch_problems)
        old, new = _type_name(writer), _type_name(reader)
        problems.extend(
            same_kind_problems[0]
            if same_kind_problems
            else [f"{path}: no branch of the new {new} can read the old {old}"]
        )

    def _compare_plain(self, writer: Any, reader: Any, path: str, problems: list[str]) -> None:
        writer_kind, reader_kind = _kind(writer), _kind(reader)
        if writer_kind != reader_kind:
            if reader_kind not in PROMOTIONS.get(writer_kind, frozenset()):
                problems.append(
                    f"{path}: type changed from {writer_kind} to {reader_kind}, which Avro cannot promote"
                )
            return
        if writer_kind in NAMED and not _names_match(writer, reader):
            problems.append(
                f"{path}: {writer_kind} renamed from {_short_name(writer)} to {_short_name(reader)} "
                "without listing the old name in 'aliases'"
            )
            return
        if writer_kind == "record":
            self._compare_records(writer, reader, path, problems)
        elif writer_kind == "enum":
            removed = [s for s in writer["symbols"] if s not in reader["symbols"]]
            if removed and "default" not in reader:
                problems.append(
                    f"{path}: enum symbols {removed} removed and the new enum declares no 'default'"
                )
        elif writer_kind == "fixed" and writer["size"] != reader["size"]:
            problems.append(f"{path}: fixed size changed from {writer['size']} to {reader['size']}")
        elif writer_kind == "array":
            self.compare(writer["items"], reader["items"], f"{path}[]", problems)
        elif writer_kind == "map":
            self.compare(writer["values"], reader["values"], f"{path}{{}}", problems)

    def _compare_records(self, writer: dict, reader: dict, path: str, problems: list[str]) -> None:
        key = (str(writer["name"]), str(reader["name"]))
        if key in self.in_progress:  # a recursive type: its fields are being compared further up
            return
        self.in_progress.add(key)
        try:
            self._compare_fields(writer, reader, path, problems)
        finally:
            self.in_progress.discard(key)

    def _compare_fields(self, writer: dict, reader: dict, path: str, problems: list[str]) -> None:
        writer_fields = {f["name"]: f for f in writer["fields"]}
        for field in reader["fields"]:
            names = [field["name"], *field.get("aliases", [])]
            old = next((writer_fields[n] for n in names if n in writer_fields), None)
            field_path = f"{path}.{field['name']}"
            if old is not None:
                self.compare(old["type"], field["type"], field_path, problems)
            elif "default" not in field:
                problems.append(f"{field_path}: field added without a default (old data has no value for it)")

    @staticmethod
    def _deref(schema: Any, names: dict[str, Any]) -> Any:
        if isinstance(schema, str) and schema in names:
            return names[schema]
        if (
            isinstance(schema, dict)
            and schema.get("type") not in NAMED
            and isinstance(schema.get("type"), str)
            and schema["type"] in names
        ):
            return names[schema["type"]]
        return schema


def _kind(schema: Any) -> str:
    if isinstance(schema, list):
        return "union"
    if isinstance(schema, dict):
        return str(schema["type"])
    return str(schema)


def _names_match(writer: dict, reader: dict) -> bool:
    writer_name = str(writer["name"])
    short = writer_name.rsplit(".", 1)[-1]
    aliases = {str(a) for a in reader.get("aliases", [])}
    return (
        short == _short_name(reader)
        or writer_name in aliases
        or short in {a.rsplit(".", 1)[-1] for a in aliases}
    )
