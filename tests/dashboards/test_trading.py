"""The Trading page: positions, open orders and fills of a run, equal to the backtest's own tables."""

from __future__ import annotations

from tests.dashboards.helpers import figures, run_page


def test_trading_shows_positions_orders_and_fills_of_a_run(seeded):
    result = seeded.results["rsi"]
    latest = result.positions.groupby(["strategy_id", "instrument"]).last()
    held = latest[latest["quantity"] != 0]

    app = run_page("3_trading", seeded.location, trading_run=seeded.run_ids["rsi"])

    tiles = {tile.label: tile.value for tile in app.metric}
    assert tiles == {
        "Open positions": str(len(held)),
        "Open orders": "0",
        "Orders sent": str(len(result.orders)),
    }
    positions, fills = app.dataframe[0].value, app.dataframe[1].value
    assert sorted(positions["instrument"]) == sorted(held.index.get_level_values("instrument"))
    assert dict(zip(positions["instrument"], positions["quantity"], strict=True)) == dict(
        zip(held.index.get_level_values("instrument"), held["quantity"], strict=True)
    )
    assert len(fills) == min(len(result.fills), 500)
    assert set(fills["id"]) <= set(result.fills["id"])
    assert any("every order has a terminal report" in info.value for info in app.info)
    assert app.toggle[0].value is False  # auto-refresh is for the live account
    (chart,) = figures(app)
    assert sorted(trace["name"] for trace in chart["data"]) == sorted(result.positions["instrument"].unique())


def test_trading_empty_store_says_how_to_fill_it(empty_store):
    app = run_page("3_trading", empty_store)

    assert "No orders or positions yet" in app.info[0].value
    assert not app.toggle


def test_trading_live_account_lists_the_order_without_report_and_refreshes(seeded, live_store):
    app = run_page("3_trading", live_store)

    assert app.toggle[0].value is True  # auto-refresh on for the live account
    tiles = {tile.label: tile.value for tile in app.metric}
    assert tiles["Open orders"] == "1"
    assert tiles["Orders sent"] == str(len(seeded.results["rsi"].orders) + 1)
    working = app.dataframe[1].value
    assert working["id"].tolist() == ["working-order"]
