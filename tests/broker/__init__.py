"""Broker adapters: the contract both pass, and the IQ Option adapter against the fake server."""
