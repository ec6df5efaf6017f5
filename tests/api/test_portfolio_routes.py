"""Equity history, portfolio metrics and allocations from snapshots and bots written by the
real repositories; every statistic checked against a closed form worked out by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fakes import order
from orchestrade.auth import Role
from orchestrade.domain import Bot, BotId, BotState, Fill, FillId, OrderStatus, Side, Symbol
from orchestrade.storage import BotRepository, PortfolioSnapshot, SqlOrderJournal

from .conftest import Api
from .test_errors import assert_error

DAY1 = datetime(2024, 3, 4, 6, 0, tzinfo=UTC)
BOT_A = ["500", "550", "495", "544.5"]  # +10%, -10%, +10%
BOT_B = ["500", "450", "495", "445.5"]  # -10%, +10%, -10%: the mirror of A
TOTAL = ["1000", "1000", "990", "990.0"]  # the whole portfolio: A + B, day by day


def day(index: int) -> datetime:
    return DAY1 + timedelta(days=index)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def store_bot(api: Api, bot_id: str, allocation: str, minutes: int) -> None:
    BotRepository(api.store).save(
        Bot(
            bot_id=BotId(bot_id),
            name=f"bot {bot_id}",
            strategy={"name": "sma_cross"},
            params={},
            symbols=(Symbol("005930"),),
            allocation=Decimal(allocation),
            state=BotState.RUNNING,
            created_at=DAY1 + timedelta(minutes=minutes),
        )
    )


def record_curve(api: Api, bot_id: str | None, equities: list[str], cash: str = "100") -> None:
    for index, equity in enumerate(equities):
        api.context.portfolio.record_snapshot(
            PortfolioSnapshot(
                time=day(index),
                cash=Decimal(cash),
                market_value=Decimal(equity) - Decimal(cash),
                equity=Decimal(equity),
                bot_id=None if bot_id is None else BotId(bot_id),
            )
        )


@pytest.fixture
def portfolio(api: Api) -> Api:
    """Bots a and b with mirrored curves, and bot c without snapshots."""
    store_bot(api, "a", "0.5", 0)
    store_bot(api, "b", "0.3", 1)
    store_bot(api, "c", "0.2", 2)
    record_curve(api, "a", BOT_A)
    record_curve(api, "b", BOT_B, cash="45.5")
    return api


def test_equity_history_of_the_whole_and_each_stored_bot(portfolio: Api) -> None:
    history = portfolio.client.get(
        "/api/v1/portfolio/equity", headers=portfolio.headers(Role.VIEWER)
    ).json()

    assert history["total"]["bot_id"] is None
    # The whole is the sum of the bots (they may run in separate nodes): cash 100 + 45.5,
    # market value 450 + 404.5, equity 550 + 450.
    assert history["total"]["points"][1] == {
        "time": iso(day(1)),
        "cash": "145.5",
        "market_value": "854.5",
        "equity": "1000",
    }
    assert [point["equity"] for point in history["total"]["points"]] == TOTAL
    assert [curve["bot_id"] for curve in history["bots"]] == ["a", "b", "c"]
    assert [point["equity"] for point in history["bots"][0]["points"]] == BOT_A
    assert history["bots"][1]["points"][3] == {
        "time": iso(day(3)),
        "cash": "45.5",
        "market_value": "400.0",
        "equity": "445.5",
    }
    assert history["bots"][2]["points"] == []


def test_equity_history_of_one_bot_within_a_time_range(portfolio: Api) -> None:
    response = portfolio.client.get(
        "/api/v1/portfolio/equity",
        params={"bot_id": "a", "start": iso(day(1)), "end": iso(day(3))},
        headers=portfolio.headers(Role.VIEWER),
    )

    body = response.json()
    assert [point["equity"] for point in body["total"]["points"]] == ["1000", "990"]
    assert [curve["bot_id"] for curve in body["bots"]] == ["a"]
    assert [point["time"] for point in body["bots"][0]["points"]] == [iso(day(1)), iso(day(2))]


def test_naive_time_bounds_are_422(portfolio: Api) -> None:
    response = portfolio.client.get(
        "/api/v1/portfolio/equity",
        params={"start": "2024-03-04T00:00:00"},
        headers=portfolio.headers(Role.VIEWER),
    )

    assert "start must be timezone-aware" in assert_error(response, 422, "invalid_request")


def test_metrics_of_the_account_and_bots_match_hand_computed_values(portfolio: Api) -> None:
    metrics = portfolio.client.get(
        "/api/v1/portfolio/metrics", headers=portfolio.headers(Role.VIEWER)
    ).json()

    # The whole (A + B): daily returns 0, -0.01, 0: mean -1/300, sample variance
    # (1 + 4 + 1) / 90000 / 2 = 1/30000, so Sharpe = (-1/300) sqrt(30000) sqrt(252)
    # = -sqrt(84) and volatility = sqrt(252 / 30000) = sqrt(0.0084).
    total = metrics["total"]
    assert total["roi"] == pytest.approx(-0.01, rel=1e-12)
    assert total["sharpe"] == pytest.approx(-math.sqrt(84), rel=1e-12)
    assert total["volatility"] == pytest.approx(math.sqrt(0.0084), rel=1e-12)
    assert total["max_drawdown"] == pytest.approx(-0.01, rel=1e-12)
    assert total["observations"] == 3
    assert (total["first_equity"], total["last_equity"]) == ("1000", "990.0")
    # Each bot: +0.1, -0.1, +0.1: mean 1/30, sample deviation sqrt(0.04/3), so
    # Sharpe = (1/30) / sqrt(0.04/3) * sqrt(252) = sqrt(21) and volatility = sqrt(3.36).
    assert (total["start"], total["end"]) == (iso(day(0)), iso(day(3)))
    assert [record["bot_id"] for record in metrics["bots"]] == ["a", "b"]
    bot_a, bot_b = (record["performance"] for record in metrics["bots"])
    assert bot_a["roi"] == pytest.approx(0.089, rel=1e-12)
    assert bot_a["sharpe"] == pytest.approx(math.sqrt(21), rel=1e-12)
    # B: -0.1, +0.1, -0.1: the same deviation, the opposite mean.
    assert bot_b["roi"] == pytest.approx(-0.109, rel=1e-12)
    assert bot_b["sharpe"] == pytest.approx(-math.sqrt(21), rel=1e-12)
    assert bot_b["max_drawdown"] == pytest.approx(-0.109, rel=1e-12)
    assert metrics["skipped"] == {}


def test_diversification_of_two_mirrored_bots_matches_hand_computed_values(
    portfolio: Api,
) -> None:
    diversification = portfolio.client.get(
        "/api/v1/portfolio/metrics", headers=portfolio.headers(Role.VIEWER)
    ).json()["diversification"]

    # Weights: shares of the last day's equity, 544.5 and 445.5 of 990. Annual variances
    # 3.36 each, covariance -3.36: w'Sw = 3.36 (0.55 - 0.45)^2 = 0.0336; contributions
    # 0.55 * 0.336 and 0.45 * -0.336, i.e. shares 5.5 and -4.5; diversification ratio
    # (0.55 + 0.45) sqrt(3.36) / sqrt(0.0336) = 10.
    assert diversification["weights"] == {
        "a": pytest.approx(0.55, rel=1e-12),
        "b": pytest.approx(0.45, rel=1e-12),
    }
    assert diversification["risk_shares"] == {
        "a": pytest.approx(5.5, rel=1e-9),
        "b": pytest.approx(-4.5, rel=1e-9),
    }
    assert diversification["diversification_ratio"] == pytest.approx(10.0, rel=1e-9)
    assert diversification["correlation"] == {
        "a": {"a": pytest.approx(1.0), "b": pytest.approx(-1.0)},
        "b": {"a": pytest.approx(-1.0), "b": pytest.approx(1.0)},
    }


def test_metrics_leave_out_what_cannot_be_analysed(api: Api) -> None:
    store_bot(api, "a", "0.5", 0)
    store_bot(api, "z", "0.5", 1)
    record_curve(api, "a", ["500"])
    record_curve(api, "z", ["500", "0"], cash="0")

    metrics = api.client.get("/api/v1/portfolio/metrics", headers=api.headers(Role.VIEWER)).json()

    # The whole: 500 + 500, then 500 + 0: one return, -50%, no deviation yet.
    assert metrics["total"]["roi"] == pytest.approx(-0.5, rel=1e-12)
    assert metrics["total"]["sharpe"] is None
    ((record),) = metrics["bots"]
    assert record["bot_id"] == "a"
    assert record["performance"]["roi"] == 0.0
    assert record["performance"]["sharpe"] is None
    assert record["performance"]["volatility"] is None
    assert record["performance"]["observations"] == 0
    assert metrics["skipped"] == {"z": "equity 'z' must be finite and positive"}
    assert metrics["diversification"] is None


def test_allocations_of_the_stored_bots_with_their_equity_shares(portfolio: Api) -> None:
    allocations = portfolio.client.get(
        "/api/v1/portfolio/allocations", headers=portfolio.headers(Role.VIEWER)
    ).json()

    assert allocations == {
        "items": [
            {
                "bot_id": "a",
                "name": "bot a",
                "state": "running",
                "allocation": "0.5",
                "equity": "544.5",
                "equity_share": 0.55,
            },
            {
                "bot_id": "b",
                "name": "bot b",
                "state": "running",
                "allocation": "0.3",
                "equity": "445.5",
                "equity_share": 0.45,
            },
            {
                "bot_id": "c",
                "name": "bot c",
                "state": "running",
                "allocation": "0.2",
                "equity": None,
                "equity_share": None,
            },
        ],
        "total_allocation": "1.0",
        "total_equity": "990.0",
    }


def test_an_empty_portfolio_answers_with_empty_values(api: Api) -> None:
    viewer = api.headers(Role.VIEWER)

    equity = api.client.get("/api/v1/portfolio/equity", headers=viewer).json()
    metrics = api.client.get("/api/v1/portfolio/metrics", headers=viewer).json()
    allocations = api.client.get("/api/v1/portfolio/allocations", headers=viewer).json()

    assert equity == {"total": {"bot_id": None, "points": []}, "bots": []}
    assert metrics == {"total": None, "bots": [], "skipped": {}, "diversification": None}
    assert allocations == {"items": [], "total_allocation": "0", "total_equity": "0"}


def test_win_rate_counts_the_round_trips_that_made_money_after_costs(portfolio: Api) -> None:
    journal = SqlOrderJournal(portfolio.store)

    def trade(order_id: str, side: Side, price: str, fee: str, day_index: int, bot: str) -> None:
        placed = order(order_id, side, 10, bot=bot).with_status(OrderStatus.SUBMITTED)
        placed = placed.with_status(OrderStatus.ACCEPTED)
        journal.record_order(placed, at=day(day_index))
        fill = Fill(
            FillId(f"{order_id}-1"),
            placed.order_id,
            Symbol("005930"),
            side,
            Decimal(10),
            Decimal(price),
            day(day_index),
            fee=Decimal(fee),
        )
        journal.record_fill(fill, placed.with_fill(fill), at=day(day_index))

    # Bot a: +100 - 2 fees = +98 (a win); then -10 - 2 = -12 (a loss). Bot b: 0 - 2 = -2.
    trade("a1", Side.BUY, "100", "1", 0, "a")
    trade("a2", Side.SELL, "110", "1", 1, "a")
    trade("a3", Side.BUY, "100", "1", 1, "a")
    trade("a4", Side.SELL, "99", "1", 2, "a")
    trade("b1", Side.BUY, "50", "1", 0, "b")
    trade("b2", Side.SELL, "50", "1", 3, "b")

    metrics = portfolio.client.get(
        "/api/v1/portfolio/metrics", headers=portfolio.headers(Role.VIEWER)
    ).json()
    by_bot = {record["bot_id"]: record["performance"] for record in metrics["bots"]}

    assert (by_bot["a"]["closed_trades"], by_bot["a"]["win_rate"]) == (2, 0.5)
    assert (by_bot["b"]["closed_trades"], by_bot["b"]["win_rate"]) == (1, 0.0)
    assert (metrics["total"]["closed_trades"], metrics["total"]["win_rate"]) == (3, 1 / 3)
    window = portfolio.client.get(
        "/api/v1/portfolio/metrics",
        params={"start": iso(day(2))},
        headers=portfolio.headers(Role.VIEWER),
    ).json()
    assert window["total"]["closed_trades"] == 2  # a's second trip and b's close in window


def test_a_blank_bot_id_is_422_not_500(portfolio: Api) -> None:
    # Found by schemathesis: the snapshot store refused the blank id (an unhandled 500).
    for blank in (" ", "\r"):
        response = portfolio.client.get(
            "/api/v1/portfolio/equity",
            params={"bot_id": blank},
            headers=portfolio.headers(Role.VIEWER),
        )

        assert assert_error(response, 422, "invalid_request") == (
            "query.bot_id: String should match pattern '\\S'"
        )
