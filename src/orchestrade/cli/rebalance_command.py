"""`orchestrade rebalance`: propose new weights for the stored bots, and apply them or not.

The proposal comes from the running bots' equity snapshots in the database (their daily
returns over the lookback) and their stored allocations (the current weights). It is
recorded with its reasoning; ``--dry-run`` stops there (status ``proposed``) and also lists
the latest recorded proposals, those the rebalancing agent made during a replay included.
Without ``--dry-run`` a proposal whose Sharpe improvement reaches the threshold is applied
(the bots' allocations change), otherwise recorded as skipped.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated

import pandas as pd
import typer
from rich.console import Group
from rich.table import Table
from rich.text import Text

from orchestrade.cli.console import console, reports_user_errors
from orchestrade.cli.optimize_command import (
    BoundsOption,
    CovarianceOption,
    MaxVolatilityOption,
    ObjectiveOption,
    RiskFreeOption,
    bot_equity,
)
from orchestrade.cli.options import DatabaseOption, open_database
from orchestrade.domain import Bot, BotState
from orchestrade.portfolio.analysis import PortfolioAnalysis, analyse, daily_returns
from orchestrade.portfolio.errors import RebalanceError
from orchestrade.portfolio.optimization import WeightBounds, parse_covariance, parse_objective
from orchestrade.portfolio.rebalancing import (
    RebalancePolicy,
    RebalanceProposal,
    RebalanceStatus,
    ThresholdRule,
    propose,
)
from orchestrade.storage import BotRepository, PortfolioRepository, Store
from orchestrade.storage.rebalances import RebalanceRecord, RebalanceRepository

TRIGGER = "on demand (orchestrade rebalance)"
PORTFOLIO = "bots"
"""The portfolio name of the proposals made here, for the store's running bots."""


@reports_user_errors
def rebalance(
    db: DatabaseOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show and record the proposal; apply nothing.")
    ] = False,
    objective: ObjectiveOption = "max_sharpe",
    covariance: CovarianceOption = "ledoit_wolf",
    bounds: BoundsOption = "0.05,0.40",
    risk_free: RiskFreeOption = 0.0,
    max_volatility: MaxVolatilityOption = None,
    min_improvement: Annotated[
        float,
        typer.Option("--min-improvement", help="Skip under this relative Sharpe gain (0.05)."),
    ] = 0.05,
    lookback: Annotated[
        int, typer.Option("--lookback", min=2, help="Daily returns the estimates use.")
    ] = 252,
    min_history: Annotated[
        int, typer.Option("--min-history", min=2, help="Fewest daily returns to propose.")
    ] = 60,
) -> None:
    """Propose new weights for the running bots; apply them when the Sharpe gain is enough."""
    policy = RebalancePolicy(
        objective=parse_objective(objective),
        covariance=parse_covariance(covariance),
        bounds=WeightBounds.parse(bounds),
        risk_free=risk_free,
        max_volatility=max_volatility,
        min_sharpe_improvement=min_improvement,
        lookback=lookback,
        min_history=min(min_history, lookback),
    )
    with open_database(db) as store:
        journal = RebalanceRepository(store)
        try:
            equity, bots = running_bot_equity(store)
        except RebalanceError as error:
            if not dry_run:
                raise
            recent = journal.recent(limit=10)
            if not recent:
                raise RebalanceError(f"{error}; and no rebalance has been recorded yet") from None
            console.print(f"no new proposal: {error}")
            console.print(history_table(recent))
            return
        returns = daily_returns(equity)
        current = current_weights(bots)
        proposal = propose(returns, current, policy=policy, at=datetime.now(UTC), trigger=TRIGGER)
        console.print(analysis_table(analyse(equity, current), proposal))
        console.print(f"reasoning: {proposal.reasoning}", highlight=False)
        if dry_run:
            rebalance_id = journal.record(proposal, portfolio=PORTFOLIO)
            console.print(
                f"dry run: nothing applied; proposal #{rebalance_id} recorded as proposed"
            )
            console.print(history_table(journal.recent(limit=10)))
            return
        verdict = ThresholdRule(policy.min_sharpe_improvement).evaluate(proposal.due_event())
        decision = "; ".join(verdict.reasons)
        rebalance_id = journal.record(proposal, portfolio=PORTFOLIO)
        if verdict.approved:
            updated = journal.apply(rebalance_id, decision=decision, at=datetime.now(UTC))
            console.print(
                f"applied rebalance #{rebalance_id} ({decision}): allocations of "
                f"{', '.join(updated)} updated"
            )
        else:
            journal.skip(rebalance_id, decision=decision, at=datetime.now(UTC))
            console.print(f"skipped rebalance #{rebalance_id}: {decision}")


