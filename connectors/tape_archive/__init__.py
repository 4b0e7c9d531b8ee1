"""Tape archives: recorded Kafka topics on disk, faithful and fast to replay.

A tape archive is a directory::

    manifest.json                         format version, created_at, content_hash, and per topic the
                                          partition_count and per partition: offset range, count,
                                          first/last ts_event, schemas seen (name, fingerprint, count),
                                          undecodable count, columnar schemas, sha256 of every file
    log/<topic>/<partition>.avro          THE TRUTH: an Avro object container file (deflate) of envelope
                                          records {offset, timestamp_ms, key, value, headers}, one per
                                          Kafka record in offset order, bytes exactly as Kafka held them
    columns/<topic>/<partition>/          a cache, rebuildable from the log (`TapeReader.rebuild_columns`):
        offset.npy timestamp_ms.npy ts_event.npy schema.npy   one entry per record (int64, int16 code)
        key.bin key_end.npy key_null.npy value.bin value_end.npy value_null.npy   raw bytes, mmap-able
        meta.json                         schema names of the codes, categories, headers by row, whether
                                          ts_event never decreases, undecodable count (not scanned for)
        <Schema>/<field>.npy              columns of a columnar schema (primitives, enums, strings as
                                          int32 codes into sorted categories, nullable doubles as NaN)

Everything is read memory-mapped, so memory stays bounded. Readers merge partitions
and topics in event-time order (``ts_event``, then topic, partition, offset) with a chunked k-way merge.
Undecodable values are kept in the log and cache, counted per partition in the manifest, yielded by
``records()`` (event time = ``timestamp_ms * 1e6``) and skipped, but counted, by ``events()`` and
``batches()``. ``content_hash`` covers the log files only; ``verify()`` checks every file's hash.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from connectors.tape_archive import TapeReader, TapeWriter
>>> from connectors.records import RawRecord
>>> path = Path(tempfile.mkdtemp()) / "tape"
>>> with TapeWriter(path) as w:
...     w.append(RawRecord("raw", 0, 7, 1_000, b"k", b"not avro", (("h", b"v"),)))
>>> r = TapeReader(path)
>>> [(x.coordinates, x.key, x.value, x.headers) for x in r.records()]
[('raw/0@7', b'k', b'not avro', (('h', b'v'),))]
>>> list(r.events()), r.skipped, r.undecodable()
([], 1, 1)
"""

from connectors.tape_archive.reader import TapeReader
from connectors.tape_archive.writer import TapeWriter

__all__ = ["TapeReader", "TapeWriter"]
