"""Peer engines for the backtest benchmark, each reproducing the issue's reference semantics.

Every peer takes an aligned universe (`orchestrade.data.BarPanel`) and returns a `PeerRun`
(`peers.results`): trades in one common shape, final equity per symbol and the seconds spent
from loaded arrays to results. `peers.reference` is the plain Python definition they are
all checked against.
"""
