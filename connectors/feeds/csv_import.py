"""OHLCV CSV files → validated ``Bar`` events, a rejects CSV and a summary.

Formats
    Yahoo Finance (``Date,Open,High,Low,Close,Adj Close,Volume``; ``Adj Close`` is ignored, bars
    keep the traded prices) and Alpha Vantage (``timestamp,open,high,low,close,volume``) are
    recognised from the header (case-insensitively); anything else needs a `CsvMapping`.
Time
    Naive timestamps are local times in ``timezone`` (zoneinfo; in a DST fold the first occurrence);
    timestamps with a UTC offset are taken as they are. A **daily** row (a date without a time) is
    a bar that closes at ``session_close`` on that date in ``timezone``: ``ts_event`` = that
    instant (e.g. 16:00 America/New_York). An **intraday** row's timestamp labels the bar's open by
    default (``time_label="open"``: ``ts_event`` = timestamp + interval); ``time_label="close"``
    takes it as the close. The interval is given or inferred (the most common step between rows).
    ``ts_init = ts_event + import_offset_ns`` (0 by default: the import adds no latency).
Validation
    `connectors.feeds.validation.check_bars` (one reason per rejected row) and ``find_gaps``
    (warnings only). Rejected rows go to a rejects CSV: ``file, line, reason, detail, raw``, with
    the original 1-based line number (the header is line 1) and the raw line. Several files are
    read as one series in the order given; a file whose rows run newest first (Alpha Vantage's
    order) is read bottom-up.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "spy.csv"
>>> _ = path.write_text("timestamp,open,high,low,close,volume\\n"
...                     "2024-01-02,10,11,9,10.5,100\\n2024-01-03,10.5,10,10,10.2,100\\n")
>>> result = read_csv([path], CsvImportConfig(instrument="SPY", timezone="America/New_York"))
>>> result.summary.accepted, result.summary.rejected, result.rejects[0].reason
(1, {'high_below_open_close': 1}, 'high_below_open_close')
>>> str(result.batch.columns["ts_event"].astype("datetime64[ns]")[0])
'2024-01-02T21:00:00.000000000'
"""

from __future__ import annotations

import csv
import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connectors.feeds.emit import Progress, produce_batches, write_batches
from connectors.feeds.intervals import UNIT_NS, bar_topic, format_interval, parse_interval
from connectors.feeds.sessions import EPOCH
from connectors.feeds.synthetic_config import SessionConfig
from connectors.feeds.validation import Gap, check_bars, find_gaps
from schemas.batch import EventBatch
from schemas.errors import ConfigError, config_error

logger = logging.getLogger(__name__)
DAY_NS = UNIT_NS["d"]
_TIME_COLUMNS = ("date", "timestamp", "datetime", "time")
_MICROSECOND = timedelta(microseconds=1)


