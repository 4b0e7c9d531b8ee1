"""CSV import: format detection, time zones checked against pandas, one reason per planted bad row."""

from __future__ import annotations

import csv
from datetime import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from connectors.feeds.csv_import import CsvImportConfig, CsvMapping, import_csv, read_csv
from connectors.feeds.validation import REASONS, check_bars
from connectors.tape_archive import TapeReader
from schemas.errors import ConfigError
from tape.commands.import_csv import command as import_command

DATA = Path(__file__).resolve().parent / "data"
YAHOO = DATA / "yahoo_planted.csv"
ALPHA_VANTAGE = DATA / "alphavantage_intraday.csv"
CUSTOM = DATA / "custom_semicolon.csv"
# the fixture's planted rows: line number (header = line 1) → the one reason it must be rejected for
PLANTED = {
    4: "unparseable",
    7: "negative_volume",
    9: "non_positive_price",
    11: "high_below_open_close",
    13: "low_above_open_close",
    15: "low_above_high",
    19: "duplicate_timestamp",
    23: "non_monotonic_time",
    28: "outlier",
}


def _yahoo_frame() -> pd.DataFrame:
    return pd.read_csv(YAHOO, dtype=str, keep_default_na=False)


def test_read_csv_yahoo_planted_rows_rejected_with_their_reasons():
    result = read_csv([YAHOO], CsvImportConfig(instrument="SPY", timezone="America/New_York"))

    assert {r.line: r.reason for r in result.rejects} == PLANTED
    assert set(PLANTED.values()) == set(REASONS)  # the fixture plants one row of every kind
    assert result.summary.rejected == {reason: 1 for reason in PLANTED.values()}
    assert result.summary.accepted == len(_yahoo_frame()) - len(PLANTED)
    assert result.summary.rows == len(_yahoo_frame())


def test_read_csv_yahoo_rejects_keep_the_raw_line():
    lines = YAHOO.read_text().splitlines()
    result = read_csv([YAHOO], CsvImportConfig(instrument="SPY"))

    assert all(r.raw == lines[r.line - 1] for r in result.rejects)
    assert all(r.file == str(YAHOO) for r in result.rejects)


def test_read_csv_yahoo_daily_bar_closes_at_session_close_in_zone():
    config = CsvImportConfig(instrument="SPY", timezone="America/New_York", session_close=time(16, 0))
    result = read_csv([YAHOO], config)

    frame = _yahoo_frame()
    accepted = frame.drop(index=[line - 2 for line in PLANTED])
    expected = pd.to_datetime(accepted["Date"] + " 16:00").dt.tz_localize("America/New_York")
    assert result.batch.columns["ts_event"].tolist() == expected.dt.as_unit("ns").astype("int64").tolist()
    assert result.batch.columns["close"].tolist() == accepted["Close"].astype(float).tolist()
    assert result.batch.topic == "md.bar.1d"
    assert set(result.batch.columns["interval_ns"].tolist()) == {pd.Timedelta(days=1).value}


def test_read_csv_yahoo_gap_reported_not_rejected():
    result = read_csv([YAHOO], CsvImportConfig(instrument="SPY", timezone="America/New_York"))

    ts = result.batch.columns["ts_event"]
    dates = pd.DatetimeIndex(ts, tz="UTC").tz_convert("America/New_York").normalize().tz_localize(None)
    expected = [
        (int(ts[i]), int(ts[i + 1]), len(pd.bdate_range(dates[i], dates[i + 1])) - 2)
        for i in range(len(ts) - 1)
        if len(pd.bdate_range(dates[i], dates[i + 1])) > 2
    ]
    assert [(g.after_ns, g.before_ns, g.missing) for g in result.summary.gaps] == expected
    assert expected  # the fixture has a missing week


