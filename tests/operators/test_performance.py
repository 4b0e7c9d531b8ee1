"""Performance metrics against empyrical, statsmodels and NumPy, on seeded random equity curves.

Reference conventions: empyrical takes per-period simple returns, ``annualization`` bars per year and a
per-period ``risk_free``; VaR/CVaR there are negative returns, ours are losses as positive numbers.
"""

from __future__ import annotations

import math
import warnings

import empyrical
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from operators.performance import (
    CRYPTO,
    EQUITIES,
    Metrics,
    MetricsConfig,
    RunningDrawdown,
    RunningMetrics,
    compute_metrics,
    drawdown_series,
    open_lots,
    periods_per_year,
    round_trips,
)
from operators.performance import blocks as blocks_module
from operators.performance import drawdown as drawdown_module
from operators.performance.blocks import pairwise_sums
from operators.performance.calendar import bar_spacing
from operators.performance.drawdown import drawdown_stats
from operators.performance.ratios import (
    ReturnSums,
    compound,
    is_constant,
    per_period_rate,
    returns_with_sums,
    risk_ratios,
)
from operators.performance.regression import alpha_beta
from operators.performance.series import curve_arrays
from operators.performance.tail import tail_risk, tail_risks
from operators.performance.trades import FILL_COLUMNS, OPEN_LOT_COLUMNS, ROUND_TRIP_COLUMNS, match_fills
from schemas.errors import ConfigError

MINUTE = 60_000_000_000
DAY = 86_400_000_000_000
REL = 1e-9

curve_params = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**32 - 1),
        "points": st.integers(3, 400),
        "drift": st.floats(-0.002, 0.002),
        "volatility": st.floats(0.001, 0.05),
        "risk_free_rate": st.floats(0.0, 0.08),
    }
)


def make_curve(seed: int, points: int, drift: float, volatility: float, interval: int = DAY) -> pd.Series:
    rng = np.random.default_rng(seed)
    returns = np.clip(rng.normal(drift, volatility, points - 1), -0.5, None)
    equity = 1e6 * np.concatenate([[1.0], np.cumprod(1.0 + returns)])
    return pd.Series(equity, index=np.arange(points, dtype=np.int64) * interval)


def returns_of(curve: pd.Series) -> np.ndarray:
    values = curve.to_numpy()
    return values[1:] / values[:-1] - 1.0


def assert_close(actual: float, expected: float) -> None:
    """Equal to 1e-9 relative; where the reference is infinite (a zero denominator) ours is NaN by design."""
    if np.isfinite(expected):
        assert actual == pytest.approx(expected, rel=REL, abs=0.0)
    else:
        assert math.isnan(actual)


@settings(max_examples=60, deadline=None)
@given(params=curve_params)
def test_compute_metrics_random_curves_match_empyrical(params):
    rate = params.pop("risk_free_rate")
    equity = make_curve(**params)
    returns = returns_of(equity)
    ppy = 252.0
    rf = per_period_rate(rate, ppy)

    m = compute_metrics(equity, config=MetricsConfig(risk_free_rate=rate))

    assert m.periods_per_year == ppy
    assert_close(m.total_return, empyrical.cum_returns_final(returns))
    assert_close(m.annual_return, empyrical.annual_return(returns, annualization=ppy))
    assert_close(m.annual_volatility, empyrical.annual_volatility(returns, annualization=ppy))
    assert_close(m.sharpe, empyrical.sharpe_ratio(returns, risk_free=rf, annualization=ppy))
    assert_close(m.sortino, empyrical.sortino_ratio(returns, required_return=rf, annualization=ppy))
    assert_close(m.max_drawdown, empyrical.max_drawdown(returns))
    assert_close(m.calmar, empyrical.calmar_ratio(returns, annualization=ppy))
    for level, var, cvar in ((0.95, m.var_95, m.cvar_95), (0.99, m.var_99, m.cvar_99)):
        assert_close(var, -empyrical.value_at_risk(returns, cutoff=1 - level))
        assert_close(var, -np.quantile(returns, 1 - level, method="linear"))
        assert_close(cvar, -empyrical.conditional_value_at_risk(returns, cutoff=1 - level))
        assert cvar >= var


@settings(max_examples=40, deadline=None)
@given(params=curve_params, beta=st.floats(-1.5, 2.5), benchmark_seed=st.integers(0, 2**32 - 1))
def test_alpha_beta_random_curves_match_statsmodels_and_empyrical(params, beta, benchmark_seed):
    rate = params.pop("risk_free_rate")
    benchmark = make_curve(benchmark_seed, params["points"], 0.0003, 0.01)
    noise = returns_of(make_curve(**params))
    strategy_returns = np.clip(beta * returns_of(benchmark) + noise, -0.5, None)
    growth = np.concatenate([[1.0], np.cumprod(1.0 + strategy_returns)])
    equity = pd.Series(1e6 * growth, index=benchmark.index)
    ppy = 252.0
    rf = per_period_rate(rate, ppy)

    m = compute_metrics(equity, benchmark=benchmark, config=MetricsConfig(risk_free_rate=rate))

    y, x = returns_of(equity) - rf, returns_of(benchmark) - rf
    intercept, slope = sm.OLS(y, sm.add_constant(x)).fit().params
    assert_close(m.beta, slope)
    assert_close(m.alpha, (1 + intercept) ** ppy - 1)
    ref_alpha, ref_beta = empyrical.alpha_beta(
        returns_of(equity), returns_of(benchmark), risk_free=rf, annualization=ppy
    )
    assert_close(m.beta, ref_beta)
    assert_close(m.alpha, ref_alpha)