class CsvMapping(BaseModel):
    """Which CSV column holds which bar field, and how to read the time column.

    ``time_format`` is a ``strptime`` format; ``None`` reads ISO 8601 (a date, or a date and time
    with an optional UTC offset). ``volume`` may be ``None`` (volume 0).

    Examples
    --------
    >>> CsvMapping.yahoo().time, CsvMapping.alpha_vantage().volume
    ('Date', 'volume')
    >>> CsvMapping.detect(["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"]).close
    'Close'
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    time: str
    open: str
    high: str
    low: str
    close: str
    volume: str | None = None
    time_format: str | None = None
    time_label: Literal["open", "close"] = "open"
    delimiter: str = Field(default=",", min_length=1, max_length=1)

    @classmethod
    def yahoo(cls) -> CsvMapping:
        """Yahoo Finance downloads: ``Date,Open,High,Low,Close,Adj Close,Volume``."""
        return cls(time="Date", open="Open", high="High", low="Low", close="Close", volume="Volume")

    @classmethod
    def alpha_vantage(cls) -> CsvMapping:
        """Alpha Vantage CSV: ``timestamp,open,high,low,close,volume``."""
        return cls(time="timestamp", open="open", high="high", low="low", close="close", volume="volume")

    @classmethod
    def detect(cls, header: Sequence[str]) -> CsvMapping:
        """The mapping for a Yahoo- or Alpha Vantage-style header (any letter case)."""
        by_lower = {name.strip().lower(): name.strip() for name in header}
        time_column = next((by_lower[name] for name in _TIME_COLUMNS if name in by_lower), None)
        missing = [name for name in ("open", "high", "low", "close", "volume") if name not in by_lower]
        if time_column is None or missing:
            raise ConfigError(
                f"mapping: cannot recognise CSV header {list(header)} as Yahoo (Date,Open,High,Low,Close,"
                "Adj Close,Volume) or Alpha Vantage (timestamp,open,high,low,close,volume); give a CsvMapping"
            )
        return cls(
            time=time_column, **{name: by_lower[name] for name in ("open", "high", "low", "close", "volume")}
        )


class CsvImportConfig(BaseModel):
    """How to read one instrument's CSV files (see the module docstring for the time rules).

    Examples
    --------
    >>> CsvImportConfig(instrument="SPY", timezone="America/New_York").session_close
    datetime.time(16, 0)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    instrument: str = Field(min_length=1, pattern=r"^\S+$")
    timezone: str = "UTC"
    interval: str | None = None
    session_close: time = time(16, 0)
    import_offset_ns: int = Field(default=0, ge=0)
    outlier_k: float = Field(default=10.0, gt=0)
    outlier_window: int = Field(default=7, ge=3)
    mapping: CsvMapping | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return SessionConfig(timezone=value).timezone

    @field_validator("interval")
    @classmethod
    def _valid_interval(cls, value: str | None) -> str | None:
        if value is not None:
            parse_interval(value)
        return value

    @classmethod
    def parse(cls, **values: object) -> CsvImportConfig:
        """Validate keyword values; a bad one raises `ConfigError` naming the field."""
        try:
            return cls(**values)
        except ValidationError as e:
            raise config_error("invalid CSV import config", e) from e


@dataclass(frozen=True, slots=True)
class Reject:
    """A rejected CSV row: where it was, why, and the raw text."""

    file: str
    line: int
    reason: str
    detail: str
    raw: str


@dataclass(slots=True)
class ImportSummary:
    """Counts by outcome, the gaps found, and where the accepted bars went.

    Examples
    --------
    >>> print(ImportSummary("SPY", ["a.csv"], DAY_NS, rows=3, accepted=2, rejected={"outlier": 1}))
    SPY: 3 rows from 1 file(s), interval 1d → 2 accepted, 1 rejected
      rejected outlier: 1
    """

    instrument: str
    files: list[str]
    interval_ns: int
    rows: int = 0
    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    gaps: list[Gap] = field(default_factory=list)
    first_ts: int | None = None
    last_ts: int | None = None
    rejects_path: str | None = None
    destination: str | None = None

    def __str__(self) -> str:
        lines = [
            f"{self.instrument}: {self.rows} rows from {len(self.files)} file(s), interval "
            f"{format_interval(self.interval_ns)} → {self.accepted} accepted, "
            f"{sum(self.rejected.values())} rejected"
        ]
        lines += [f"  rejected {reason}: {count}" for reason, count in sorted(self.rejected.items())]
        if self.gaps:
            missing = sum(gap.missing for gap in self.gaps)
            lines.append(
                f"  warning: {len(self.gaps)} gap(s), about {missing} missing bar(s); first after "
                f"{_iso(self.gaps[0].after_ns)}"
            )
        if self.first_ts is not None and self.last_ts is not None:
            lines.append(f"  bars close from {_iso(self.first_ts)} to {_iso(self.last_ts)}")
        if self.rejects_path:
            lines.append(f"  rejects: {self.rejects_path}")
        if self.destination:
            lines.append(f"  written to: {self.destination}")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class ImportResult:
    """Accepted bars (``None`` if none), rejected rows and the summary."""

    batch: EventBatch | None
    rejects: list[Reject]
    summary: ImportSummary


@dataclass(slots=True)
class _Rows:
    """Parsed rows of every file, before validation."""

    file: list[str] = field(default_factory=list)
    line: list[int] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    values: list[tuple[float, float, float, float, float]] = field(default_factory=list)
    stamp: list[int] = field(default_factory=list)  # ns UTC of the time label; daily: the session close
    daily: list[bool] = field(default_factory=list)
    error: list[str | None] = field(default_factory=list)


