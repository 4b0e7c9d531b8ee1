"""The analytics store: event tables, runs and metrics in ClickHouse (embedded chDB or a server).

``store = open_store("var/analytics")`` (a directory: Parquet parts + chDB views, readable by any
number of processes while services write) or ``open_store("http://host:8123/tape")`` (a ClickHouse
server: ReplacingMergeTree tables from ``deploy/clickhouse/*.sql``). Then
``store.insert(table, rows)`` (DataFrame or list of dicts), ``store.query(sql, parameters)`` →
DataFrame (ClickHouse SQL naming the tables below; ``{name:Type}`` parameters), ``store.tables()``,
``store.compact()``, ``store.close()``. A row is shown once per key, however often it was written.

Times are int ns since epoch UTC (``fromUnixTimestamp64Nano(ts_event)`` makes a DateTime64).
Every table but ``dead_letters`` has ``run_id``: ``'live'`` for the live services, the RunManifest ``run_id``
(``bt-…``) for backtests. Event columns are the Avro field names (``schemas/*.avsc``); enums are
strings, ``[null, T]`` unions are Nullable, maps are ``Map(String, T)``.

=============  ===============  ===========================================================
table          key              columns
=============  ===============  ===========================================================
bars           all columns      instrument, interval_ns, open, high, low, close, volume,
                                ts_event, ts_init, run_id
targets        run_id, id       id, strategy_id, account_id, instrument, target_quantity, reason,
                                ts_event, ts_init, run_id
orders         run_id, id       id, intent_id, strategy_id, account_id, instrument, side, quantity,
                                order_type, limit_price?, stop_price?, time_in_force, ts_event,
                                ts_init, run_id
reports        run_id, id       id, order_id, strategy_id, account_id, instrument, status,
                                filled_quantity, leaves_quantity, avg_price?, last_quantity,
                                last_price?, reason, ts_event, ts_init, run_id
fills          run_id, id       id, order_id, strategy_id, account_id, instrument, side, quantity,
                                price, commission, liquidity, ts_event, ts_init, run_id
positions      all columns      strategy_id, account_id, instrument, quantity, avg_price,
                                realized_pnl, unrealized_pnl, ts_event, ts_init, run_id
pnl            all columns      strategy_id, account_id, cash, equity, realized_pnl, unrealized_pnl,
                                commission, gross_exposure, net_exposure, ts_event, ts_init, run_id
risk_alerts    run_id, id       id, strategy_id?, account_id, instrument?, rule, severity, message,
                                value?, limit?, action, ts_event, ts_init, run_id
predictions    run_id, id       id, model_id, model_version, instrument, horizon, value, proba?,
                                ts_event, ts_init, run_id
features       run_id, id       id, instrument, feature_set, values (Map(String, Float64)),
                                ts_event, ts_init, run_id
controls       run_id, id       id, strategy_id?, command, params (Map(String, String)), reason,
                                issued_by, ts_event, ts_init, run_id
equity         run_id, ts_event run_id, ts_event, equity, cash, gross_exposure
runs           run_id           run_id, kind, strategy, params_json, config_json, config_hash,
                                code_version, tape, ts_started, ts_finished, metrics_json,
                                total_return, annual_return, annual_volatility, sharpe, sortino,
                                calmar, max_drawdown, win_rate, profit_factor, turnover, exposure,
                                round_trips, fills, ts_init
dead_letters   topic, partition topic, partition, offset, reason, error, source_timestamp,
               offset, reason   ts_init
model_metrics  run_id, id       id, model_id, model_version, instrument, metric, window (Int32),
                                value, ts_event, ts_init, run_id
=============  ===============  ===========================================================

``?`` marks Nullable columns. ``runs``: ``ts_started``/``ts_finished`` are the event times of the
run's first and last input; ``ts_init`` is when the row was written; ``metrics_json`` holds every
metric of `operators.performance.Metrics`. ``dead_letters``: the source record's ``topic``,
``partition``, ``offset`` and Kafka ``source_timestamp`` (ns), with ``ts_init`` the dead letter's own
timestamp (ns). The schema of every table is `tables.TABLES` (one place; both backends and the DDL
use it). Quote ``partition``, ``offset`` and ``window`` with backticks if a query needs them quoted.

Examples
--------
>>> import tempfile
>>> with open_store(tempfile.mkdtemp()) as store:
...     _ = store.insert("bars", [{"instrument": "ALFA", "interval_ns": 60_000_000_000, "open": 1.0,
...         "high": 2.0, "low": 0.5, "close": 1.5, "volume": 10.0, "ts_event": 60_000_000_000,
...         "ts_init": 60_000_000_000, "run_id": "live"}])
...     store.query("SELECT instrument, close FROM bars WHERE run_id = {run:String}", {"run": "live"})
  instrument  close
0       ALFA    1.5
"""

from connectors.analytics.errors import AnalyticsError
from connectors.analytics.sink import AnalyticsSink
from connectors.analytics.store import AnalyticsStore, open_store
from connectors.analytics.tables import TABLES, Table

__all__ = ["TABLES", "AnalyticsError", "AnalyticsSink", "AnalyticsStore", "Table", "open_store"]
