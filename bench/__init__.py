"""Benchmarks: each script prints JSON (see README, Benchmarks)."""
