"""Synthetic market: determinism, OHLC consistency, and its statistics checked with SciPy."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from confluent_kafka import Consumer, TopicPartition
from scipy import stats

from connectors.feeds.synthetic import SyntheticMarket, SyntheticMarketConfig, produce_to_kafka, write_tape
from connectors.kafka.clients import consumer_config
from connectors.partitioning import partition_for
from connectors.tape_archive import TapeReader
from schemas.codec import CODEC
from schemas.errors import ConfigError
from tape.commands.generate import command as generate_command

REPO = Path(__file__).resolve().parents[2]
ALPHA = 1e-3  # every statistical check: fail only if the data is this unlikely under the model


def _records(market: SyntheticMarket) -> list[tuple[str, dict]]:
    return [(batch.topic, record) for batch in market.events() for record in batch.to_records()]


def _bars(market: SyntheticMarket) -> pd.DataFrame:
    frames = [pd.DataFrame(batch.to_records()) for batch in market.bars()]
    return pd.concat(frames, ignore_index=True)


def _log_returns(market: SyntheticMarket) -> np.ndarray:
    """(steps, instruments) close-to-close log returns, the first from the starting price."""
    closes = np.concatenate([b.columns["close"].reshape(-1, len(market.names)) for b in market.bars()])
    start = np.log([item.price for item in market.config.instruments])
    return np.diff(np.vstack([start, np.log(closes)]), axis=0)


def test_events_same_seed_identical_bytes_other_seed_differs():
    config = {
        "instruments": ["A", "B"],
        "bars": 500,
        "regimes": {},
        "jumps": {},
        "trades_per_bar": 2,
        "quotes_per_bar": 1,
        "seed": 42,
    }

    def encoded(seed: int) -> list[bytes]:
        market = SyntheticMarket({**config, "seed": seed})
        return [CODEC.encode(batch.schema, r) for batch in market.events() for r in batch.to_records()]

    assert encoded(42) == encoded(42)
    assert encoded(42) != encoded(43)


def test_bars_chunk_size_does_not_change_output():
    config = {"instruments": ["A", "B", "C"], "bars": 1000, "correlation": 0.3, "regimes": {}, "jumps": {}}

    small = _bars(SyntheticMarket(config, chunk_steps=7))
    large = _bars(SyntheticMarket(config, chunk_steps=4096))

    pd.testing.assert_frame_equal(small, large, check_exact=True)


def test_bars_ohlc_consistent_and_open_is_previous_close():
    market = SyntheticMarket(
        {
            "instruments": [{"name": "A", "volatility": 0.9}, {"name": "B", "volatility": 0.05}],
            "bars": 5000,
            "regimes": {"high_vol_multiplier": 4.0},
            "jumps": {"intensity": 2000.0, "std": 0.05},
        }
    )
    bars = _bars(market)

    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    assert (bars["low"] > 0).all() and (bars["volume"] >= 1).all()
    for _, group in bars.groupby("instrument"):
        assert np.array_equal(group["open"].to_numpy()[1:], group["close"].to_numpy()[:-1])
        assert (np.diff(group["ts_event"].to_numpy()) == market.config.interval_ns).all()
    assert (bars["ts_init"] - bars["ts_event"] == market.config.latency_ns).all()


def test_log_returns_correlation_matches_configured_matrix():
    matrix = [[1.0, 0.8, -0.3], [0.8, 1.0, 0.1], [-0.3, 0.1, 1.0]]
    market = SyntheticMarket(
        {"instruments": ["A", "B", "C"], "bars": 20_000, "correlation": matrix, "seed": 1}
    )
    returns = _log_returns(market)

    for i, j in [(0, 1), (0, 2), (1, 2)]:
        interval = stats.pearsonr(returns[:, i], returns[:, j]).confidence_interval(1 - ALPHA)
        assert interval.low <= matrix[i][j] <= interval.high


def test_regime_volatility_ratio_matches_multiplier():
    multiplier = 3.0
    market = SyntheticMarket(
        {
            "instruments": ["A"],
            "bars": 40_000,
            "seed": 2,
            "regimes": {"high_vol_multiplier": multiplier, "p_low_to_high": 0.002, "p_high_to_low": 0.004},
        }
    )
    returns = _log_returns(market)[:, 0]
    regime = market.latent().regime
    high, low = returns[regime == 1], returns[regime == 0]

    # variance ratio / multiplier² ~ F(n_high - 1, n_low - 1): the multiplier must lie in its CI
    ratio = high.var(ddof=1) / low.var(ddof=1)
    f_low, f_high = stats.f.ppf([ALPHA / 2, 1 - ALPHA / 2], len(high) - 1, len(low) - 1)
    assert ratio / f_high <= multiplier**2 <= ratio / f_low
    assert stats.levene(high, low).pvalue < ALPHA
    # and the regime sojourns are geometric with the configured exit probability
    runs = np.diff(np.flatnonzero(np.diff(np.r_[-1, regime, -1]) != 0))
    high_runs = runs[1::2] if regime[0] == 0 else runs[0::2]
    assert stats.ttest_1samp(high_runs, 1 / 0.004).pvalue > ALPHA


def test_jump_count_matches_poisson_and_jumps_show_in_returns():
    intensity = 5_000.0  # jumps per year per instrument
    market = SyntheticMarket(
        {
            "instruments": [{"name": "A", "volatility": 0.1}, {"name": "B", "volatility": 0.1}],
            "bars": 30_000,
            "seed": 3,
            "jumps": {"intensity": intensity, "mean": 0.2, "std": 0.01},
        }
    )
    counts = market.latent().jump_count
    expected = intensity / market.grid.bars_per_year * counts.size

    total = int(counts.sum())
    p_value = 2 * min(stats.poisson.cdf(total, expected), stats.poisson.sf(total - 1, expected))
    assert p_value > ALPHA
    # jumps of ~0.2 dwarf one-minute diffusion: the bars with a big return are exactly the jump bars
    assert np.array_equal(np.abs(_log_returns(market)) > 0.1, counts > 0)


def test_volume_profile_is_u_shaped_over_the_session():
    market = SyntheticMarket(
        {
            "instruments": ["A", "B"],
            "bars": 390 * 30,
            "seed": 4,
            "session": {"kind": "exchange", "timezone": "America/New_York"},
        }
    )
    bars = _bars(market)
    local = pd.DatetimeIndex(bars["ts_event"], tz="UTC").tz_convert("America/New_York")
    minute = (local.hour * 60 + local.minute).to_numpy() - (9 * 60 + 30)  # minutes after the open, at close

    opening, midday, closing = (
        bars["volume"][(minute > a) & (minute <= b)] for a, b in [(0, 30), (180, 210), (360, 390)]
    )
    assert stats.mannwhitneyu(opening, midday, alternative="greater").pvalue < ALPHA
    assert stats.mannwhitneyu(closing, midday, alternative="greater").pvalue < ALPHA


def test_exchange_session_bars_match_pandas_calendar():
    holiday = "2024-03-15"
    market = SyntheticMarket(
        {
            "instruments": ["A"],
            "interval": "30m",
            "start": "2024-03-07T00:00:00Z",
            "end": "2024-03-20T00:00:00Z",
            "session": {"kind": "exchange", "timezone": "America/New_York", "holidays": [holiday]},
        }
    )

    days = pd.bdate_range("2024-03-07", "2024-03-19").drop(pd.Timestamp(holiday))
    closes = [
        pd.Timestamp(f"{day:%Y-%m-%d} 09:30", tz="America/New_York") + pd.Timedelta(minutes=30 * k)
        for day in days
        for k in range(1, 14)
    ]
    expected = [t.tz_convert("UTC").value for t in closes]
    assert market.grid.close_ns.tolist() == expected  # the DST switch on 2024-03-10 included


def test_trades_and_quotes_lie_inside_their_bar():
    market = SyntheticMarket(
        {
            "instruments": ["A", "B"],
            "bars": 300,
            "trades_per_bar": 4,
            "quotes_per_bar": 3,
            "jumps": {"intensity": 3000.0},
        }
    )
    bars = _bars(market).set_index(["instrument", "ts_event"])
    interval = market.config.interval_ns

    for batch in [*market.trades(), *market.quotes()]:
        frame = pd.DataFrame(batch.to_records())
        close_time = (frame["ts_event"] - 1) // interval * interval + interval
        bar = bars.loc[list(zip(frame["instrument"], close_time, strict=True))]
        low, high = ("price", "price") if batch.schema == "Trade" else ("bid", "ask")
        assert (frame[low].to_numpy() >= bar["low"].to_numpy() * (1 - 1e-3)).all()
        assert (frame[high].to_numpy() <= bar["high"].to_numpy() * (1 + 1e-3)).all()
        assert np.all(np.diff(frame["ts_event"].to_numpy()) >= 0)
    trades = pd.concat([pd.DataFrame(b.to_records()) for b in market.trades()])
    assert trades["trade_id"].is_unique and set(trades["aggressor"]) == {"BUY", "SELL"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"correlation": [[1.0, 0.9], [0.2, 1.0]]}, "correlation"),
        ({"interval": "1 fortnight"}, "interval"),
        ({"instruments": ["A", "A"]}, "instruments"),
        ({"regimes": {"p_low_to_high": 1.5}}, "regimes.p_low_to_high"),
        ({"bars": None}, "bars/end"),
    ],
)
def test_config_bad_value_raises_config_error_naming_field(change, field):
    with pytest.raises(ConfigError, match=field):
        SyntheticMarketConfig.parse({"instruments": ["A", "B"], "bars": 10} | change)


def test_write_tape_round_trip_equals_generated_events(tmp_path):
    config = {"instruments": ["A", "B", "C"], "bars": 200, "trades_per_bar": 1, "partitions": 2, "seed": 9}
    count = write_tape(config, tmp_path / "tape")

    reader = TapeReader(tmp_path / "tape")
    events = list(reader.events())
    assert count == len(events) == SyntheticMarket(config).event_count
    key = lambda item: (item[0], item[1]["ts_event"], item[1]["instrument"])  # noqa: E731
    assert sorted(((raw.topic, record) for raw, _, record in events), key=key) == sorted(
        _records(SyntheticMarket(config)), key=key
    )
    assert all(raw.partition == partition_for(raw.key, 2) for raw, _, _ in events)


def test_generate_cli_writes_tape(tmp_path):
    out = tmp_path / "tape"
    result = CliRunner().invoke(
        generate_command,
        ["--out", str(out), "--instruments", "X,Y", "--bars", "50", "--interval", "5m", "--seed", "7"],
    )

    assert result.exit_code == 0, result.output
    assert TapeReader(out).count() == 100
    assert TapeReader(out).topics == ["md.bar.5m"]


def test_sample_tape_matches_its_script(tmp_path):
    spec = importlib.util.spec_from_file_location("make_sample", REPO / "samples" / "make_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    write_tape(module.SAMPLE_CONFIG, tmp_path / "sample")

    shipped, fresh = TapeReader(REPO / "samples" / "sample-1m"), TapeReader(tmp_path / "sample")
    shipped.verify()
    assert list(shipped.records()) == list(fresh.records())  # same keys, values, offsets, timestamps
    assert (
        sum(p.stat().st_size for p in (REPO / "samples" / "sample-1m").rglob("*") if p.is_file()) < 5_000_000
    )


def test_produce_to_kafka_delivers_every_event_keyed_by_instrument(kafka_bootstrap):
    namespace = f"t{uuid.uuid4().hex[:8]}."
    config = {"instruments": ["A", "B", "C"], "bars": 100, "partitions": 3, "quotes_per_bar": 1, "seed": 5}
    delivered = produce_to_kafka(config, kafka_bootstrap, rate=20_000, namespace=namespace)  # paced path

    expected = _records(SyntheticMarket(config))
    consumer = Consumer(consumer_config(kafka_bootstrap, group_id=namespace))
    received = []
    try:
        for topic in ("md.bar.1m", "md.quote"):
            consumer.assign([TopicPartition(namespace + topic, p, 0) for p in range(3)])
            eof = set()
            while len(eof) < 3:
                message = consumer.poll(10)
                assert message is not None, f"no message from {namespace + topic} within 10 s"
                if message.error():
                    eof.add(message.partition())
                    continue
                name, record = CODEC.decode(message.value())
                assert message.key() == record["instrument"].encode()
                assert message.partition() == partition_for(message.key(), 3)
                received.append((topic, record))
    finally:
        consumer.close()
    key = lambda item: (item[0], item[1]["ts_event"], item[1]["instrument"])  # noqa: E731
    assert delivered == len(expected)
    assert sorted(received, key=key) == sorted(expected, key=key)
