"""The Data quality page: dead letters by reason, the seeded gap in ALFA's bars, event lateness."""

from __future__ import annotations

import numpy as np

from tests.dashboards.helpers import DROPPED_ALFA_BARS, figures, run_page


def test_data_quality_counts_dead_letters_gaps_and_lateness(seeded):
    app = run_page("6_data_quality", seeded.location, late_table="bars", late_run="live")

    counts = app.dataframe[0].value
    expected = seeded.dead_letters.groupby("reason").size().to_dict()
    assert dict(zip(counts["reason"], counts["count"], strict=True)) == expected
    tables = {tuple(frame.value.columns[:3]): frame.value for frame in app.dataframe}
    gaps = tables[("instrument", "interval_ns", "bars")].set_index("instrument")
    assert gaps.at["ALFA", "missing"] == len(DROPPED_ALFA_BARS)
    assert gaps.drop(index="ALFA")["missing"].sum() == 0
    assert gaps.at["ALFA", "bars"] == (seeded.bars["instrument"] == "ALFA").sum()
    latency_ms = (seeded.bars["ts_init"] - seeded.bars["ts_event"]).to_numpy() / 1e6
    summary = tables[("count", "p50_ms", "p95_ms")]
    assert summary.at[0, "count"] == len(seeded.bars)
    assert summary.at[0, "p95_ms"] == np.percentile(latency_ms, 95)
    titles = [figure["layout"]["title"]["text"] for figure in figures(app)]
    assert titles == ["Dead letters per 1h", "Missing intervals", "ts_init - ts_event of bars"]


def test_data_quality_empty_store_shows_empty_states(empty_store):
    app = run_page("6_data_quality", empty_store)

    assert [info.value.split(":")[0] for info in app.info] == [
        "No dead letters",
        "No bars yet — gaps are measured on the `bars` table.",
        "No events stored yet.",
    ]
