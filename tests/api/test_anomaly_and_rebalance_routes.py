"""Anomalies and rebalance proposals through the API, written by the real repositories;
applying a proposal sets the stored bots' allocations and tells the running node."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from orchestrade.auth import Role
from orchestrade.domain import (
    Allocation,
    AnomalyDetected,
    Bot,
    BotId,
    BotState,
    CircuitBreakerTripped,
    Severity,
    Symbol,
)
from orchestrade.portfolio.optimization import (
    CovarianceMethod,
    Objective,
    PortfolioEstimate,
    WeightBounds,
)
from orchestrade.portfolio.rebalancing import RebalanceProposal, RebalanceStatus
from orchestrade.storage import BotRepository

from .conftest import Api
from .test_errors import assert_error

T = datetime(2024, 3, 4, 6, 0, tzinfo=UTC)
RECORDED = "2024-01-02T00:00:00Z"  # the app's fake clock


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def record_findings(api: Api) -> None:
    api.context.anomalies.record_many(
        [
            AnomalyDetected(
                detected_at=T,
                detector="price_jump",
                severity=Severity.MEDIUM,
                subject="005930",
                value=0.12,
                threshold=0.1,
                reason="close jumped 12%",
                bot_id=BotId("a"),
            ),
            AnomalyDetected(
                detected_at=T + timedelta(hours=1),
                detector="api_error_rate",
                severity=Severity.HIGH,
                subject="a",
                value=0.35,
                threshold=0.3,
                reason="35% of broker calls failed",
                bot_id=BotId("a"),
            ),
            CircuitBreakerTripped(
                tripped_at=T + timedelta(hours=2),
                breaker="daily_loss",
                value=Decimal("0.12"),
                limit=Decimal("0.10"),
                reason="lost 12% today",
            ),
        ]
    )


def test_anomalies_newest_first_with_every_field(api: Api) -> None:
    record_findings(api)

    listed = api.client.get("/api/v1/anomalies", headers=api.headers(Role.VIEWER)).json()

    assert [item["detector"] for item in listed] == ["daily_loss", "api_error_rate", "price_jump"]
    assert listed[0] == {
        "id": 3,
        "kind": "circuit_breaker",
        "detected_at": iso(T + timedelta(hours=2)),
        "detector": "daily_loss",
        "severity": "critical",
        "subject": "portfolio",
        "bot_id": None,
        "value": 0.12,
        "threshold": 0.1,
        "reason": "lost 12% today",
        "recorded_at": RECORDED,
    }
    assert listed[2] == {
        "id": 1,
        "kind": "anomaly",
        "detected_at": iso(T),
        "detector": "price_jump",
        "severity": "medium",
        "subject": "005930",
        "bot_id": "a",
        "value": 0.12,
        "threshold": 0.1,
        "reason": "close jumped 12%",
        "recorded_at": RECORDED,
    }


def test_anomalies_filter_by_time_severity_bot_detector_and_kind(api: Api) -> None:
    record_findings(api)
    viewer = api.headers(Role.VIEWER)

    def detectors(**params: str) -> list[str]:
        response = api.client.get("/api/v1/anomalies", params=params, headers=viewer)
        assert response.status_code == 200, response.text
        return [item["detector"] for item in response.json()]

    assert detectors(since=iso(T + timedelta(hours=1))) == ["daily_loss", "api_error_rate"]
    assert detectors(until=iso(T + timedelta(hours=1))) == ["price_jump"]
    assert detectors(severity="high") == ["daily_loss", "api_error_rate"]
    assert detectors(severity="critical") == ["daily_loss"]
    assert detectors(bot_id="a") == ["api_error_rate", "price_jump"]
    assert detectors(detector="price_jump") == ["price_jump"]
    assert detectors(kind="anomaly") == ["api_error_rate", "price_jump"]
    assert detectors(limit="1") == ["daily_loss"]


def test_bad_anomaly_filters_are_422(api: Api) -> None:
    viewer = api.headers(Role.VIEWER)

    severity = api.client.get("/api/v1/anomalies?severity=dire", headers=viewer)
    kind = api.client.get("/api/v1/anomalies?kind=glitch", headers=viewer)
    naive = api.client.get("/api/v1/anomalies?since=2024-03-04T00:00:00", headers=viewer)

    assert assert_error(severity, 422, "invalid_request").startswith("query.severity: Input should")
    assert assert_error(kind, 422, "invalid_request").startswith("query.kind: Input should")
    assert "since must be timezone-aware" in assert_error(naive, 422, "invalid_request")


def proposal(at: datetime = T) -> RebalanceProposal:
    return RebalanceProposal(
        proposed_at=at,
        trigger="monthly rebalance",
        objective=Objective.MAX_SHARPE,
        covariance=CovarianceMethod.LEDOIT_WOLF,
        bounds=WeightBounds(0.1, 0.9),
        risk_free=0.0,
        max_volatility=None,
        observations=60,
        current=(
            Allocation(BotId("a"), Decimal("0.5")),
            Allocation(BotId("b"), Decimal("0.3")),
            Allocation(BotId("x"), Decimal("0.2")),
        ),
        proposed=(
            Allocation(BotId("a"), Decimal("0.6")),
            Allocation(BotId("b"), Decimal("0.3")),
            Allocation(BotId("x"), Decimal("0.1")),
        ),
        before=PortfolioEstimate(0.08, 0.2, 0.4),
        after=PortfolioEstimate(0.1, 0.2, 0.5),
    )


def store_bots(api: Api, *, held: tuple[str, ...] = ("a", "b")) -> None:
    """Bots a and b in the store; the node holds those in `held`."""
    for index, bot_id in enumerate(("a", "b")):
        bot = Bot(
            bot_id=BotId(bot_id),
            name=f"bot {bot_id}",
            strategy={"name": "sma_cross"},
            params={},
            symbols=(Symbol("005930"),),
            allocation=Decimal("0.5") if bot_id == "a" else Decimal("0.3"),
            state=BotState.RUNNING,
            created_at=T - timedelta(days=10 - index),
        )
        BotRepository(api.store).save(bot)
        if bot_id in held:
            api.control.keep(bot)


def test_rebalances_are_listed_newest_first_with_their_reasoning(api: Api) -> None:
    journal = api.context.rebalances
    first = journal.record(proposal(), portfolio="node")
    second = journal.record(
        proposal(T + timedelta(days=30)),
        portfolio="node",
        status=RebalanceStatus.SKIPPED,
        decision="Sharpe improvement 2% is below 5%",
    )
    viewer = api.headers(Role.VIEWER)

    listed = api.client.get("/api/v1/rebalances", headers=viewer).json()
    proposed = api.client.get("/api/v1/rebalances?status=proposed", headers=viewer).json()
    one = api.client.get(f"/api/v1/rebalances/{first}", headers=viewer).json()
    other = api.client.get("/api/v1/rebalances?portfolio=other", headers=viewer).json()

    assert [item["id"] for item in listed] == [second, first]
    assert listed[0]["status"] == "skipped"
    assert listed[0]["decision"] == "Sharpe improvement 2% is below 5%"
    assert [item["id"] for item in proposed] == [first]
    assert other == []
    assert one == {
        "id": first,
        "portfolio": "node",
        "status": "proposed",
        "decision": "",
        "decided_at": None,
        "proposed_at": iso(T),
        "trigger": "monthly rebalance",
        "objective": "max_sharpe",
        "covariance": "ledoit_wolf",
        "lower_bound": 0.1,
        "upper_bound": 0.9,
        "risk_free": 0.0,
        "max_volatility": None,
        "observations": 60,
        "current": [
            {"bot_id": "a", "weight": "0.5"},
            {"bot_id": "b", "weight": "0.3"},
            {"bot_id": "x", "weight": "0.2"},
        ],
        "proposed": [
            {"bot_id": "a", "weight": "0.6"},
            {"bot_id": "b", "weight": "0.3"},
            {"bot_id": "x", "weight": "0.1"},
        ],
        "before": {"expected_return": 0.08, "volatility": 0.2, "sharpe": 0.4},
        "after": {"expected_return": 0.1, "volatility": 0.2, "sharpe": 0.5},
        "sharpe_improvement": pytest.approx(0.25, rel=1e-12),  # (0.5 - 0.4) / 0.4
        "threshold": 0.05,
        "worthwhile": True,
        "reasoning": proposal().reasoning,
    }


def test_applying_a_proposal_sets_the_stored_and_running_bots_allocations(api: Api) -> None:
    store_bots(api)
    rebalance_id = api.context.rebalances.record(proposal(), portfolio="node")
    api.clock.now = T + timedelta(hours=1)

    applied = api.client.post(
        f"/api/v1/rebalances/{rebalance_id}/apply", headers=api.headers(Role.TRADER)
    )

    assert applied.status_code == 200, applied.text
    body = applied.json()
    assert body["updated_bots"] == ["a", "b"]  # x is not a stored bot
    assert body["rebalance"]["status"] == "applied"
    assert body["rebalance"]["decision"] == "applied by tom through the API"
    assert body["rebalance"]["decided_at"] == iso(T + timedelta(hours=1))
    stored = {bot.bot_id: bot.allocation for bot in BotRepository(api.store).list()}
    assert stored == {"a": Decimal("0.6"), "b": Decimal("0.3")}
    assert api.control.calls == [
        ("set_allocation", ("a", Decimal("0.6"))),
        ("set_allocation", ("b", Decimal("0.3"))),
    ]
    assert api.control.bot(BotId("a")).allocation == Decimal("0.6")


def test_a_bot_the_node_does_not_hold_keeps_the_stored_allocation(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    store_bots(api, held=("b",))
    rebalance_id = api.context.rebalances.record(proposal(), portfolio="node")

    with caplog.at_level(logging.WARNING, logger="orchestrade.api.routers.rebalances"):
        applied = api.client.post(
            f"/api/v1/rebalances/{rebalance_id}/apply", headers=api.headers(Role.TRADER)
        )

    assert applied.status_code == 200
    assert applied.json()["updated_bots"] == ["a", "b"]
    assert "bot a keeps its allocation until it restarts: no bot 'a'" in caplog.text
    assert BotRepository(api.store).get(BotId("a")).allocation == Decimal("0.6")  # type: ignore[union-attr]


def test_decided_unknown_or_viewer_applies_are_refused(api: Api) -> None:
    trader = api.headers(Role.TRADER)
    skipped = api.context.rebalances.record(
        proposal(), portfolio="node", status=RebalanceStatus.SKIPPED, decision="too small"
    )
    proposed = api.context.rebalances.record(proposal(), portfolio="node")

    decided = api.client.post(f"/api/v1/rebalances/{skipped}/apply", headers=trader)
    unknown = api.client.post("/api/v1/rebalances/999/apply", headers=trader)
    unknown_get = api.client.get("/api/v1/rebalances/999", headers=api.headers(Role.VIEWER))
    bad_id = api.client.post("/api/v1/rebalances/0/apply", headers=trader)
    by_viewer = api.client.post(
        f"/api/v1/rebalances/{proposed}/apply", headers=api.headers(Role.VIEWER)
    )
    twice = [
        api.client.post(f"/api/v1/rebalances/{proposed}/apply", headers=trader) for _ in range(2)
    ]

    assert assert_error(decided, 409, "conflict") == f"rebalance {skipped} is skipped already"
    assert assert_error(unknown, 404, "not_found") == "no rebalance 999"
    assert assert_error(unknown_get, 404, "not_found") == "no rebalance 999"
    assert assert_error(bad_id, 422, "invalid_request").startswith("path.rebalance_id:")
    assert_error(by_viewer, 403, "forbidden")
    assert twice[0].status_code == 200
    assert assert_error(twice[1], 409, "conflict") == f"rebalance {proposed} is applied already"


def test_an_id_past_the_database_s_integers_is_422_not_500(api: Api) -> None:
    # Found by schemathesis: SQLite's driver overflowed on the id (an unhandled 500).
    too_big = 2**63

    read = api.client.get(f"/api/v1/rebalances/{too_big}", headers=api.headers(Role.VIEWER))
    apply = api.client.post(f"/api/v1/rebalances/{too_big}/apply", headers=api.headers(Role.TRADER))
    largest = api.client.get(f"/api/v1/rebalances/{too_big - 1}", headers=api.headers(Role.VIEWER))

    assert assert_error(read, 422, "invalid_request") == (
        "path.rebalance_id: Input should be less than or equal to 9223372036854775807"
    )
    assert assert_error(apply, 422, "invalid_request").startswith("path.rebalance_id:")
    assert assert_error(largest, 404, "not_found") == f"no rebalance {too_big - 1}"
