"""Glimpse: the shared core of the bundle (configuration, database, clock,
security, broker adapters, trading rules, backtesting, seeding, the CLI)."""

__version__ = "0.1.0"
