"""Run one peer backtester on the benchmark bars; print one JSON line per run (seconds, round trips).

Runs inside the peers virtualenv (``bench/out/peers-venv``), never with the project's interpreter:

    bench/out/peers-venv/bin/python bench/peers/peer_run.py backtrader bench/out/peers/bars-1000000.parquet

The workload is the issue's: EMA(10)/EMA(30) long/flat crossover, 100 units, no costs, signal on a
bar's close. A round trip is a long position opened and closed (an exit: a filled SELL). Timing covers the backtest itself (building
the engine, indicators, the run), not the interpreter start, imports or reading the Parquet file;
vectorbt's numba functions are compiled by a warm-up run on the first 10k bars first.
"""

from __future__ import annotations

import json
import sys
import time
from decimal import Decimal

import numpy as np
import pandas as pd
from scipy.signal import lfilter

FAST, SLOW, QUANTITY = 10, 30, 100


def ema(values: np.ndarray, period: int) -> np.ndarray:
    """TA-Lib's EMA (seeded with the SMA of the first ``period`` values; NaN before)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full(len(values), np.nan)
    if len(values) < period:
        return out
    alpha = 2.0 / (period + 1)
    seed = values[:period].mean()
    out[period - 1] = seed
    out[period:], _ = lfilter([alpha], [1.0, alpha - 1.0], values[period:], zi=[(1.0 - alpha) * seed])
    return out


def run_backtesting(bars: pd.DataFrame) -> int:
    from backtesting import Backtest, Strategy

    class EmaCross(Strategy):
        def init(self):
            self.fast = self.I(ema, self.data.Close, FAST)
            self.slow = self.I(ema, self.data.Close, SLOW)

        def next(self):
            if self.fast[-1] > self.slow[-1]:
                if not self.position:
                    self.buy(size=QUANTITY)
            elif self.position:
                self.position.close()

    data = bars.rename(columns=str.capitalize)
    stats = Backtest(data, EmaCross, cash=1e12, commission=0.0, finalize_trades=False).run()
    return len(stats._trades)


def run_backtrader(bars: pd.DataFrame) -> int:
    import backtrader as bt

    class EmaCross(bt.Strategy):
        def __init__(self):
            self.fast = bt.indicators.EMA(self.data.close, period=FAST)
            self.slow = bt.indicators.EMA(self.data.close, period=SLOW)

        def next(self):
            if self.fast[0] > self.slow[0]:
                if not self.position:
                    self.buy(size=QUANTITY)
            elif self.position:
                self.close()

    cerebro = bt.Cerebro(stdstats=False)
    # PandasDirectData walks itertuples(); PandasData's per-value iloc is ~10x slower on pandas 2
    feed = bars.tz_localize(None)[["open", "high", "low", "close", "volume"]].assign(openinterest=0.0)
    cerebro.adddata(bt.feeds.PandasDirectData(dataname=feed))
    cerebro.addstrategy(EmaCross)
    cerebro.broker.setcash(1e12)
    cerebro.addanalyzer(bt.analyzers.TradeAnalyzer, _name="trades")
    strategy = cerebro.run()[0]
    return int(strategy.analyzers.trades.get_analysis().total.get("closed", 0))


def run_vectorbt(bars: pd.DataFrame) -> int:
    import vectorbt as vbt

    long = pd.Series(ema(bars["close"].to_numpy(), FAST) > ema(bars["close"].to_numpy(), SLOW), bars.index)
    before = long.shift(1, fill_value=False)
    entries, exits = long & ~before, ~long & before
    portfolio = vbt.Portfolio.from_signals(
        bars["close"],
        entries.shift(1, fill_value=False),  # decided on the close, filled at the next open
        exits.shift(1, fill_value=False),
        price=bars["open"],
        size=QUANTITY,
        init_cash=1e12,
        fees=0.0,
    )
    return int(portfolio.trades.closed.count())


def run_nautilus(bars: pd.DataFrame) -> int:
    from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
    from nautilus_trader.config import LoggingConfig, StrategyConfig
    from nautilus_trader.indicators import ExponentialMovingAverage
    from nautilus_trader.model.currencies import USD
    from nautilus_trader.model.data import Bar, BarType
    from nautilus_trader.model.enums import AccountType, OmsType, OrderSide
    from nautilus_trader.model.identifiers import InstrumentId, Venue
    from nautilus_trader.model.objects import Money
    from nautilus_trader.persistence.wranglers import BarDataWrangler
    from nautilus_trader.test_kit.providers import TestInstrumentProvider
    from nautilus_trader.trading.strategy import Strategy

    class EmaCrossConfig(StrategyConfig, frozen=True):
        instrument_id: InstrumentId
        bar_type: BarType

    class EmaCross(Strategy):
        def __init__(self, config: EmaCrossConfig):
            super().__init__(config)
            self.fast = ExponentialMovingAverage(FAST)
            self.slow = ExponentialMovingAverage(SLOW)

        def on_start(self):
            self.instrument = self.cache.instrument(self.config.instrument_id)
            self.register_indicator_for_bars(self.config.bar_type, self.fast)
            self.register_indicator_for_bars(self.config.bar_type, self.slow)
            self.subscribe_bars(self.config.bar_type)

        def on_bar(self, bar: Bar):
            if not self.indicators_initialized():
                return
            instrument_id = self.config.instrument_id
            if self.fast.value > self.slow.value:
                if self.portfolio.is_flat(instrument_id):
                    self._order(OrderSide.BUY)
            elif self.portfolio.is_net_long(instrument_id):
                self._order(OrderSide.SELL)

        def _order(self, side):
            quantity = self.instrument.make_qty(Decimal(QUANTITY))
            self.submit_order(self.order_factory.market(self.config.instrument_id, side, quantity))

    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
    venue = Venue("XNAS")
    engine.add_venue(
        venue=venue,
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        base_currency=USD,
        starting_balances=[Money(1_000_000_000, USD)],
    )
    instrument = TestInstrumentProvider.equity(symbol="SYN", venue="XNAS")
    engine.add_instrument(instrument)
    bar_type = BarType.from_str(f"{instrument.id}-1-MINUTE-LAST-EXTERNAL")
    engine.add_data(BarDataWrangler(bar_type, instrument).process(bars))
    engine.add_strategy(EmaCross(EmaCrossConfig(instrument_id=instrument.id, bar_type=bar_type)))
    engine.run()
    exits = sum(
        1
        for order in engine.cache.orders_closed()
        if order.side == OrderSide.SELL and order.filled_qty.as_double() > 0
    )
    engine.dispose()
    return exits


def python_loop(close: list[float]) -> list[tuple[int, float]]:
    """The simple per-bar reference: EMAs (TA-Lib's seeding) updated bar by bar; a target change on a
    bar's close fills at the next bar's open. Returns (bar index, position after) of each fill."""
    fast_alpha, slow_alpha = 2.0 / (FAST + 1), 2.0 / (SLOW + 1)
    fast = slow = 0.0
    fast_sum = slow_sum = 0.0
    position, pending, fills = 0.0, None, []
    for i, price in enumerate(close):
        if pending is not None:  # fill at this bar's open
            fills.append((i, pending))
            position, pending = pending, None
        if i < SLOW:
            slow_sum += price
        if i < FAST:
            fast_sum += price
        if i >= FAST:
            fast = fast_alpha * price + (1.0 - fast_alpha) * fast
        elif i == FAST - 1:
            fast = fast_sum / FAST
        if i >= SLOW:
            slow = slow_alpha * price + (1.0 - slow_alpha) * slow
        elif i == SLOW - 1:
            slow = slow_sum / SLOW
        target = float(QUANTITY) if i >= SLOW - 1 and fast > slow else 0.0
        if target != position:
            pending = target
    return fills


def run_python_loop(bars: pd.DataFrame) -> int:
    """The per-bar reference loop; a round trip ends at each fill back to flat."""
    return sum(1 for _, position in python_loop(bars["close"].tolist()) if position == 0.0)


PEERS = {
    "nautilus_trader": run_nautilus,
    "backtrader": run_backtrader,
    "backtesting.py": run_backtesting,
    "vectorbt": run_vectorbt,
    "python loop": run_python_loop,
}


def main() -> None:
    peer, path = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    bars = pd.read_parquet(path)
    bars.index = pd.to_datetime(bars.index, unit="ns", utc=True)
    if peer == "vectorbt":
        run_vectorbt(bars.iloc[:10_000])
    for _ in range(runs):
        start = time.perf_counter()
        round_trips = PEERS[peer](bars)
        seconds = time.perf_counter() - start
        print(json.dumps({"peer": peer, "seconds": seconds, "round_trips": round_trips, "bars": len(bars)}))


if __name__ == "__main__":
    main()
