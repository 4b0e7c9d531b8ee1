"""Round trips, typed decode errors, encode errors and old-version decoding of `schemas.codec`."""

from __future__ import annotations

import doctest
import io
import json
import math
import random
import shutil
from pathlib import Path

import fastavro
import pytest
from fastavro.utils import generate_many
from hypothesis import given
from hypothesis import strategies as st

import schemas.codec
import schemas.compat
import schemas.snapshot
from schemas.codec import CODEC, HEADER_SIZE, MARKER, SCHEMA_DIR, Codec, crc64_fingerprint
from schemas.errors import DecodeError, EncodeError, SchemaError

LONGS = st.integers(min_value=-(2**63), max_value=2**63 - 1)
DOUBLES = st.floats(allow_nan=False)


def generated(name: str, count: int = 50) -> list[dict]:
    """Random records of schema ``name`` from fastavro's generator, reproducible per name."""
    random.seed(name)
    return list(generate_many(CODEC.schema(name), count))


def fastavro_body(schema: dict, record: dict) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(schema, named_schemas={}), record)
    return buf.getvalue()


@pytest.mark.parametrize("name", CODEC.names)
def test_encode_decode_every_schema_round_trips(name):
    records = generated(name)

    decoded = [CODEC.decode(CODEC.encode(name, r)) for r in records]

    assert decoded == [(name, r) for r in records]


@pytest.mark.parametrize("name", CODEC.names)
def test_encode_every_schema_writes_header_then_fastavro_body(name):
    record = generated(name, 1)[0]

    data = CODEC.encode(name, record)

    assert data[:2] == MARKER
    assert data[2:HEADER_SIZE] == CODEC.fingerprint(name) == crc64_fingerprint(CODEC.schema(name))
    assert data[HEADER_SIZE:] == fastavro_body(CODEC.schema(name), record)
    assert CODEC.schema_name_of(data) == name


def test_fingerprint_matches_fastavro_crc64_of_canonical_form():
    canonical = fastavro.schema.to_parsing_canonical_form(CODEC.schema("Bar"))
    expected = fastavro.schema.fingerprint(canonical, "CRC-64-AVRO")

    assert CODEC.fingerprint("Bar").hex() == expected


def test_every_schema_has_namespace_tape_and_event_times():
    for path in sorted(SCHEMA_DIR.glob("*.avsc")):
        schema = json.loads(path.read_text())
        fields = {f["name"]: f["type"] for f in schema["fields"]}

        assert schema["namespace"] == "tape", path.name
        assert fields.get("ts_event") == "long" and fields.get("ts_init") == "long", path.name


@given(instrument=st.text(), interval_ns=LONGS, prices=st.lists(DOUBLES, min_size=5, max_size=5), ts=LONGS)
def test_encode_decode_bar_with_extreme_values_round_trips(instrument, interval_ns, prices, ts):
    bar = dict(zip(["open", "high", "low", "close", "volume"], prices, strict=True))
    bar.update(instrument=instrument, interval_ns=interval_ns, ts_event=ts, ts_init=ts)

    assert CODEC.decode(CODEC.encode("Bar", bar)) == ("Bar", bar)


def test_encode_decode_nan_price_stays_nan():
    bar = dict(generated("Bar", 1)[0], close=math.nan)

    _, decoded = CODEC.decode(CODEC.encode("Bar", bar))

    assert math.isnan(decoded["close"])


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"garbage bytes, not avro", "bad-marker"),
        (b"", "bad-marker"),
        (MARKER + b"\x01\x02", "truncated"),
        (MARKER + b"\x00" * 8 + b"body", "unknown-fingerprint"),
    ],
    ids=["garbage", "empty", "truncated-header", "unknown-fingerprint"],
)
def test_decode_bad_header_raises_decode_error_with_reason(data, reason):
    with pytest.raises(DecodeError) as caught:
        CODEC.decode(data)

    assert caught.value.reason == reason


@pytest.mark.parametrize("name", ["Bar", "Order", "RunManifest"])
def test_decode_truncated_body_raises_truncated(name):
    data = CODEC.encode(name, generated(name, 1)[0])

    for end in range(HEADER_SIZE, len(data)):
        with pytest.raises(DecodeError) as caught:
            CODEC.decode(data[:end])
        assert caught.value.reason == "truncated", end


def test_decode_trailing_bytes_raises_bad_body():
    data = CODEC.encode("Bar", generated("Bar", 1)[0])

    with pytest.raises(DecodeError) as caught:
        CODEC.decode(data + b"\x00")

    assert caught.value.reason == "bad-body"
    assert "trailing" in str(caught.value)


