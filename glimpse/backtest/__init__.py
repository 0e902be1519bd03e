"""Backtesting: the vectorised backtester and the colour sources it reads."""
