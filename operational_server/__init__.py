"""The operational server: the bot that serves one assigned user at a time, in strategy or signals mode."""