def test_decode_enum_index_out_of_range_raises_bad_body():
    order = generated("Order", 1)[0]
    body = bytearray(CODEC.encode("Order", order))
    side_offset = HEADER_SIZE + len(
        fastavro_body(
            {"type": "record", "name": "Prefix", "fields": CODEC.schema("Order")["fields"][:5]}, order
        )
    )
    body[side_offset] = 0x7E  # zigzag 63: no OrderSide has that index

    with pytest.raises(DecodeError) as caught:
        CODEC.decode(bytes(body))

    assert caught.value.reason == "bad-body"


@pytest.mark.parametrize("name", CODEC.names)
def test_encode_record_missing_required_field_raises_encode_error(name):
    record = generated(name, 1)[0]
    required = [f["name"] for f in CODEC.schema(name)["fields"] if "default" not in f]

    for field in required:
        with pytest.raises(EncodeError, match=field):
            CODEC.encode(name, {k: v for k, v in record.items() if k != field})


def test_encode_record_missing_defaulted_fields_fills_defaults():
    order = {
        k: v
        for k, v in generated("Order", 1)[0].items()
        if k not in {"limit_price", "stop_price", "time_in_force"}
    }

    _, decoded = CODEC.decode(CODEC.encode("Order", order))

    assert decoded == {**order, "limit_price": None, "stop_price": None, "time_in_force": "GTC"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("side", "SIDEWAYS"), ("quantity", "ten"), ("ts_event", 2**64), ("limit_price", "1.0")],
)
def test_encode_value_of_wrong_type_raises_encode_error(field, value):
    order = dict(generated("Order", 1)[0], **{field: value})

    with pytest.raises(EncodeError):
        CODEC.encode("Order", order)


def test_encode_unknown_schema_raises_schema_error():
    with pytest.raises(SchemaError, match="NoSuchEvent"):
        CODEC.encode("NoSuchEvent", {})


@pytest.fixture
def evolved_dir(tmp_path: Path) -> Path:
    """A schema folder whose Bar gained a field (with a default) and whose history holds the old Bar."""
    bar = json.loads((SCHEMA_DIR / "bar.avsc").read_text())
    bar["fields"].insert(-2, {"name": "vwap", "type": ["null", "double"], "default": None})
    (tmp_path / "bar.avsc").write_text(json.dumps(bar))
    (tmp_path / "history").mkdir()
    shutil.copy(SCHEMA_DIR / "bar.avsc", tmp_path / "history" / "Bar.old.avsc")
    return tmp_path


def test_decode_message_of_older_schema_version_fills_new_field_default(evolved_dir):
    old_bar = generated("Bar", 1)[0]
    old_message = CODEC.encode("Bar", old_bar)
    codec = Codec(evolved_dir)

    name, decoded = codec.decode(old_message)

    assert codec.fingerprint("Bar") != CODEC.fingerprint("Bar")
    assert codec.name_of(CODEC.fingerprint("Bar")) == "Bar"
    assert (name, decoded) == ("Bar", {**old_bar, "vwap": None})


def test_decode_message_of_older_version_without_history_is_unknown_fingerprint(evolved_dir):
    codec = Codec(evolved_dir, history_dir=evolved_dir / "nowhere")

    with pytest.raises(DecodeError) as caught:
        codec.decode(CODEC.encode("Bar", generated("Bar", 1)[0]))

    assert caught.value.reason == "unknown-fingerprint"


def test_codec_history_of_unknown_schema_raises_schema_error(evolved_dir):
    shutil.copy(SCHEMA_DIR / "order.avsc", evolved_dir / "history" / "Order.old.avsc")

    with pytest.raises(SchemaError, match="Order"):
        Codec(evolved_dir)


@pytest.mark.parametrize("path", sorted((SCHEMA_DIR / "history").glob("*.avsc")), ids=lambda p: p.name)
def test_shipped_codec_decodes_messages_of_every_stored_version(path):
    old = fastavro.parse_schema(json.loads(path.read_text()), named_schemas={})
    name = path.name.split(".")[0]
    random.seed(path.name)
    records = list(generate_many(old, 20))

    messages = [MARKER + crc64_fingerprint(old) + fastavro_body(old, r) for r in records]

    assert [CODEC.decode(m)[0] for m in messages] == [name] * len(records)


@pytest.mark.parametrize(
    "module", [schemas.codec, schemas.compat, schemas.snapshot], ids=lambda m: m.__name__
)
def test_module_doctests_pass(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)

    assert result.attempted > 0
    assert result.failed == 0