def test_read_csv_alpha_vantage_newest_first_intraday_matches_pandas():
    config = CsvImportConfig(instrument="AAPL", timezone="America/New_York")
    result = read_csv([ALPHA_VANTAGE], config)

    frame = pd.read_csv(ALPHA_VANTAGE).iloc[::-1]
    labels = pd.to_datetime(frame["timestamp"]).dt.tz_localize("America/New_York")
    interval = pd.Timedelta(minutes=5)
    assert result.rejects == []
    assert result.summary.interval_ns == interval.value
    assert (
        result.batch.columns["ts_event"].tolist()
        == (labels + interval).dt.as_unit("ns").astype("int64").tolist()
    )
    assert result.batch.columns["open"].tolist() == frame["open"].tolist()
    assert [g.missing for g in result.summary.gaps] == [1]  # the planted missing bar, not the weekend


def test_read_csv_custom_mapping_close_label_matches_pandas():
    mapping = CsvMapping(
        time="Zeit",
        open="Eroeffnung",
        high="Hoch",
        low="Tief",
        close="Schluss",
        volume=None,
        time_format="%d/%m/%Y %H:%M",
        time_label="close",
        delimiter=";",
    )
    result = read_csv([CUSTOM], CsvImportConfig(instrument="DAX", timezone="Europe/Berlin", mapping=mapping))

    frame = pd.read_csv(CUSTOM, sep=";")
    expected = pd.to_datetime(frame["Zeit"], format="%d/%m/%Y %H:%M").dt.tz_localize("Europe/Berlin")
    assert result.batch.columns["ts_event"].tolist() == expected.dt.as_unit("ns").astype("int64").tolist()
    assert result.summary.interval_ns == pd.Timedelta(hours=1).value
    assert result.batch.columns["volume"].tolist() == [0.0] * len(frame)


def test_read_csv_unknown_header_without_mapping_raises_config_error(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("when,price\n2024-01-02,1\n")

    with pytest.raises(ConfigError, match="mapping"):
        read_csv([path], CsvImportConfig(instrument="X"))


def test_csv_import_config_bad_timezone_names_the_field():
    with pytest.raises(ConfigError, match="timezone"):
        CsvImportConfig.parse(instrument="X", timezone="Mars/Olympus")


def test_import_csv_writes_tape_and_rejects_file(tmp_path):
    rejects = tmp_path / "rejects.csv"
    summary = import_csv(
        [YAHOO], CsvImportConfig(instrument="SPY"), out=tmp_path / "tape", rejects_path=rejects
    )

    with rejects.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {int(row["line"]): row["reason"] for row in rows} == PLANTED
    events = list(TapeReader(tmp_path / "tape").events())
    assert len(events) == summary.accepted
    assert {raw.key for raw, _, _ in events} == {b"SPY"}
    assert all(record["instrument"] == "SPY" and name == "Bar" for _, name, record in events)


def test_import_csv_cli_prints_summary_and_writes_tape(tmp_path):
    out = tmp_path / "tape"
    result = CliRunner().invoke(
        import_command,
        [str(ALPHA_VANTAGE), "--instrument", "AAPL", "--out", str(out), "--tz", "America/New_York"],
    )

    assert result.exit_code == 0, result.output
    assert "23 accepted, 0 rejected" in result.output
    ts = np.array([record["ts_event"] for _, _, record in TapeReader(out).events()])
    assert len(ts) == 23 and np.all(np.diff(ts) > 0)


def test_import_csv_cli_bad_timezone_exits_nonzero(tmp_path):
    result = CliRunner().invoke(
        import_command, [str(YAHOO), "--out", str(tmp_path / "t"), "--tz", "Nowhere/X"]
    )

    assert result.exit_code != 0
    assert "timezone" in result.output


def test_check_bars_level_shift_is_not_an_outlier_but_a_spike_is():
    rng = np.random.default_rng(3)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 60)))
    close[30:] *= 0.5  # a genuine level shift (e.g. a split): every later row stays accepted
    close[45] *= 3.0  # a lone spike
    reasons = check_bars(close, close, close, close, np.ones(60), np.arange(60))

    assert np.flatnonzero(reasons != None).tolist() == [45]  # noqa: E711
    assert reasons[45] == "outlier"
