"""Pure trading rules: candle colours and patterns, money and gale plans, stops, pair
selection, decision timing, the market schedule. Nothing here imports the rest of
the project, touches a database or reads a clock."""