def read_csv(paths: Sequence[str | Path], config: CsvImportConfig) -> ImportResult:
    """Parse and validate the files (no output written)."""
    rows = _Rows()
    for path in paths:
        _parse_file(Path(path), config, rows)
    count = len(rows.line)
    values = np.array(rows.values, dtype=float).reshape(count, 5)
    stamps = np.array(rows.stamp, dtype=np.int64)
    daily = np.array(rows.daily, dtype=bool)
    errors = np.array([e is not None for e in rows.error], dtype=bool)
    interval_ns = _interval(config, stamps[~errors], daily[~errors])
    mapping_label = config.mapping.time_label if config.mapping is not None else "open"
    shift = 0 if mapping_label == "close" else interval_ns
    ts_event = np.where(daily, stamps, stamps + shift)
    reasons = check_bars(*values.T, ts_event, errors, config.outlier_k, config.outlier_window)
    accepted = reasons == None  # noqa: E711
    rejects = [
        Reject(
            rows.file[i],
            rows.line[i],
            reasons[i],
            rows.error[i] or _detail(reasons[i], values[i], ts_event[i]),
            rows.raw[i],
        )
        for i in np.flatnonzero(~accepted)
    ]
    good = ts_event[accepted]
    summary = ImportSummary(
        config.instrument,
        [str(p) for p in paths],
        interval_ns,
        rows=count,
        accepted=int(accepted.sum()),
        rejected=dict(Counter(r.reason for r in rejects)),
        gaps=find_gaps(good, interval_ns, config.timezone, daily=interval_ns == DAY_NS and bool(daily.any())),
        first_ts=int(good[0]) if len(good) else None,
        last_ts=int(good[-1]) if len(good) else None,
    )
    batch = None
    if len(good):
        columns = {
            "instrument": np.zeros(len(good), dtype=np.int32),
            "interval_ns": np.full(len(good), interval_ns, dtype=np.int64),
            **{
                name: values[accepted, i].copy()
                for i, name in enumerate(("open", "high", "low", "close", "volume"))
            },
            "ts_event": good,
            "ts_init": good + config.import_offset_ns,
        }
        batch = EventBatch("Bar", bar_topic(interval_ns), columns, {"instrument": (config.instrument,)})
    return ImportResult(batch, rejects, summary)


def import_csv(
    paths: Sequence[str | Path],
    config: CsvImportConfig,
    out: str | Path | None = None,
    bootstrap: str | None = None,
    rejects_path: str | Path | None = None,
    namespace: str = "",
    overwrite: bool = False,
    progress: Progress | None = None,
) -> ImportSummary:
    """Read, validate and send accepted bars to a tape (``out``) and/or Kafka (``bootstrap``).

    Rejected rows are written to ``rejects_path`` (default: ``<first file>.rejects.csv`` when any
    row is rejected). Returns the summary, which is also logged.
    """
    if out is None and bootstrap is None:
        raise ConfigError("out/bootstrap: give a tape directory, a Kafka bootstrap, or both")
    result = read_csv(paths, config)
    summary = result.summary
    if result.rejects:
        target = Path(rejects_path) if rejects_path is not None else Path(f"{paths[0]}.rejects.csv")
        write_rejects(result.rejects, target)
        summary.rejects_path = str(target)
    batches = [result.batch] if result.batch is not None else []
    destinations = []
    if out is not None:
        write_batches(batches, out, overwrite=overwrite, progress=progress)
        destinations.append(str(out))
    if bootstrap is not None:
        produce_batches(batches, bootstrap, namespace=namespace, progress=progress)
        destinations.append(f"kafka {bootstrap} {namespace}{bar_topic(summary.interval_ns)}")
    summary.destination = ", ".join(destinations)
    logger.info("csv import: %s", str(summary).replace("\n", "; "))
    return summary


def write_rejects(rejects: Sequence[Reject], path: str | Path) -> None:
    """Write rejected rows as CSV: ``file, line, reason, detail, raw``."""
    with Path(path).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "line", "reason", "detail", "raw"])
        writer.writerows([r.file, r.line, r.reason, r.detail, r.raw] for r in rejects)