def test_compute_metrics_minute_bars_annualise_per_session():
    equity = make_curve(7, 500, 0.00001, 0.0005, interval=MINUTE)
    returns = returns_of(equity)

    equities = compute_metrics(equity)
    crypto = compute_metrics(equity, config=MetricsConfig(calendar="crypto"))

    assert equities.periods_per_year == EQUITIES.days_per_year * EQUITIES.session_ns / MINUTE
    assert crypto.periods_per_year == CRYPTO.days_per_year * CRYPTO.session_ns / MINUTE
    for m in (equities, crypto):
        ppy = m.periods_per_year
        assert_close(m.sharpe, empyrical.sharpe_ratio(returns, annualization=ppy))
        assert_close(m.annual_volatility, empyrical.annual_volatility(returns, annualization=ppy))


def test_periods_per_year_daily_bars_with_weekends_count_trading_days():
    business_days = pd.bdate_range("2024-01-01", periods=60, tz="UTC").as_unit("ns").asi8

    assert periods_per_year(business_days, EQUITIES) == EQUITIES.days_per_year
    assert periods_per_year(business_days, CRYPTO) == CRYPTO.days_per_year


def test_compute_metrics_periods_per_year_override_wins():
    equity = make_curve(3, 50, 0.001, 0.01, interval=MINUTE)

    m = compute_metrics(equity, config=MetricsConfig(periods_per_year=12))

    assert m.periods_per_year == 12.0
    assert_close(m.annual_return, empyrical.annual_return(returns_of(equity), annualization=12))


@settings(max_examples=60, deadline=None)
@given(params=curve_params)
def test_drawdown_series_matches_empyrical_and_brute_force_dates(params):
    params.pop("risk_free_rate")
    equity = make_curve(**params)
    values, ts = equity.to_numpy(), equity.index.to_numpy()

    series = drawdown_series(equity)
    m = compute_metrics(equity)

    assert series.iloc[0] == 0.0
    reference = empyrical.stats.drawdown_series(returns_of(equity))
    # near-zero drawdowns: the ratio to the peak and empyrical's compounded returns differ in the last bits
    np.testing.assert_allclose(series.to_numpy()[1:], reference, rtol=REL, atol=1e-12)
    assert m.max_drawdown == series.min()
    if m.max_drawdown == 0.0:
        assert (m.max_drawdown_peak_ts, m.max_drawdown_trough_ts, m.max_drawdown_recovery_ts) == (None,) * 3
        return
    trough = int(np.argmin(values / np.maximum.accumulate(values)))
    peak_value = max(values[: trough + 1])
    assert m.max_drawdown_trough_ts == ts[trough]
    assert m.max_drawdown_peak_ts == max(
        t for t, v in zip(ts[: trough + 1], values, strict=False) if v == peak_value
    )
    later = [t for t, v in zip(ts[trough:], values[trough:], strict=True) if v >= peak_value]
    assert m.max_drawdown_recovery_ts == (later[0] if later else None)
    assert m.max_drawdown_duration_ns == brute_force_longest_underwater(ts, values)


def brute_force_longest_underwater(ts: np.ndarray, values: np.ndarray) -> int:
    longest, start = 0, 0
    for i in range(1, len(values)):
        if values[i] >= max(values[:i]):
            if values[i - 1] < max(values[:i]):
                longest = max(longest, int(ts[i] - ts[start]))
            start = i
        else:
            longest = max(longest, int(ts[i] - ts[start]))
    return longest


def test_compute_metrics_single_point_is_zero_or_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = compute_metrics(pd.Series([1e6], index=[0]))

    assert m.periods == 0 and m.total_return == 0.0 and m.max_drawdown == 0.0
    for name in (
        "periods_per_year",
        "annual_return",
        "annual_volatility",
        "sharpe",
        "sortino",
        "calmar",
        "var_95",
        "cvar_99",
        "win_rate",
        "turnover",
        "exposure",
    ):
        assert math.isnan(getattr(m, name)), name


def test_compute_metrics_overflowing_annualisation_is_infinite_without_warnings():
    equity = pd.Series([1e6, 1.5e6, 2.5e6], index=[0, MINUTE, 2 * MINUTE])
    benchmark = pd.Series([100.0, 101.0, 100.5], index=equity.index)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = compute_metrics(equity, benchmark=benchmark)

    assert m.annual_return == math.inf and m.alpha == math.inf
    assert math.isnan(m.calmar)


def test_compute_metrics_flat_curve_no_trades_is_zero_or_nan_without_warnings():
    equity = pd.Series(np.full(30, 1e6), index=np.arange(30) * DAY)
    benchmark = pd.Series(np.full(30, 50.0), index=equity.index)
    no_fills = pd.DataFrame(
        {c: [] for c in ("ts_event", "instrument", "side", "quantity", "price", "commission")}
    ).astype({"ts_event": np.int64})

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = compute_metrics(
            equity, benchmark=benchmark, fills=no_fills, config=MetricsConfig(risk_free_rate=0.03)
        )
        m.to_frame()

    assert m.total_return == 0.0 and m.annual_volatility == 0.0 and m.max_drawdown == 0.0
    assert m.var_95 == 0.0 and m.max_drawdown_duration_ns == 0 and m.max_drawdown_peak_ts is None
    assert (m.round_trips, m.fills, m.turnover, m.exposure) == (0, 0, 0.0, 0.0)
    for name in (
        "sharpe",
        "calmar",
        "alpha",
        "beta",
        "win_rate",
        "profit_factor",
        "average_win",
        "average_loss",
    ):
        assert math.isnan(getattr(m, name)), name
    assert math.isnan(compute_metrics(equity).sortino)


