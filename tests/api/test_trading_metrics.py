"""`/metrics` with a trading node: orders submitted, fills, risk rejections by check, agent
restarts and bus queue depths, each equal to an independent count (the order journal, the
risk agent's own tally, the node's idle queues)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from orchestrade.orchestration.control import BotRequest
from orchestrade.orchestration.event_hub import HUB_GROUP
from orchestrade.storage import SqlOrderJournal
from orchestration.supervised import FAST_SLOW

from .trading_app import Stream, open_stream

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def stream(tmp_path: Path) -> Iterator[Stream]:
    with open_stream(tmp_path) as opened:
        yield opened


def samples(stream: Stream) -> Samples:
    response = stream.client.get("/metrics", headers={"Authorization": f"Bearer {stream.token()}"})
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def labelled(samples: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: value for (sample, labels), value in samples.items() if sample == name}


def run_paper_bot(
    stream: Stream, limits: dict[str, float] | None = None
) -> tuple[str, dict[str, dict[str, int]]]:
    """Run a fast paper bot over its bars, with `limits` put in force as soon as it runs
    (its orders are planned without them, so the risk engine refuses those over them); its
    id and its node's own counters at the end."""
    supervisor = stream.supervisor
    request = BotRequest("sma_cross", params=FAST_SLOW, market="krx", mode="paper", interval_s=0.01)
    bot = stream.call(supervisor.create_bot, request)

    async def start() -> None:
        await supervisor.start_bot(bot.bot_id)
        if limits is not None:  # long before its first order: that needs 20 bars
            await supervisor.update_risk_limits(limits)

    stream.call(start)
    node = supervisor.node(bot.bot_id)
    assert node is not None
    stream.call(supervisor.wait_stopped, bot.bot_id)
    return bot.bot_id, node.counters()


def test_orders_fills_and_rejections_by_check_equal_independent_counts(stream: Stream) -> None:
    trading, trading_counters = run_paper_bot(stream)
    refused, refused_counters = run_paper_bot(stream, {"max_order_notional": 1_000_000.0})

    counted = samples(stream)

    journal = SqlOrderJournal(stream.store)
    orders = journal.list_orders(bot_id=trading, limit=1000)  # type: ignore[arg-type]
    fills = [fill for order in orders for fill in journal.fills(order.order_id)]
    assert len(orders) > 4
    assert labelled(counted, "orchestrade_orders_submitted_total") == {
        frozenset({("bot_id", trading)}): len(orders)
    }
    assert labelled(counted, "orchestrade_fills_total") == {
        frozenset({("bot_id", trading)}): len(fills)
    }
    assert trading_counters["execution"]["submitted"] == len(orders)
    rejections = refused_counters["risk"]["max_order_notional"]
    assert rejections > 0
    assert labelled(counted, "orchestrade_risk_rejections_total") == {
        frozenset({("bot_id", refused), ("check", "max_order_notional")}): rejections
    }
    assert journal.list_orders(bot_id=refused) == []  # type: ignore[arg-type]
    by_type = labelled(counted, "orchestrade_stream_events_total")
    assert by_type[frozenset({("type", "OrderFilled")})] == len(fills)
    assert by_type[frozenset({("type", "RiskRejected")})] == rejections
    assert counted[("orchestrade_stream_dropped_events_total", frozenset())] == 0


def test_agent_restarts_and_the_queue_depths_of_an_idle_bot_are_reported(stream: Stream) -> None:
    request = BotRequest("sma_cross", market="krx", mode="paper", interval_s=60.0)
    bot = stream.call(stream.supervisor.create_bot, request)
    stream.call(stream.supervisor.start_bot, bot.bot_id)
    node = stream.supervisor.node(bot.bot_id)
    assert node is not None
    stream.call(stream.supervisor.restart_agent, bot.bot_id, "portfolio")
    stream.call(stream.supervisor.restart_agent, bot.bot_id, "portfolio")
    stream.call(node.bus.wait_idle)

    counted = samples(stream)

    assert labelled(counted, "orchestrade_agent_restarts_total") == {
        frozenset({("bot_id", bot.bot_id), ("agent", "portfolio")}): 2
    }
    depths = labelled(counted, "orchestrade_bus_queue_depth")
    consumers = {dict(labels)["consumer"] for labels in depths}
    assert {HUB_GROUP, "supervisor", "risk", "execution", "orchestrator", "portfolio"} <= consumers
    assert {dict(labels)["bot_id"] for labels in depths} == {bot.bot_id}
    assert set(depths.values()) == {0.0}  # idle between two slices: nothing waits
