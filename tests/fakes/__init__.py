"""Fakes of outside services for the test suites (loopback only)."""
