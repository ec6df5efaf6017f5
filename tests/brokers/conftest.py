"""A factory of paper brokers on scratch files, closed after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from fakes import FakeClock
from orchestrade.brokers.paper import PaperBroker, PaperSettings

PaperFactory = Callable[..., PaperBroker]


@pytest.fixture
def paper_path(tmp_path: Path) -> Path:
    return tmp_path / "paper" / "account.db"


@pytest.fixture
def open_paper(paper_path: Path) -> Iterator[PaperFactory]:
    """`open_paper(settings, cash=..., path=...)` opens a paper broker; all are closed at
    the end of the test."""
    opened: list[PaperBroker] = []

    def factory(
        settings: PaperSettings | None = None,
        *,
        cash: Decimal = Decimal(10_000_000),
        path: Path | None = None,
        clock: FakeClock | None = None,
    ) -> PaperBroker:
        broker = PaperBroker.open(
            path or paper_path,
            settings or PaperSettings(),
            cash=cash,
            clock=clock or FakeClock(),
        )
        opened.append(broker)
        return broker

    yield factory
    for broker in opened:
        broker.close()
