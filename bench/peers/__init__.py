"""Peer engines for the backtest benchmark, each reproducing the issue's reference semantics.

Every peer takes an aligned universe (`peers.panel_files.Panel`: an `orchestrade.data.BarPanel`,
or the `ArrayPanel` a benchmark worker reads back) and returns a `PeerRun`
(`peers.results`): trades in one common shape, final equity per symbol and the seconds spent
from loaded arrays to results. `peers.reference` is the plain Python definition they are
all checked against.
"""
