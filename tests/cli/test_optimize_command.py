"""`orchestrade optimize` and `orchestrade rebalance` end to end through the CLI."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from orchestrade.cli.main import app
from orchestrade.domain import Bot, BotId, BotState, Symbol
from orchestrade.portfolio.optimization import WeightBounds, optimize
from orchestrade.portfolio.rebalancing import RebalanceStatus
from orchestrade.storage import BotRepository, PortfolioRepository, PortfolioSnapshot, open_store
from orchestrade.storage.rebalances import RebalanceRepository

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def returns_csv(path: Path, *, days: int = 300, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2023-01-02", periods=days)
    values = rng.multivariate_normal(
        [0.0006, 0.0003, 0.0004],
        [[2.0e-4, 4.0e-5, 1.0e-5], [4.0e-5, 1.0e-4, -2.0e-5], [1.0e-5, -2.0e-5, 6.0e-5]],
        size=days,
    )
    frame = pd.DataFrame(values, index=index, columns=["005930", "SPY", "BOND"])
    frame.index.name = "date"
    frame.to_csv(path, date_format="%Y-%m-%d")
    return frame


def test_a_crafted_csv_gives_the_two_asset_closed_form_minimum_variance(tmp_path: Path) -> None:
    frame = returns_csv(tmp_path / "returns.csv")[["005930", "SPY"]]
    frame.to_csv(tmp_path / "two.csv", date_format="%Y-%m-%d")
    out = tmp_path / "allocation.json"

    code, output = invoke(
        "optimize",
        "--returns",
        str(tmp_path / "two.csv"),
        "--objective",
        "min_variance",
        "--bounds",
        "0.1,0.9",
        "--json",
        str(out),
    )

    assert code == 0, output
    document = json.loads(out.read_text())
    s = np.cov(frame.to_numpy(), rowvar=False, ddof=1)
    expected = (s[1, 1] - s[0, 1]) / (s[0, 0] + s[1, 1] - 2 * s[0, 1])
    w = np.array([expected, 1 - expected])
    assert document["weights"]["005930"] == pytest.approx(expected, abs=1e-6)
    assert document["volatility"] == pytest.approx(math.sqrt(252 * w @ s @ w), rel=1e-6)
    assert document["expected_return"] == pytest.approx(
        252 * float(w @ frame.mean().to_numpy()), rel=1e-5
    )
    assert document["sharpe"] == pytest.approx(
        document["expected_return"] / document["volatility"], rel=1e-12
    )
    assert document["covariance"] == "sample"
    assert document["observations"] == 300
    assert "allocation: min_variance" in output


@pytest.mark.parametrize("objective", ["min_variance", "max_sharpe", "max_return"])
@pytest.mark.parametrize("covariance", ["sample", "ledoit_wolf"])
def test_the_json_is_the_optimizers_result(tmp_path: Path, objective: str, covariance: str) -> None:
    frame = returns_csv(tmp_path / "returns.csv")
    out = tmp_path / "allocation.json"
    options = ["--max-volatility", "0.2"] if objective == "max_return" else []

    code, output = invoke(
        "optimize",
        "--returns",
        str(tmp_path / "returns.csv"),
        "--objective",
        objective,
        "--bounds",
        "0.1,0.6",
        "--covariance",
        covariance,
        "--risk-free",
        "0.02",
        *options,
        "--json",
        str(out),
    )

    assert code == 0, output
    document = json.loads(out.read_text())
    direct = optimize(
        frame,
        objective=objective,
        covariance=covariance,
        bounds=WeightBounds(0.1, 0.6),
        risk_free=0.02,
        max_volatility=0.2 if objective == "max_return" else None,
    )
    assert document["weights"] == pytest.approx(direct.weights, abs=1e-9)
    assert sum(document["weights"].values()) == pytest.approx(1.0, abs=1e-12)
    assert all(0.1 <= weight <= 0.6 for weight in document["weights"].values())
    assert document["sharpe"] == pytest.approx(
        (document["expected_return"] - 0.02) / document["volatility"], rel=1e-12
    )
    assert (document["covariance"], document["objective"]) == (covariance, objective)
    assert document["periods_per_year"] == 252


@pytest.mark.shared_data
def test_a_folder_of_krx_price_files_uses_the_closes_on_common_dates(
    shared_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "krx.json"

    code, output = invoke(
        "optimize",
        "--returns",
        str(shared_data / "krx"),
        "--objective",
        "min_variance",
        "--bounds",
        "0.01,0.2",
        "--covariance",
        "ledoit_wolf",
        "--json",
        str(out),
    )

    assert code == 0, output
    document = json.loads(out.read_text())
    assert len(document["weights"]) == 32
    assert "005930" in document["weights"]
    # the ETNs Q520057 and Q530107 start on 2022-10-17: the common dates begin there
    assert (document["start"], document["end"]) == ("2022-10-18", "2023-12-22")
    assert document["observations"] == 295
    assert min(document["weights"].values()) >= 0.01
    assert max(document["weights"].values()) <= 0.2


@pytest.mark.shared_data
def test_default_bounds_cannot_hold_32_krx_assets_and_say_so(shared_data: Path) -> None:
    code, output = invoke(
        "optimize", "--returns", str(shared_data / "krx"), "--objective", "max_sharpe"
    )

    assert code == 2
    assert "error: weight bounds 0.05..0.4 are infeasible for 32 asset(s)" in " ".join(
        output.split()
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--objective", "max_fun"], "unknown objective 'max_fun'"),
        (["--objective", "min_variance", "--bounds", "5%"], "LOWER,UPPER"),
        (["--objective", "min_variance", "--covariance", "exotic"], "unknown covariance"),
        (["--objective", "max_return", "--max-volatility", "0.001"], "is below the least"),
    ],
)
def test_bad_options_are_one_clear_line(tmp_path: Path, arguments: list[str], message: str) -> None:
    returns_csv(tmp_path / "returns.csv")

    code, output = invoke(
        "optimize", "--returns", str(tmp_path / "returns.csv"), "--bounds", "0.1,0.6", *arguments
    )

    assert code == 2
    assert message in " ".join(output.split())


def test_a_bad_file_or_unknown_bots_are_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,a,b\n2024-01-02,0.1,x\n", encoding="utf-8")

    bad_code, bad_output = invoke("optimize", "--returns", str(bad), "--objective", "max_sharpe")
    bots_code, bots_output = invoke(
        "optimize",
        "--returns",
        "bot-x,bot-y",
        "--objective",
        "max_sharpe",
        "--db",
        f"sqlite:///{tmp_path / 'store.db'}",
    )

    assert (bad_code, bots_code) == (2, 2)
    assert "b on 2024-01-02 (line 2) is 'x', not a number" in " ".join(bad_output.split())
    assert "no stored bot bot-x, bot-y" in " ".join(bots_output.split())


# -- stored bots: optimize --returns bots, rebalance ------------------------------------------

CREATED = datetime(2024, 1, 1, tzinfo=UTC)


def stored_bots(url: str, *, days: int = 130) -> dict[str, list[float]]:
    """Three running bots with daily equity snapshots (and a stopped one, left out)."""
    rng = np.random.default_rng(17)
    curves = {
        "alpha": 1e6 * np.cumprod(1 + 0.0009 + 0.012 * rng.standard_normal(days)),
        "beta": 1e6 * np.cumprod(1 + 0.0002 + 0.006 * rng.standard_normal(days)),
        "gamma": 1e6 * np.cumprod(1 + 0.0004 + 0.009 * rng.standard_normal(days)),
        "old": 1e6 * np.cumprod(1 + 0.0030 + 0.001 * rng.standard_normal(days)),
    }
    with open_store(url) as store:
        bots, portfolio = BotRepository(store), PortfolioRepository(store)
        for name, values in curves.items():
            bots.save(
                Bot(
                    bot_id=BotId(name),
                    name=name,
                    strategy={"name": "sma_cross"},
                    params={},
                    symbols=(Symbol("005930"),),
                    allocation=Decimal("0.25"),
                    state=BotState.STOPPED if name == "old" else BotState.RUNNING,
                    created_at=CREATED,
                )
            )
            for day, value in enumerate(values):
                equity = Decimal(f"{value:.2f}")
                portfolio.record_snapshot(
                    PortfolioSnapshot(
                        CREATED + timedelta(days=day, hours=6),
                        equity,
                        Decimal(0),
                        equity,
                        BotId(name),
                    )
                )
    return {name: list(values) for name, values in curves.items()}


def test_optimize_reads_the_returns_of_stored_bots(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    stored_bots(url)
    out = tmp_path / "bots.json"

    code, output = invoke(
        "optimize",
        "--returns",
        "bots",
        "--objective",
        "min_variance",
        "--bounds",
        "0.1,0.8",
        "--db",
        url,
        "--json",
        str(out),
    )

    assert code == 0, output
    assert sorted(json.loads(out.read_text())["weights"]) == ["alpha", "beta", "gamma"]
    assert json.loads(out.read_text())["observations"] == 129


def test_rebalance_dry_run_shows_and_records_the_proposal_without_applying(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    stored_bots(url)

    code, output = invoke("rebalance", "--db", url, "--dry-run", "--bounds", "0.1,0.6")

    assert code == 0, output
    text = " ".join(output.split())
    assert "reasoning: on demand (orchestrade rebalance): max_sharpe over 129 daily returns" in text
    assert "dry run: nothing applied" in text
    with open_store(url) as store:
        (record,) = RebalanceRepository(store).recent()
        allocations = {bot.bot_id: bot.allocation for bot in BotRepository(store).list()}
    assert (record.status, record.portfolio) == (RebalanceStatus.PROPOSED, "bots")
    assert [item.bot_id for item in record.proposal.proposed] == ["alpha", "beta", "gamma"]
    assert set(allocations.values()) == {Decimal("0.25")}


def test_rebalance_applies_a_worthwhile_proposal_to_the_stored_bots(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    stored_bots(url)

    code, output = invoke("rebalance", "--db", url, "--bounds", "0.1,0.6")

    assert code == 0, output
    with open_store(url) as store:
        (record,) = RebalanceRepository(store).recent()
        allocations = {bot.bot_id: bot.allocation for bot in BotRepository(store).list()}
    improvement = record.proposal.sharpe_improvement
    assert improvement is not None
    assert improvement >= 0.05
    assert record.status is RebalanceStatus.APPLIED
    assert "applied rebalance #1" in output
    proposed = {item.bot_id: item.weight for item in record.proposal.proposed}
    assert allocations == {**proposed, "old": Decimal("0.25")}
    assert sum(proposed.values()) == 1


def test_rebalance_skips_a_proposal_under_the_threshold(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    stored_bots(url)

    code, output = invoke(
        "rebalance", "--db", url, "--bounds", "0.1,0.6", "--min-improvement", "100"
    )

    assert code == 0, output
    assert "skipped rebalance #1: Sharpe improvement" in " ".join(output.split())
    with open_store(url) as store:
        (record,) = RebalanceRepository(store).recent()
        allocations = {bot.bot_id: bot.allocation for bot in BotRepository(store).list()}
    assert record.status is RebalanceStatus.SKIPPED
    assert set(allocations.values()) == {Decimal("0.25")}


def test_rebalance_without_bots_to_weigh_is_one_clear_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"

    code, output = invoke("rebalance", "--db", url)
    dry_code, dry_output = invoke("rebalance", "--db", url, "--dry-run")

    assert (code, dry_code) == (2, 2)
    assert "0 of the 0 running bot(s) have equity snapshots" in " ".join(output.split())
    assert "no rebalance has been recorded yet" in " ".join(dry_output.split())
