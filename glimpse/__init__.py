"""Glimpse: the shared core of the bundle, in subpackages by responsibility:
rules (pure trading rules), market (broker interface, adapters, paper market),
store (database, ledger, life cycles, seeding), backtest, runtime (config,
clock, service runner, ticker, heartbeat) and cli.

`__version__` is the one place the version is written: pyproject.toml reads it.
"""

__version__ = "0.1.0"
