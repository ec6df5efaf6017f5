"""Return series from a wide CSV of returns or from closes, with clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from orchestrade.portfolio.errors import ReturnsFileError
from orchestrade.portfolio.returns_files import load_returns, read_returns_csv, returns_from_closes


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_wide_csv_keeps_asset_names_as_text_and_the_common_dates(tmp_path: Path) -> None:
    source = write(
        tmp_path / "returns.csv",
        "date,005930,SPY\n"
        "2024-01-03,0.01,-0.002\n"
        "20240102,-0.005,0.003\n"
        "2024-01-04,,0.001\n"
        "2024-01-05,0.02,0.0\n",
    )

    returns = read_returns_csv(source)

    assert list(returns.columns) == ["005930", "SPY"]
    assert [str(day.date()) for day in returns.index] == ["2024-01-02", "2024-01-03", "2024-01-05"]
    assert returns["005930"].tolist() == [-0.005, 0.01, 0.02]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date\n2024-01-02\n", "a date column and one column of returns per asset"),
        ("date,a,b\n", "header but no rows"),
        ("date,a,b\nyesterday,0.1,0.2\n", r"'date' value 'yesterday' on line 2 is not a date"),
        (
            "date,a,b\n2024-01-02,0.1,0.2\n2024-01-03,1%,0.2\n",
            r"a on 2024-01-03 \(line 3\) is '1%'",
        ),
        ("date,a,b\n2024-01-02,0.1,0.2\n2024-01-02,0.1,0.2\n", "date 2024-01-02 appears twice"),
        ("date,a,b\n2024-01-02,0.1,0.2\n2024-01-03,-1.0,0.2\n", "a loses 100% or more on 2024"),
        ("date,a,b\n2024-01-02,0.1,\n2024-01-03,0.1,0.2\n", "1 date.s. where every asset"),
        ("date,a,a\n2024-01-02,0.1,0.2\n", "asset column.s. named twice: a"),
    ],
)
def test_bad_return_files_are_refused_naming_the_file_and_the_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    source = write(tmp_path / "bad.csv", text)

    with pytest.raises(ReturnsFileError, match=message) as caught:
        read_returns_csv(source)

    assert str(caught.value).startswith(str(source))


def test_a_missing_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(ReturnsFileError, match="no such file or folder"):
        load_returns(tmp_path / "nowhere.csv")


def test_returns_from_closes_use_the_dates_every_asset_traded() -> None:
    a = pd.Series(
        [100.0, 110.0, 99.0, 99.0],
        index=pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]),
    )
    b = pd.Series(
        [50.0, 55.0, 44.0], index=pd.to_datetime(["2024-01-02", "2024-01-04", "2024-01-05"])
    )

    returns = returns_from_closes({"a": a, "b": b})

    # common dates 01-02, 01-04, 01-05: a 100 -> 99 -> 99, b 50 -> 55 -> 44
    assert returns["a"].tolist() == pytest.approx([-0.01, 0.0])
    assert returns["b"].tolist() == pytest.approx([0.1, -0.2])


def test_closes_that_cannot_give_returns_are_refused() -> None:
    days = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"])
    good = pd.Series([1.0, 2.0, 3.0], index=days)

    with pytest.raises(ReturnsFileError, match="at least 2 assets, found 1"):
        returns_from_closes({"a": good})
    with pytest.raises(ReturnsFileError, match="b has a close that is not positive"):
        returns_from_closes({"a": good, "b": pd.Series([1.0, 0.0, 2.0], index=days)})
    with pytest.raises(ReturnsFileError, match=r"share 1 date\(s\) with a close"):
        returns_from_closes({"a": good, "b": pd.Series([1.0], index=days[:1])})


def test_a_folder_is_read_by_the_closes_reader_it_is_given(tmp_path: Path) -> None:
    days = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"])
    seen: list[Path] = []

    def read_closes(folder: Path) -> dict[str, pd.Series]:
        seen.append(folder)
        return {
            "a": pd.Series([10.0, 11.0, 12.1], index=days),
            "b": pd.Series([20.0, 19.0, 19.0], index=days),
        }

    returns = load_returns(tmp_path, read_closes=read_closes)

    assert seen == [tmp_path]
    assert returns["a"].tolist() == pytest.approx([0.1, 0.1])
    with pytest.raises(ReturnsFileError, match="needs a closes reader"):
        load_returns(tmp_path)
