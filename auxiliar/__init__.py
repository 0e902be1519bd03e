"""Auxiliary services: the lister of open pairs, the candle streams, the server assigner."""
