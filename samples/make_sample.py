"""Regenerate the sample tape ``samples/sample-1m`` (deterministic: same code, same bytes).

Run ``python samples/make_sample.py`` from the repository root. The market is described in
``samples/README.md``; the config below is its single source of truth.
"""

from __future__ import annotations

from pathlib import Path

from connectors.feeds.synthetic import write_tape

SAMPLE_DIR = Path(__file__).resolve().parent / "sample-1m"

SAMPLE_CONFIG = {
    "seed": 20240102,
    "instruments": [
        {"name": "SPX", "price": 4750.0, "drift": 0.07, "volatility": 0.14, "volume": 50_000},
        {"name": "ALFA", "price": 185.0, "drift": 0.10, "volatility": 0.28, "volume": 12_000},
        {"name": "BRVO", "price": 62.0, "drift": 0.04, "volatility": 0.35, "volume": 8_000},
        {"name": "CHRL", "price": 310.0, "drift": 0.06, "volatility": 0.22, "volume": 6_000},
    ],
    "start": "2024-01-02T09:30:00-05:00",
    "interval": "1m",
    "bars": 12 * 390,  # 2024-01-02 .. 2024-01-18 (12 sessions): 18,720 bars, archive < 5 MB
    "session": {
        "kind": "exchange",
        "timezone": "America/New_York",
        "open": "09:30",
        "close": "16:00",
        "holidays": ["2024-01-15"],
    },
    "correlation": [
        [1.00, 0.75, 0.60, 0.65],
        [0.75, 1.00, 0.45, 0.50],
        [0.60, 0.45, 1.00, 0.40],
        [0.65, 0.50, 0.40, 1.00],
    ],
    "regimes": {"high_vol_multiplier": 2.5, "p_low_to_high": 0.001, "p_high_to_low": 0.005},
    "jumps": {"intensity": 8.0, "mean": -0.005, "std": 0.02},
    "volume_u_shape": 1.5,
    "latency_ns": 1_000_000,
}


def main() -> None:
    """Write the sample tape, replacing the previous one."""
    count = write_tape(SAMPLE_CONFIG, SAMPLE_DIR, overwrite=True)
    size = sum(p.stat().st_size for p in SAMPLE_DIR.rglob("*") if p.is_file())
    print(f"wrote {count} bars to {SAMPLE_DIR} ({size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