def _parse_file(path: Path, config: CsvImportConfig, rows: _Rows) -> None:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as e:
        raise ConfigError(f"paths: cannot read CSV file {path}: {e}") from e
    numbered = [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
    if not numbered:
        raise ConfigError(f"paths: CSV file {path} is empty")
    delimiter = config.mapping.delimiter if config.mapping is not None else ","
    header = next(csv.reader([numbered[0][1]], delimiter=delimiter))
    mapping = config.mapping or CsvMapping.detect(header)
    names = [name.strip() for name in header]
    wanted = [mapping.time, mapping.open, mapping.high, mapping.low, mapping.close]
    absent = [name for name in [*wanted, mapping.volume] if name is not None and name not in names]
    if absent:
        raise ConfigError(f"mapping: columns {absent} are not in the header of {path}: {names}")
    index = [names.index(name) for name in wanted]
    volume_index = None if mapping.volume is None else names.index(mapping.volume)
    zone = ZoneInfo(config.timezone)
    first = len(rows.line)
    for number, line in numbered[1:]:
        fields = next(csv.reader([line], delimiter=delimiter))
        stamp, daily, values, error = 0, False, (math.nan,) * 5, None
        if len(fields) != len(names):
            error = f"expected {len(names)} fields, found {len(fields)}"
        else:
            try:
                stamp, daily = _parse_time(
                    fields[index[0]].strip(), mapping.time_format, zone, config.session_close
                )
                numbers = [_number(fields[i], name) for i, name in zip(index[1:], wanted[1:], strict=True)]
                volume = 0.0 if volume_index is None else _number(fields[volume_index], mapping.volume or "")
                values = (*numbers, volume)
            except ValueError as e:
                error = str(e)
        rows.file.append(str(path))
        rows.line.append(number)
        rows.raw.append(line)
        rows.values.append(values)
        rows.stamp.append(stamp)
        rows.daily.append(daily)
        rows.error.append(error)
    _newest_last(rows, first)


def _newest_last(rows: _Rows, first: int) -> None:
    """Reverse the rows of a file from ``first`` on if they run newest first (as Alpha Vantage's do)."""
    stamps = np.array([s for s, e in zip(rows.stamp[first:], rows.error[first:], strict=True) if e is None])
    steps = np.diff(stamps)
    if (steps < 0).sum() > (steps > 0).sum():
        for column in (rows.file, rows.line, rows.raw, rows.values, rows.stamp, rows.daily, rows.error):
            column[first:] = column[first:][::-1]


def _number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{name}={text!r} is not a finite number")
    return value


def _parse_time(text: str, time_format: str | None, zone: ZoneInfo, session_close: time) -> tuple[int, bool]:
    """The UTC ns of a time label, and whether it was a date (daily bar closing at ``session_close``)."""
    try:
        if time_format is not None:
            moment = datetime.strptime(text, time_format)
            daily = not any(code in time_format for code in ("%H", "%I", "%M", "%S", "%s"))
        elif len(text) == 10:
            moment, daily = datetime.combine(date.fromisoformat(text), time()), True
        else:
            moment, daily = datetime.fromisoformat(text), False
    except ValueError:
        raise ValueError(f"time={text!r} is not a date or date-time") from None
    if daily:
        moment = datetime.combine(moment.date(), session_close)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return (moment - EPOCH) // _MICROSECOND * 1_000, daily


def _interval(config: CsvImportConfig, stamps: np.ndarray, daily: np.ndarray) -> int:
    if config.interval is not None:
        return parse_interval(config.interval)
    if len(daily) and daily.all():
        return DAY_NS
    steps = np.diff(np.unique(stamps))
    if len(steps) == 0:
        raise ConfigError("interval: cannot infer the bar interval from fewer than two timestamps; give it")
    values, counts = np.unique(steps, return_counts=True)
    return int(values[np.argmax(counts)])


def _detail(reason: str, values: np.ndarray, ts_event: int) -> str:
    open_, high, low, close, volume = values.tolist()
    if reason in ("duplicate_timestamp", "non_monotonic_time"):
        return f"ts_event {_iso(ts_event)}"
    if reason == "negative_volume":
        return f"volume={volume}"
    return f"open={open_} high={high} low={low} close={close}"


def _iso(ns: int) -> str:
    return str(np.datetime64(int(ns), "ns")) + "Z"