@pytest.mark.parametrize(
    ("equity", "field"),
    [
        (pd.Series([1.0, 2.0, 3.0], index=[0, 2, 1]), "equity: timestamps must be strictly increasing"),
        (pd.Series([1.0, 2.0], index=[5, 5]), "equity: timestamps must be strictly increasing"),
        (pd.Series([1.0, -2.0], index=[0, 1]), r"equity: values must be positive; equity\[1\]"),
        (pd.Series([1.0, 0.0], index=[0, 1]), "equity: values must be positive"),
        (pd.Series([1.0, np.nan], index=[0, 1]), "equity: values must be finite"),
        (pd.Series([], dtype=float), "equity: is empty"),
        (pd.Series([1.0], index=pd.DatetimeIndex(["2024-01-01"], tz="UTC")), "equity: index must be int ns"),
        ([1.0, 2.0], "equity: expected a pandas Series"),
    ],
)
def test_compute_metrics_bad_equity_raises_config_error_naming_it(equity, field):
    with pytest.raises(ConfigError, match=field) as raised:
        compute_metrics(equity)
    assert isinstance(raised.value, ValueError)


def test_compute_metrics_misaligned_benchmark_raises_config_error():
    equity = make_curve(1, 10, 0.0, 0.01)

    with pytest.raises(ConfigError, match="benchmark: has 9 points, equity has 10"):
        compute_metrics(equity, benchmark=equity.iloc[:-1])
    with pytest.raises(ConfigError, match="benchmark: timestamp at position 0"):
        compute_metrics(equity, benchmark=equity.set_axis(equity.index + 1))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="price"), r"fills: missing column\(s\) \['price'\]"),
        (lambda f: f.assign(side=["BUY", "buy", "SELL"]), "fills: side at row 1 was 'buy'"),
        (lambda f: f.assign(quantity=[1.0, 0.0, 1.0]), "fills: quantity at row 1 was 0.0"),
        (lambda f: f.assign(price=[1.0, 2.0, np.inf]), "fills: price at row 2"),
        (lambda f: f.assign(ts_event=[0.5, 1.0, 2.0]), "fills: ts_event must be int ns"),
    ],
)
def test_round_trips_bad_fills_raise_config_error_naming_the_column(change, message):
    fills = pd.DataFrame(
        {
            "ts_event": [1, 2, 3],
            "instrument": "X",
            "side": ["BUY", "SELL", "SELL"],
            "quantity": 1.0,
            "price": 10.0,
            "commission": 0.0,
        }
    )

    with pytest.raises(ConfigError, match=message):
        round_trips(change(fills))


def test_metrics_config_bad_fields_raise_config_error_naming_them():
    with pytest.raises(ConfigError, match="calendar: unknown calendar 'forex'"):
        MetricsConfig.from_dict({"calendar": "forex"})
    with pytest.raises(ConfigError, match="periods_per_yr: Extra inputs are not permitted"):
        MetricsConfig.from_dict({"periods_per_yr": 252})
    with pytest.raises(ConfigError, match="periods_per_year: must be positive"):
        RunningMetrics(periods_per_year=0)


fill_rows = st.lists(
    st.tuples(
        st.integers(0, 50),  # ts_event
        st.sampled_from(["AAA", "BBB"]),  # instrument
        st.sampled_from(["BUY", "SELL"]),  # side
        st.one_of(st.sampled_from([0.1, 0.2, 0.3, 1.0, 5.0]), st.floats(0.01, 100.0)),  # quantity
        st.floats(1.0, 500.0),  # price
        st.floats(0.0, 5.0),  # commission
    ),
    min_size=0,
    max_size=40,
)


def fills_frame(rows: list[tuple]) -> pd.DataFrame:
    columns = ["ts_event", "instrument", "side", "quantity", "price", "commission"]
    dtypes = {"ts_event": np.int64, "quantity": float, "price": float, "commission": float}
    return pd.DataFrame(rows, columns=columns).astype(dtypes)


@settings(max_examples=100, deadline=None)
@given(rows=fill_rows, marks=st.tuples(st.floats(1.0, 500.0), st.floats(1.0, 500.0)))
def test_round_trips_pnl_plus_unrealised_equals_cash_replay(rows, marks):
    fills = fills_frame(rows)
    mark = dict(zip(["AAA", "BBB"], marks, strict=True))
    sign = np.where(fills["side"] == "BUY", 1.0, -1.0)

    trips, lots = round_trips(fills), open_lots(fills)

    cash = -(sign * fills["quantity"] * fills["price"]).sum() - fills["commission"].sum()
    position_value = (sign * fills["quantity"] * fills["instrument"].map(mark)).sum()
    lot_sign = np.where(lots["direction"] == "LONG", 1.0, -1.0)
    unrealised = (lot_sign * (lots["instrument"].map(mark) - lots["entry_price"]) * lots["quantity"]).sum()
    unrealised -= lots["commission"].sum()
    scale = 1.0 + (fills["quantity"] * fills["price"]).sum() + fills["commission"].sum()
    assert trips["pnl"].sum() + unrealised == pytest.approx(cash + position_value, rel=0, abs=1e-9 * scale)
    assert trips["commission"].sum() + lots["commission"].sum() == pytest.approx(
        fills["commission"].sum(), rel=0, abs=1e-9 * scale
    )


@settings(max_examples=100, deadline=None)
@given(rows=fill_rows)
def test_round_trips_conserve_quantities_and_keep_one_direction_open(rows):
    fills = fills_frame(rows)
    sign = np.where(fills["side"] == "BUY", 1.0, -1.0)

    trips, lots = round_trips(fills), open_lots(fills)

    for name in ("AAA", "BBB"):
        traded = fills.loc[fills["instrument"] == name]
        closed = trips.loc[trips["instrument"] == name, "quantity"].sum()
        still_open = lots.loc[lots["instrument"] == name]
        tolerance = 1e-8 * (1.0 + traded["quantity"].sum())
        total = traded["quantity"].sum()
        assert 2 * closed + still_open["quantity"].sum() == pytest.approx(total, abs=tolerance)
        net = (sign[fills["instrument"] == name] * traded["quantity"]).sum()
        lot_net = (np.where(still_open["direction"] == "LONG", 1.0, -1.0) * still_open["quantity"]).sum()
        assert lot_net == pytest.approx(net, abs=tolerance)
        assert still_open["direction"].nunique() <= 1
    assert (trips["exit_ts"] >= trips["entry_ts"]).all()
    assert (trips["holding_ns"] == trips["exit_ts"] - trips["entry_ts"]).all()
    assert (trips["quantity"] > 0).all() and (lots["quantity"] > 0).all()


