"""`SyntheticMarket`: a seeded, vectorised generator of correlated bars, trades and quotes.

The model, per bar ``t`` and instrument ``i`` (``dt`` = one bar in years, ``m_t`` the volatility
regime multiplier shared by all instruments):

* log return ``r = (mu_i - sigma_i² m_t² / 2) dt + sigma_i m_t sqrt(dt) z + J``, with ``z`` drawn
  from ``N(0, C)`` through the Cholesky factor of the correlation matrix ``C`` and ``J`` the sum of
  ``N ~ Poisson(lambda dt)`` jumps of log size ``N(mean, std)``;
* ``m_t`` is a two-state Markov chain (low = 1, high = ``high_vol_multiplier``), simulated as
  alternating geometric sojourns;
* open = previous close; high and low are the maximum and minimum of a Brownian bridge from open to
  close (drawn exactly by inverting its distribution), so ``low <= open, close <= high`` always;
* volume = mean volume × U-shaped session profile × regime multiplier × log-normal noise, rounded;
* trades and quotes (optional) sit on a Brownian bridge inside each bar, clipped to ``[low, high]``.

Every random component has its own ``Generator(PCG64)`` stream spawned from ``SeedSequence(seed)``,
so output depends on the seed and config only: not on the chunk size, nor on which of
``bars()/trades()/quotes()`` is asked for. ``ts_init = ts_event + latency_ns``.

Examples
--------
>>> market = SyntheticMarket(SyntheticMarketConfig(instruments=["AAA", "BBB"], bars=3, seed=7))
>>> batch = next(market.bars())
>>> batch.topic, len(batch), batch.strings("instrument").tolist()
('md.bar.1m', 6, ['AAA', 'BBB', 'AAA', 'BBB', 'AAA', 'BBB'])
>>> bool((batch.columns["low"] <= batch.columns["close"]).all())
True
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from connectors.feeds.emit import Progress, produce_batches, write_batches
from connectors.feeds.intervals import bar_topic
from connectors.feeds.sessions import SessionGrid, session_grid
from connectors.feeds.synthetic_config import SyntheticMarketConfig
from schemas.batch import EventBatch

TRADE_TOPIC = "md.trade"
QUOTE_TOPIC = "md.quote"
_STREAMS = (
    "regime",
    "diffusion",
    "jump_count",
    "jump_size",
    "range",
    "volume",
    "trade",
    "quote",
    "quote_size",
)


@dataclass(frozen=True, slots=True)
class _Chunk:
    """Bars of time steps ``[start, stop)`` as ``(steps, instruments)`` arrays."""

    start: int
    stop: int
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    sigma: np.ndarray
    jumps: np.ndarray


@dataclass(frozen=True, slots=True)
class LatentPath:
    """The hidden state behind the bars: regime per step (0 low, 1 high), jump count per bar."""

    regime: np.ndarray
    jump_count: np.ndarray


class SyntheticMarket:
    """A synthetic market defined by a `SyntheticMarketConfig` (see the module docstring).

    Parameters
    ----------
    config
        The config, or a mapping validated with `SyntheticMarketConfig.parse`.
    chunk_steps
        Time steps per yielded batch (each batch holds ``chunk_steps × instruments`` bars).

    Examples
    --------
    >>> market = SyntheticMarket({"instruments": ["X"], "bars": 5, "trades_per_bar": 2})
    >>> [(b.topic, len(b)) for b in market.events()]
    [('md.trade', 10), ('md.bar.1m', 5)]
    """

    def __init__(self, config: SyntheticMarketConfig | Mapping[str, Any], chunk_steps: int = 65_536):
        self.config = (
            config if isinstance(config, SyntheticMarketConfig) else SyntheticMarketConfig.parse(config)
        )
        self.chunk_steps = chunk_steps
        cfg = self.config
        self.grid: SessionGrid = session_grid(cfg.session, cfg.start, cfg.interval_ns, cfg.bars, cfg.end)
        self.names = cfg.instrument_names
        self.bar_topic = bar_topic(cfg.interval_ns)
        # categories are sorted (as EventBatch.from_records makes them); column order follows the config
        self._categories = tuple(sorted(self.names))
        self._codes = np.array([self._categories.index(name) for name in self.names], dtype=np.int32)

    @property
    def steps(self) -> int:
        """Number of bar times (bars per instrument)."""
        return len(self.grid.close_ns)

    @property
    def topics(self) -> list[str]:
        """The topics this market writes to."""
        cfg = self.config
        return (
            [self.bar_topic]
            + [TRADE_TOPIC] * (cfg.trades_per_bar > 0)
            + [QUOTE_TOPIC] * (cfg.quotes_per_bar > 0)
        )

    @property
    def event_count(self) -> int:
        """Total number of events ``events()`` yields."""
        cfg = self.config
        return self.steps * len(self.names) * (1 + cfg.trades_per_bar + cfg.quotes_per_bar)

    def bars(self) -> Iterator[EventBatch]:
        """``Bar`` batches in event-time order, instruments interleaved (config order within a time)."""
        for chunk in self._chunks():
            yield self._bar_batch(chunk)

    def trades(self) -> Iterator[EventBatch]:
        """``Trade`` batches (``trades_per_bar`` per bar, evenly spaced inside it), time-ordered."""
        rng = self._rng("trade")
        for chunk in self._chunks():
            yield self._trade_batch(chunk, rng)

    def quotes(self) -> Iterator[EventBatch]:
        """``Quote`` batches (``quotes_per_bar`` per bar), time-ordered."""
        rng, size_rng = self._rng("quote"), self._rng("quote_size")
        for chunk in self._chunks():
            yield self._quote_batch(chunk, rng, size_rng)

    def events(self) -> Iterator[EventBatch]:
        """Every batch, chunk by chunk: a chunk's quotes, then trades, then bars (each time-ordered).

        Batches of different topics overlap in time; a tape reader or consumer merges by ``ts_event``.
        """
        cfg = self.config
        trade_rng, quote_rng, size_rng = self._rng("trade"), self._rng("quote"), self._rng("quote_size")
        for chunk in self._chunks():
            if cfg.quotes_per_bar:
                yield self._quote_batch(chunk, quote_rng, size_rng)
            if cfg.trades_per_bar:
                yield self._trade_batch(chunk, trade_rng)
            yield self._bar_batch(chunk)

    def latent(self) -> LatentPath:
        """The regime path and per-bar jump counts behind the bars (for diagnostics and tests)."""
        jumps = [chunk.jumps for chunk in self._chunks()]
        return LatentPath(self._regimes(), np.concatenate(jumps) if jumps else np.zeros((0, len(self.names))))

    # -- the model -------------------------------------------------------------------------------

    def _rng(self, stream: str) -> np.random.Generator:
        children = np.random.SeedSequence(self.config.seed).spawn(len(_STREAMS))
        return np.random.Generator(np.random.PCG64(children[_STREAMS.index(stream)]))

    def _regimes(self) -> np.ndarray:
        regimes = self.config.regimes
        if regimes is None:
            return np.zeros(self.steps, dtype=np.int8)
        rng = self._rng("regime")
        expected = 1.0 / regimes.p_low_to_high + 1.0 / regimes.p_high_to_low
        pairs = int(self.steps / expected) + 16
        sojourns: list[np.ndarray] = []
        total = 0
        while total < self.steps:
            low = rng.geometric(regimes.p_low_to_high, pairs)
            high = rng.geometric(regimes.p_high_to_low, pairs)
            sojourns.append(np.column_stack([low, high]).ravel())
            total += int(sojourns[-1].sum())
        lengths = np.concatenate(sojourns)
        states = np.tile(np.array([0, 1], dtype=np.int8), len(lengths) // 2)
        return np.repeat(states, lengths)[: self.steps]

    def _chunks(self) -> Iterator[_Chunk]:
        cfg = self.config
        n = len(self.names)
        dt = 1.0 / self.grid.bars_per_year
        mu = np.array([item.drift for item in cfg.instruments])
        vol = np.array([item.volatility for item in cfg.instruments])
        mean_volume = np.array([item.volume for item in cfg.instruments])
        cholesky = np.linalg.cholesky(cfg.correlation_matrix() + 1e-12 * np.eye(n))
        multiplier = np.array([1.0, cfg.regimes.high_vol_multiplier if cfg.regimes else 1.0])[self._regimes()]
        profile = 1.0 + cfg.volume_u_shape * (2.0 * self.grid.position - 1.0) ** 2
        profile /= profile.mean() if len(profile) else 1.0
        rng = {name: self._rng(name) for name in ("diffusion", "jump_count", "jump_size", "range", "volume")}
        last_log = np.log([item.price for item in cfg.instruments])
        for start in range(0, self.steps, self.chunk_steps):
            stop = min(start + self.chunk_steps, self.steps)
            m = stop - start
            regime = multiplier[start:stop, None]
            sigma = vol[None, :] * regime * np.sqrt(dt)
            z = rng["diffusion"].standard_normal((m, n)) @ cholesky.T
            returns = (mu[None, :] - 0.5 * (vol[None, :] * regime) ** 2) * dt + sigma * z
            jumps = np.zeros((m, n), dtype=np.int64)
            if cfg.jumps is not None:
                jumps = rng["jump_count"].poisson(cfg.jumps.intensity * dt, (m, n))
                size = rng["jump_size"].standard_normal((m, n))
                returns += jumps * cfg.jumps.mean + np.sqrt(jumps) * cfg.jumps.std * size
            log_close = np.cumsum(np.vstack([last_log[None, :], returns]), axis=0)[1:]
            log_open = np.vstack([last_log[None, :], log_close[:-1]])
            last_log = log_close[-1]
            uniform = 1.0 - rng["range"].random((m, n, 2))
            up, down = uniform[..., 0], uniform[..., 1]
            variance = sigma**2
            span = np.sqrt(returns**2 - 2.0 * variance * np.log(up))
            log_high = log_open + 0.5 * (returns + span)
            span = np.sqrt(returns**2 - 2.0 * variance * np.log(down))
            log_low = log_open + 0.5 * (returns - span)
            open_, close = np.exp(log_open), np.exp(log_close)
            high = np.maximum(np.exp(log_high), np.maximum(open_, close))
            low = np.minimum(np.exp(log_low), np.minimum(open_, close))
            noise = rng["volume"].standard_normal((m, n)) * cfg.volume_noise - 0.5 * cfg.volume_noise**2
            volume = np.maximum(
                1.0, np.round(mean_volume * profile[start:stop, None] * regime * np.exp(noise))
            )
            yield _Chunk(start, stop, open_, high, low, close, volume, sigma, jumps)

    # -- batches ---------------------------------------------------------------------------------

    def _times(self, chunk: _Chunk) -> np.ndarray:
        return np.repeat(self.grid.close_ns[chunk.start : chunk.stop], len(self.names))

    def _instrument_column(self, rows: int) -> np.ndarray:
        return np.tile(self._codes, rows // len(self.names))

    def _bar_batch(self, chunk: _Chunk) -> EventBatch:
        ts_event = self._times(chunk)
        columns = {
            "instrument": self._instrument_column(len(ts_event)),
            "interval_ns": np.full(len(ts_event), self.config.interval_ns, dtype=np.int64),
            "open": chunk.open.ravel(),
            "high": chunk.high.ravel(),
            "low": chunk.low.ravel(),
            "close": chunk.close.ravel(),
            "volume": chunk.volume.ravel(),
            "ts_event": ts_event,
            "ts_init": ts_event + self.config.latency_ns,
        }
        return EventBatch("Bar", self.bar_topic, columns, {"instrument": self._categories})

    def _inside(self, chunk: _Chunk, per_bar: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Times (steps, k) and prices (steps, k, instruments) on a bridge from open to close."""
        fraction = np.arange(1, per_bar + 1) / (per_bar + 1)
        close_ns = self.grid.close_ns[chunk.start : chunk.stop]
        interval = self.config.interval_ns
        times = close_ns[:, None] - interval + np.round(fraction * interval).astype(np.int64)[None, :]
        steps = np.cumsum(
            rng.standard_normal((chunk.stop - chunk.start, per_bar + 1, len(self.names))), axis=1
        )
        steps /= np.sqrt(per_bar + 1)
        bridge = steps[:, :-1, :] - fraction[None, :, None] * steps[:, -1:, :]
        log_open, log_close = np.log(chunk.open), np.log(chunk.close)
        level = log_open[:, None, :] + fraction[None, :, None] * (log_close - log_open)[:, None, :]
        prices = np.exp(level + chunk.sigma[:, None, :] * bridge)
        prices = np.clip(prices, chunk.low[:, None, :], chunk.high[:, None, :])
        return times, prices

    def _trade_batch(self, chunk: _Chunk, rng: np.random.Generator) -> EventBatch:
        per_bar = self.config.trades_per_bar
        times, prices = self._inside(chunk, per_bar, rng)
        previous = np.concatenate([chunk.open[:, None, :], prices[:, :-1, :]], axis=1)
        aggressor = np.where(prices >= previous, 1, 2).astype(np.int32)  # codes into ("NONE", "BUY", "SELL")
        size = np.broadcast_to((chunk.volume / per_bar)[:, None, :], prices.shape)
        n = len(self.names)
        sequence = (
            np.arange(chunk.start, chunk.stop)[:, None, None] * per_bar + np.arange(per_bar)[None, :, None]
        )
        instrument = np.broadcast_to(np.asarray(self.names, dtype=object)[None, None, :], prices.shape)
        trade_id = (
            instrument.astype(str).astype(object) + "-" + np.broadcast_to(sequence, prices.shape).astype(str)
        )
        ts_event = np.repeat(times.ravel(), n)
        trade_ids = tuple(trade_id.ravel().tolist())
        columns = {
            "instrument": self._instrument_column(len(ts_event)),
            "price": prices.ravel(),
            "size": size.ravel().copy(),
            "aggressor": aggressor.ravel(),
            "trade_id": np.arange(len(trade_ids), dtype=np.int32),
            "ts_event": ts_event,
            "ts_init": ts_event + self.config.latency_ns,
        }
        categories = {
            "instrument": self._categories,
            "aggressor": ("NONE", "BUY", "SELL"),
            "trade_id": trade_ids,
        }
        return EventBatch("Trade", TRADE_TOPIC, columns, categories)

    def _quote_batch(
        self, chunk: _Chunk, rng: np.random.Generator, size_rng: np.random.Generator
    ) -> EventBatch:
        cfg = self.config
        times, mid = self._inside(chunk, cfg.quotes_per_bar, rng)
        half_spread = 0.5e-4 * cfg.spread_bps * mid
        sizes = 100.0 * size_rng.integers(1, 11, (*mid.shape, 2))
        ts_event = np.repeat(times.ravel(), len(self.names))
        columns = {
            "instrument": self._instrument_column(len(ts_event)),
            "bid": (mid - half_spread).ravel(),
            "ask": (mid + half_spread).ravel(),
            "bid_size": sizes[..., 0].ravel(),
            "ask_size": sizes[..., 1].ravel(),
            "ts_event": ts_event,
            "ts_init": ts_event + cfg.latency_ns,
        }
        return EventBatch("Quote", QUOTE_TOPIC, columns, {"instrument": self._categories})


def write_tape(
    config: SyntheticMarketConfig | Mapping[str, Any],
    path: str | Path,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> int:
    """Generate the market into a new tape archive at ``path``; return the number of events."""
    market = SyntheticMarket(config)
    return write_batches(market.events(), path, market.config.partitions, overwrite, progress)


def produce_to_kafka(
    config: SyntheticMarketConfig | Mapping[str, Any],
    bootstrap: str,
    rate: float | None = None,
    namespace: str = "",
    progress: Progress | None = None,
) -> int:
    """Produce the market to ``namespace + topic`` on ``bootstrap`` (``rate`` events/s, or flat out).

    Returns the number of events delivered; a failed delivery raises `TapeError`.
    """
    market = SyntheticMarket(config)
    return produce_batches(market.events(), bootstrap, rate, namespace, market.config.partitions, progress)