def running_bot_equity(store: Store) -> tuple[pd.DataFrame, list[Bot]]:
    """The running bots with equity snapshots on two days or more, and those curves.

    Raises:
        RebalanceError: fewer than two such bots.
    """
    running = BotRepository(store).list(state=BotState.RUNNING)
    equity = bot_equity(PortfolioRepository(store), [bot.bot_id for bot in running])
    if equity.shape[1] < 2:
        raise RebalanceError(
            f"{equity.shape[1]} of the {len(running)} running bot(s) have equity snapshots on "
            "two days or more; a rebalance needs at least 2"
        )
    bots = [bot for bot in running if bot.bot_id in equity.columns]
    return equity, bots


def current_weights(bots: list[Bot]) -> dict[str, float]:
    """The bots' stored allocations as weights (equal weights when they are all 0)."""
    weights: dict[str, float] = {bot.bot_id: float(bot.allocation) for bot in bots}
    if not any(weights.values()):
        return dict.fromkeys(weights, 1.0)
    return weights


def analysis_table(analysis: PortfolioAnalysis, proposal: RebalanceProposal) -> Table:
    """One row per bot: its record, its current and proposed weight and its risk share."""
    table = Table(title=f"rebalance proposal ({proposal.trigger})", title_justify="left")
    columns = ("bot", "ROI", "Sharpe", "max DD", "volatility", "risk share", "now", "proposed")
    for column in columns:
        table.add_column(column, justify="left" if column == "bot" else "right")
    shares = analysis.risk_shares
    proposed = proposal.weights()
    current: dict[str, float] = {item.bot_id: float(item.weight) for item in proposal.current}
    for name, record in analysis.bots.items():
        table.add_row(
            name,
            f"{record.roi:.2%}",
            _number(record.sharpe),
            f"{record.max_drawdown:.2%}",
            f"{record.volatility:.2%}",
            f"{shares[name]:.1%}",
            f"{current.get(name, 0.0):.2%}",
            f"{proposed.get(name, 0.0):.2%}",
        )
    whole = analysis.portfolio
    table.caption = (
        f"portfolio: ROI {whole.roi:.2%}, Sharpe {_number(whole.sharpe)}, max drawdown "
        f"{whole.max_drawdown:.2%}, volatility {whole.volatility:.2%}; diversification ratio "
        f"{_number(analysis.diversification_ratio)}. Expected Sharpe "
        f"{_number(proposal.before.sharpe)} -> {_number(proposal.after.sharpe)}, volatility "
        f"{proposal.before.volatility:.2%} -> {proposal.after.volatility:.2%}"
    )
    return table


def history_table(records: list[RebalanceRecord]) -> Group:
    """The latest recorded proposals, newest first: a headline each (when, outcome, Sharpe
    and volatility before and after), then its weights, reasoning and decision, indented."""
    lines: list[Text | str] = [Text("recorded rebalances (newest first)", style="italic")]
    for record in records:
        proposal = record.proposal
        gain = proposal.sharpe_improvement
        weights = ", ".join(f"{item.bot_id} {float(item.weight):.1%}" for item in proposal.proposed)
        lines.append(
            f"#{record.rebalance_id} {record.portfolio} "
            f"{proposal.proposed_at:%Y-%m-%d %H:%M} {_status(record.status)}: Sharpe "
            f"{_number(proposal.before.sharpe)} -> {_number(proposal.after.sharpe)}"
            f"{'' if gain is None else f' ({gain:+.1%})'}, volatility "
            f"{proposal.before.volatility:.1%} -> {proposal.after.volatility:.1%}"
        )
        lines.append(Text(f"    weights: {weights}"))
        lines.append(Text(f"    {proposal.reasoning}. Decision: {record.decision or 'none yet'}"))
    return Group(*lines)


def _status(status: RebalanceStatus) -> str:
    style = {RebalanceStatus.APPLIED: "green", RebalanceStatus.SKIPPED: "yellow"}.get(status)
    return f"[{style}]{status.value}[/]" if style else status.value


def _number(value: float) -> str:
    return f"{value:.2f}" if math.isfinite(value) else "n/a"