def test_round_trips_flip_long_to_short_closes_then_opens_remainder():
    fills = fills_frame(
        [
            (1, "X", "BUY", 10.0, 100.0, 1.0),
            (2, "X", "BUY", 5.0, 101.0, 1.0),
            (3, "X", "SELL", 20.0, 110.0, 2.0),
            (4, "X", "BUY", 0.1, 90.0, 0.0),
            (4, "X", "BUY", 0.2, 90.0, 0.0),
            (5, "X", "BUY", 4.7, 95.0, 0.0),
        ]
    )

    trips, lots = round_trips(fills), open_lots(fills)

    assert trips[["direction", "entry_ts", "exit_ts"]].values.tolist() == [
        ["LONG", 1, 3],
        ["LONG", 2, 3],
        ["SHORT", 3, 4],
        ["SHORT", 3, 4],
        ["SHORT", 3, 5],
    ]
    assert trips["quantity"].sum() == pytest.approx(20.0)
    assert lots.empty


def reference_matching(fills: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """FIFO matching done the plain way, one fill and one lot at a time: ``(round trips, open lots)``."""
    ordered = fills.iloc[np.argsort(fills["ts_event"].to_numpy(), kind="stable")]
    books: dict[str, list[list]] = {}
    trips = []
    columns = ["ts_event", "instrument", "side", "quantity", "price", "commission"]
    for ts, name, side, quantity, price, commission in ordered[columns].itertuples(index=False):
        sign = 1 if side == "BUY" else -1
        lots = books.setdefault(name, [])  # [sign, ts, quantity, price, commission]
        remaining, fee = float(quantity), float(commission)
        while remaining > 0.0 and lots and lots[0][0] != sign:
            lot_sign, lot_ts, size, lot_price, lot_fee = lots[0]
            if abs(size - remaining) <= 1e-9 * max(size, remaining):
                matched, lot_share, fill_share = size, 1.0, 1.0
            else:
                matched = min(size, remaining)
                lot_share, fill_share = matched / size, matched / remaining
            entry_fee, exit_fee = lot_fee * lot_share, fee * fill_share
            pnl = lot_sign * (price - lot_price) * matched - entry_fee - exit_fee
            trips.append(
                (
                    name,
                    "LONG" if lot_sign > 0 else "SHORT",
                    lot_ts,
                    ts,
                    matched,
                    lot_price,
                    price,
                    entry_fee + exit_fee,
                    pnl,
                    ts - lot_ts,
                )
            )
            lots[0][2], lots[0][4] = size - matched, lot_fee - entry_fee
            remaining, fee = (0.0, 0.0) if fill_share == 1.0 else (remaining - matched, fee - exit_fee)
            if lot_share == 1.0:
                lots.pop(0)
        if remaining > 0.0:
            lots.append([sign, ts, remaining, price, fee])
    still_open = sorted(
        ((name, "LONG" if lot[0] > 0 else "SHORT", *lot[1:]) for name, lots in books.items() for lot in lots),
        key=lambda row: row[2],
    )
    trip_columns, lot_columns = list(ROUND_TRIP_COLUMNS), list(OPEN_LOT_COLUMNS)
    return (
        pd.DataFrame(trips, columns=trip_columns).astype(
            {"entry_ts": np.int64, "exit_ts": np.int64, "holding_ns": np.int64}
        ),
        pd.DataFrame(still_open, columns=lot_columns).astype({"entry_ts": np.int64}),
    )


def assert_same_rows(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Equal to the last bit (a float's repr round-trips), column by column; empty frames' dtypes aside."""
    assert actual.columns.tolist() == expected.columns.tolist()
    for column in actual.columns:
        assert repr(actual[column].tolist()) == repr(expected[column].tolist()), column


def assert_same_metrics(actual: Metrics, expected: Metrics) -> None:
    assert repr(actual.to_dict()) == repr(expected.to_dict())


def target_fills(seed: int, fills: int, targets: list[float], split: bool) -> pd.DataFrame:
    """Fills that move two instruments between target positions: opens, closes, flips, scaling in and
    out, and (with ``split``) fills broken in two."""
    rng = np.random.default_rng(seed)
    position, rows, ts = {"AAA": 0.0, "BBB": 0.0}, [], 0
    for _ in range(fills):
        ts += int(rng.integers(0, 3))
        name = str(rng.choice(["AAA", "BBB"]))
        delta = float(rng.choice(targets)) - position[name]
        position[name] += delta
        parts = [delta * 0.3, delta - delta * 0.3] if split and rng.random() < 0.3 else [delta]
        rows += [
            (
                ts,
                name,
                "BUY" if d > 0 else "SELL",
                abs(d),
                float(rng.uniform(10, 20)),
                float(rng.choice([0.0, 0.5, rng.uniform(0, 2)])),
            )
            for d in parts
            if d
        ]
    return fills_frame(rows)


@settings(max_examples=150, deadline=None)
@given(rows=fill_rows)
def test_round_trips_and_open_lots_equal_plain_fifo_matching_on_random_fills(rows):
    fills = fills_frame(rows)

    expected_trips, expected_lots = reference_matching(fills)

    assert_same_rows(round_trips(fills), expected_trips)
    assert_same_rows(open_lots(fills), expected_lots)


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    fills=st.integers(0, 60),
    split=st.booleans(),
    targets=st.sampled_from(
        [
            [0.0, 100.0],
            [-100.0, 0.0],
            [-100.0, 100.0],
            [-100.0, 0.0, 100.0],
            [0.0, 0.1, 0.3, -0.2],
            [-1.7, 0.0, 2.3, 0.1 + 0.2],
            [-3.0, 1.0, 2.0, 3.0],
        ]
    ),
)
def test_round_trips_equal_plain_fifo_matching_on_strategy_like_fills(seed, fills, split, targets):
    fills = target_fills(seed, fills, targets, split)

    expected_trips, expected_lots = reference_matching(fills)

    assert_same_rows(round_trips(fills), expected_trips)
    assert_same_rows(open_lots(fills), expected_lots)


@pytest.mark.parametrize("dtype", ["object", "category", "string[python]", "string[pyarrow]"])
def test_compute_metrics_reads_side_and_instrument_of_any_string_dtype(dtype):
    equity = make_curve(11, 200, 0.0005, 0.01)
    fills = target_fills(3, 120, [-100.0, 0.0, 100.0], split=True)
    fills["ts_event"] *= DAY

    m = compute_metrics(equity, fills=fills)
    other = compute_metrics(equity, fills=fills.astype({"side": dtype, "instrument": dtype}))

    assert_same_metrics(other, m)
    assert m.round_trips > 0
    assert_same_rows(round_trips(fills.astype({"side": dtype, "instrument": dtype})), round_trips(fills))
    with pytest.raises(ConfigError, match="fills: side at row 1 was 'buy'"):
        round_trips(fills.assign(side=["BUY", "buy"] + ["SELL"] * (len(fills) - 2)).astype({"side": dtype}))


def reference_drawdown_stats(timestamps: np.ndarray, values: np.ndarray) -> tuple:
    """The drawdown statistics from the whole running-peak series, point by point."""
    peaks = np.maximum.accumulate(values)
    series = values / peaks - 1.0
    trough = int(np.argmin(series))
    if series[trough] >= 0.0:
        return 0.0, None, None, None, 0
    at_peak = values >= peaks
    peak = int(np.flatnonzero(at_peak[: trough + 1])[-1])
    recovered = np.flatnonzero(at_peak[trough:])
    recovery = int(timestamps[trough + recovered[0]]) if len(recovered) else None
    longest = 0
    for i in np.flatnonzero(~at_peak):  # under water from the last peak to the next one, or to the end
        later = np.flatnonzero(at_peak[i:])
        end = i + later[0] if len(later) else len(values) - 1
        longest = max(longest, int(timestamps[end] - timestamps[np.flatnonzero(at_peak[:i])[-1]]))
    return float(series[trough]), int(timestamps[peak]), int(timestamps[trough]), recovery, longest


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    points=st.integers(1, 120),
    drift=st.floats(-0.05, 0.05),
    volatility=st.floats(0.0, 0.4),
    block=st.sampled_from([1, 2, 3, 8, 1024]),
    rounded=st.booleans(),
)
def test_drawdown_stats_blocks_equal_the_point_by_point_definition(
    seed, points, drift, volatility, block, rounded
):
    rng = np.random.default_rng(seed)
    values = 100.0 * np.cumprod(1.0 + np.clip(rng.normal(drift, volatility, points), -0.9, None))
    values = np.round(values) + 1.0 if rounded else values  # ties at the peak and at the trough
    timestamps = np.cumsum(rng.integers(1, 1_000, points))  # irregular

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(drawdown_module, "BLOCK", block)
        stats = drawdown_stats(timestamps, values)

    actual = (stats.max_drawdown, stats.peak_ts, stats.trough_ts, stats.recovery_ts, stats.longest_ns)
    assert repr(actual) == repr(reference_drawdown_stats(timestamps, values))


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(1, 3000),
    ties=st.booleans(),
    level=st.sampled_from([0.95, 0.99, 0.5, 0.999]),
)
def test_tail_risk_equals_numpy_quantile_and_partition_to_the_last_bit(seed, size, ties, level):
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0, 0.01, size)
    returns = np.round(returns, 3) + 0.0 if ties else returns  # + 0.0: no negative zeros

    var, cvar = tail_risk(returns, level)

    k = math.floor((size - 1) * (1.0 - level))
    assert var == -float(np.quantile(returns, 1.0 - level, method="linear"))
    assert cvar == -float(np.mean(np.partition(returns, k)[: k + 1]))


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(st.sampled_from([60, 60, 60, 120, 7, 86_400]), min_size=1, max_size=400),
    regular=st.booleans(),
    block=st.sampled_from([128, 136, 65_536]),
)
def test_bar_spacing_equals_numpy_median_and_finds_regular_steps(steps, regular, block):
    steps = np.array(steps[:1] * len(steps) if regular else steps, dtype=np.int64)
    timestamps = np.concatenate([[5], 5 + np.cumsum(steps)])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(blocks_module, "BLOCK", block)
        spacing = bar_spacing(timestamps)

    assert spacing.median == float(np.median(steps))
    assert spacing.regular_step == (int(steps[0]) if np.all(steps == steps[0]) else None)
    assert (spacing.smallest, spacing.largest) == (steps.min(), steps.max())


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    length=st.integers(0, 5_000),
    block=st.sampled_from([128, 136, 1_000]),
    scale=st.sampled_from([1e-4, 1.0, 1e12]),
)
def test_pairwise_sums_equal_numpy_add_reduce_to_the_last_bit(seed, length, block, scale):
    rng = np.random.default_rng(seed)
    values = rng.normal(0.0, scale, length) * rng.choice([1.0, 1e-8, 1e8], length)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(blocks_module, "BLOCK", block)
        total, squares = pairwise_sums(
            length, lambda i, j: (np.add.reduce(values[i:j]), np.add.reduce(values[i:j] ** 2))
        )

    assert repr((total, squares)) == repr((float(np.add.reduce(values)), float(np.add.reduce(values**2))))


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    points=st.integers(1, 3_000),
    volatility=st.sampled_from([1e-4, 0.01, 0.6]),  # 0.6: ratios beyond [0.5, 2]
    flat=st.booleans(),
    target=st.sampled_from([0.0, 1e-7, -2e-5]),
    block=st.sampled_from([128, 1_000, 65_536]),
)
def test_returns_and_their_sums_equal_numpy_to_the_last_bit(seed, points, volatility, flat, target, block):
    rng = np.random.default_rng(seed)
    values = 100.0 * np.exp(np.cumsum(rng.normal(0.0, volatility, points)))
    if flat:
        values[points // 3 : points // 2] = values[points // 3]  # zero returns, as when no position is held
    equity = pd.Series(values, index=np.arange(points, dtype=np.int64))
    returns = values[1:] / values[:-1] - 1.0
    excess = returns - target if target else returns

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(blocks_module, "BLOCK", block)
        computed, sums = returns_with_sums(values, target, curve_arrays(equity).extremes)
        without_extremes = returns_with_sums(values, target)[1]
        risk = risk_ratios(computed, 252.0, target, sums)

    shortfalls = np.minimum(excess, 0.0)
    expected = ReturnSums(
        len(returns),
        float(np.add.reduce(returns)),
        float(np.add.reduce(excess)),
        float(np.prod(1.0 + returns)),
        float(np.add.reduce(shortfalls * shortfalls)),
    )
    assert computed.tolist() == returns.tolist()
    assert repr(sums) == repr(expected) == repr(without_extremes) == repr(ReturnSums.of(returns, target))
    if points > 2:
        assert risk.annual_volatility == float(np.std(returns, ddof=1)) * math.sqrt(252.0)
        if not is_constant(excess):
            expected_sharpe = float(np.mean(excess)) / float(np.std(excess, ddof=1)) * math.sqrt(252.0)
            assert risk.sharpe == expected_sharpe


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    points=st.integers(2, 3_000),
    rate=st.sampled_from([0.0, 1e-6]),
    block=st.sampled_from([128, 1_000, 65_536]),
)
def test_alpha_beta_equals_the_plain_regression_to_the_last_bit(seed, points, rate, block):
    rng = np.random.default_rng(seed)
    benchmark = rng.normal(0.0, 0.01, points)
    returns = 1.5 * benchmark + rng.normal(0.0005, 0.01, points)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(blocks_module, "BLOCK", block)
        alpha, beta = alpha_beta(returns, benchmark, 252.0, rate)

    y, x = (returns - rate, benchmark - rate) if rate else (returns, benchmark)
    centred = x - np.mean(x)
    expected_beta = float(np.add.reduce(centred * y) / np.add.reduce(centred * centred))
    intercept = float(np.mean(y)) - expected_beta * float(np.mean(x))
    assert repr((alpha, beta)) == repr((compound(1.0 + intercept, 252.0) - 1.0, expected_beta))


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(0, 3_000),
    ties=st.booleans(),
    levels=st.sampled_from([(0.95, 0.99), (0.99, 0.95), (0.5, 0.999, 0.95)]),
)
def test_tail_risks_in_place_equal_tail_risk_of_each_level(seed, size, ties, levels):
    rng = np.random.default_rng(seed)
    original = rng.normal(0.0, 0.01, size)
    original = np.round(original, 3) + 0.0 if ties else original  # + 0.0: no negative zeros
    returns = original.copy()

    risks = tail_risks(returns, levels, lambda partly_sorted: np.copyto(partly_sorted, original))

    assert repr(risks) == repr([tail_risk(original, level) for level in levels])


@settings(max_examples=100, deadline=None)
@given(
    points=st.integers(2, 300),
    step=st.sampled_from([1, 7, MINUTE]),
    start=st.sampled_from([0, -5 * MINUTE, 2**62]),
    times=st.lists(st.floats(-0.2, 1.2), max_size=50),
    fill_on_bars=st.booleans(),
)
def test_exposure_on_even_bars_equals_searchsorted(points, step, start, times, fill_on_bars):
    timestamps = start + np.arange(points, dtype=np.int64) * step
    span = int(timestamps[-1] - timestamps[0])
    offsets = [round(t * points) * step if fill_on_bars else round(t * span) for t in sorted(times)]
    fills = {
        "ts_event": start + np.array(offsets, dtype=np.int64),
        "instrument": np.full(len(times), "X"),
        "side": np.where(np.arange(len(times)) % 3 == 0, "BUY", "SELL"),
        "quantity": np.full(len(times), 1.0),
        "price": np.full(len(times), 10.0),
        "commission": np.zeros(len(times)),
    }
    equity = np.full(points, 100.0)

    m = compute_metrics((timestamps, equity), fills=fills)

    matched_reference = compute_metrics((timestamps, equity), fills=pd.DataFrame(fills))
    starts = timestamps[:-1]
    first_period = np.searchsorted(starts, fills["ts_event"], side="left")
    open_after = np.cumsum(np.where(fills["side"] == "BUY", 1, -1)) != 0
    held = int(np.diff(first_period, append=len(starts))[open_after].sum()) / len(starts)
    assert m.exposure == matched_reference.exposure == held


def reference_metrics(equity: pd.Series, fills: pd.DataFrame, config: MetricsConfig) -> dict:
    """The figures that `compute_metrics` takes from whole-array passes, computed with full-length NumPy
    temporaries (``np.diff``, ``np.std``, ``np.prod``, ``np.partition``, ``np.searchsorted``)."""
    ts, values = equity.index.to_numpy(), equity.to_numpy()
    returns = values[1:] / values[:-1] - 1.0
    if len(ts) < 2:
        return {"periods_per_year": math.nan}
    interval, calendar = float(np.median(np.diff(ts))), config.calendar
    if interval >= 2 * DAY:
        ppy = 365.25 * DAY / interval
    else:
        ppy = calendar.days_per_year * max(calendar.session_ns / interval, 1.0)
    rf = per_period_rate(config.risk_free_rate, ppy)
    excess = returns - rf if rf else returns
    downside = float(np.sqrt(np.mean(np.minimum(excess, 0.0) ** 2))) * math.sqrt(ppy)
    ordered = fills.iloc[np.argsort(fills["ts_event"].to_numpy(), kind="stable")]
    starts = ts[:-1]
    first_period = np.searchsorted(starts, ordered["ts_event"].to_numpy(), side="left")
    held = np.diff(first_period, append=len(starts))[match_fills(fills).open_after]
    notional = float(np.abs(ordered["quantity"].to_numpy() * ordered["price"].to_numpy()).sum())
    figures = {
        "periods_per_year": ppy,
        "annual_return": compound(float(np.prod(1.0 + returns)), ppy / len(returns)) - 1.0,
        "exposure": int(held.sum()) / len(starts),
        "turnover": notional / float(np.mean(values)) / len(returns) * ppy,
    }
    for level, name in ((0.95, "95"), (0.99, "99")):
        k = math.floor((len(returns) - 1) * (1.0 - level))
        figures[f"var_{name}"] = -float(np.quantile(returns, 1.0 - level, method="linear"))
        figures[f"cvar_{name}"] = -float(np.mean(np.partition(returns, k)[: k + 1]))
    if len(returns) > 1:
        figures["annual_volatility"] = float(np.std(returns, ddof=1)) * math.sqrt(ppy)
        mean = float(np.mean(excess))
        constant = np.ptp(excess) == 0.0
        figures["sharpe"] = math.nan if constant else mean / float(np.std(excess, ddof=1)) * math.sqrt(ppy)
        figures["sortino"] = math.nan if downside == 0.0 else mean * ppy / downside
    return figures


irregular_steps = st.sampled_from(["regular", "gaps", "nights", "random"])


def curve_on(seed: int, points: int, steps: str) -> pd.Series:
    """A random curve on ``points`` timestamps: evenly spaced, with a few gaps, with sessions and nights
    (as equities trade), or with no common step."""
    rng = np.random.default_rng(seed)
    if steps == "regular":
        spacing = np.full(points, MINUTE)
    elif steps == "gaps":
        spacing = np.where(rng.random(points) < 0.05, 7 * MINUTE, MINUTE)
    elif steps == "nights":
        spacing = np.where(np.arange(points) % 390 == 0, 17 * 60 * MINUTE, MINUTE)
    else:
        spacing = rng.integers(1, 10**9, points)
    values = 1e6 * np.cumprod(1.0 + rng.normal(0.0, 0.001, points))
    return pd.Series(values, index=np.cumsum(spacing).astype(np.int64))


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    points=st.sampled_from([1, 2, 3, 4, 9, 130, 600, 2_500]),
    steps=irregular_steps,
    rate=st.sampled_from([0.0, 0.03]),
    calendar=st.sampled_from(["equities", "crypto"]),
    rows=fill_rows,
    block=st.sampled_from([128, 1_000, 65_536]),
)
def test_compute_metrics_equals_plain_numpy_on_irregular_and_tiny_curves(
    seed, points, steps, rate, calendar, rows, block
):
    equity = curve_on(seed, points, steps)
    fills = fills_frame(rows).assign(ts_event=lambda f: equity.index[0] + f["ts_event"] * 3 * MINUTE)
    config = MetricsConfig(calendar=calendar, risk_free_rate=rate)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(blocks_module, "BLOCK", block)
        m = compute_metrics(equity, fills=fills, config=config)

    expected = reference_metrics(equity, fills, config)
    assert repr({name: getattr(m, name) for name in expected}) == repr(expected)


def fill_columns_as(fills: pd.DataFrame, kind: str) -> dict:
    """The fills as a mapping of column name to array, with the text as ``kind`` arrays."""
    text = {
        "str": lambda column: column.to_numpy().astype(str),
        "object": lambda column: column.to_numpy(dtype=object),
        "categorical": lambda column: pd.Categorical(column),
        "list": lambda column: column.tolist(),
    }[kind]
    return {c: text(fills[c]) if c in ("instrument", "side") else fills[c].to_numpy() for c in FILL_COLUMNS}


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    points=st.sampled_from([1, 2, 3, 50, 400]),
    steps=irregular_steps,
    rows=fill_rows,
    kind=st.sampled_from(["str", "object", "categorical", "list"]),
    with_benchmark=st.booleans(),
)
def test_compute_metrics_of_arrays_equals_of_pandas_inputs(seed, points, steps, rows, kind, with_benchmark):
    equity = curve_on(seed, points, steps)
    benchmark = curve_on(seed + 1, points, "regular").set_axis(equity.index) if with_benchmark else None
    fills = fills_frame(rows).assign(ts_event=lambda f: equity.index[0] + f["ts_event"] * MINUTE)
    columns = fill_columns_as(fills, kind)
    pair = (equity.index.to_numpy(), equity.to_numpy())
    benchmark_pair = None if benchmark is None else (benchmark.index.to_numpy(), benchmark.to_numpy())

    from_arrays = compute_metrics(pair, benchmark=benchmark_pair, fills=columns)

    assert_same_metrics(from_arrays, compute_metrics(equity, benchmark=benchmark, fills=fills))
    assert_same_rows(round_trips(columns), round_trips(fills))
    assert_same_rows(open_lots(columns), open_lots(fills))


@pytest.mark.parametrize(
    ("equity", "fills", "message"),
    [
        ((np.arange(3), np.ones(2)), None, r"equity: timestamps and values must be 1-D arrays of one length"),
        ((np.arange(2.0), np.ones(2)), None, "equity: timestamps must be int ns since epoch, was float64"),
        ((np.array([0, 2, 1]), np.ones(3)), None, "equity: timestamps must be strictly increasing; ts 1"),
        ((np.arange(2), np.array(["a", "b"])), None, "equity: values must be numbers"),
        ((np.arange(2), np.array([1.0, np.inf])), None, r"equity: values must be finite; equity\[1\]"),
        (
            [np.arange(2), np.ones(2)],
            None,
            "equity: expected a pandas Series .* or a .timestamps, values. pair",
        ),
        ((np.arange(2), np.ones(2)), [1, 2], "fills: expected a pandas DataFrame or a mapping"),
        ((np.arange(2), np.ones(2)), {"ts_event": [1]}, r"fills: missing column\(s\) \['instrument'"),
        (
            (np.arange(2), np.ones(2)),
            {c: np.ones(2 if c == "price" else 1) for c in FILL_COLUMNS},
            r"fills: columns must have one length, were \[1, 1, 1, 1, 2, 1\]",
        ),
        (
            (np.arange(2), np.ones(2)),
            {
                **{c: np.ones(2) for c in FILL_COLUMNS},
                "ts_event": np.arange(2),
                "side": np.array(["BUY", "buy"]),
            },
            "fills: side at row 1 was 'buy'",
        ),
    ],
)
def test_compute_metrics_bad_arrays_raise_config_error_naming_them(equity, fills, message):
    with pytest.raises(ConfigError, match=message):
        compute_metrics(equity, fills=fills)


@pytest.mark.parametrize(
    "values",
    [
        [1.0],
        [2.0, 2.0, 2.0],
        [0.0, -0.0],
        [1.0] * 5000 + [1.5],
        [1.0, np.nan],
        [np.inf, np.inf],
        list(range(3000)),
    ],
)
def test_is_constant_means_zero_peak_to_peak(values):
    values = np.array(values, dtype=float)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # inf - inf
        assert is_constant(values) == bool(np.ptp(values) == 0.0)


@settings(max_examples=40, deadline=None)
@given(params=curve_params, rows=fill_rows)
def test_compute_metrics_trade_figures_match_pandas_replay(params, rows):
    params.pop("risk_free_rate")
    equity = make_curve(**params)
    fills = fills_frame(rows)
    ts = equity.index.to_numpy()

    m = compute_metrics(equity, fills=fills)

    pnl = round_trips(fills)["pnl"]
    assert m.round_trips == len(pnl) and m.fills == len(fills)
    if len(pnl):
        assert m.win_rate == (pnl > 0).mean()
        assert m.average_win == pytest.approx(pnl[pnl > 0].mean(), nan_ok=True)
        assert m.average_loss == pytest.approx(pnl[pnl < 0].mean(), nan_ok=True)
        losses = -pnl[pnl < 0].sum()
        expected = pnl[pnl > 0].sum() / losses if losses else math.nan
        assert m.profit_factor == pytest.approx(expected, nan_ok=True)
    notional = (fills["quantity"] * fills["price"]).abs().sum()
    assert_close(m.turnover, notional / equity.mean() / (len(equity) - 1) * m.periods_per_year)
    signed = np.where(fills["side"] == "BUY", 1.0, -1.0) * fills["quantity"].to_numpy()
    filled_by = ts[:-1, None] >= fills["ts_event"].to_numpy()[None, :]
    positions = [filled_by @ (signed * (fills["instrument"] == name).to_numpy()) for name in ("AAA", "BBB")]
    held = np.any(np.abs(positions) > 1e-6, axis=0)
    assert m.exposure == pytest.approx(np.mean(held))


@settings(max_examples=40, deadline=None)
@given(params=curve_params)
def test_running_metrics_equal_batch_on_every_prefix(params):
    rate = params.pop("risk_free_rate")
    equity = make_curve(**params)
    config = MetricsConfig(periods_per_year=252, risk_free_rate=rate)
    running, drawdown = RunningMetrics(periods_per_year=252, risk_free_rate=rate), RunningDrawdown()
    batch_drawdowns = drawdown_series(equity).to_numpy()

    for i, (ts, value) in enumerate(equity.items()):
        snapshot = running.update(ts, value)
        assert drawdown.update(ts, value) == batch_drawdowns[i] == snapshot.drawdown
        if i in (1, 2, len(equity) // 2, len(equity) - 1):
            batch = compute_metrics(equity.iloc[: i + 1], config=config)
            assert snapshot.total_return == pytest.approx(batch.total_return, rel=REL)
            assert snapshot.max_drawdown == batch.max_drawdown == drawdown.max_drawdown
            assert drawdown.longest_ns == batch.max_drawdown_duration_ns
            for name in ("sharpe", "annual_volatility"):
                expected = getattr(batch, name)
                assert getattr(snapshot, name) == pytest.approx(expected, rel=REL, nan_ok=True), name


def test_running_drawdown_rejects_out_of_order_and_non_positive_points():
    drawdown = RunningDrawdown()
    drawdown.update(10, 100.0)

    with pytest.raises(ConfigError, match="ts: must increase; 10 follows 10"):
        drawdown.update(10, 101.0)
    with pytest.raises(ConfigError, match="equity: must be finite and positive"):
        drawdown.update(11, 0.0)


def test_metrics_to_dict_and_to_frame_cover_every_field():
    equity = make_curve(5, 100, 0.001, 0.02)
    fills = fills_frame([(0, "X", "BUY", 1.0, 10.0, 0.1), (DAY * 5, "X", "SELL", 1.0, 11.0, 0.1)])

    m = compute_metrics(equity, benchmark=make_curve(6, 100, 0.0, 0.01), fills=fills)
    table = m.to_frame()

    assert list(m.to_dict()) == [f for f in Metrics.__dataclass_fields__]
    assert len(table) == len(m.to_dict()) and table.columns.tolist() == ["value"]
    assert table.loc["Max drawdown", "value"] == f"{m.max_drawdown:.2%}"
    assert table.loc["Start", "value"] == "1970-01-01T00:00:00+00:00"
    assert str(m) == table.to_string()
