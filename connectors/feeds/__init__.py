"""Market data in: a seeded synthetic market and validated CSV import, both emitting ``Bar`` events.

Modules
-------
intervals
    Bar intervals ("1m", "1d") as nanoseconds and as the ``md.bar.<interval>`` topic suffix.
synthetic_config, synthetic
    `SyntheticMarketConfig` and `SyntheticMarket`: correlated GBM with volatility regimes, jumps,
    a U-shaped intraday volume profile, optional trades and quotes.
validation
    Row checks for OHLCV series (reason per rejected row, gaps reported, never silently dropped).
csv_import
    Yahoo / Alpha Vantage / mapped CSV files → validated ``Bar`` batches, rejects CSV, summary.
emit
    Write event batches to a tape archive or produce them to Kafka (delivery checked).
"""

__all__ = ["csv_import", "emit", "intervals", "synthetic", "synthetic_config", "validation"]
