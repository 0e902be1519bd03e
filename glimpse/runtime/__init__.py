"""Process plumbing: configuration, the injectable clock, the service runner,
tickers, heartbeats and secrets handling."""
