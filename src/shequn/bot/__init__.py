"""The group bot (社群机器人): platform-neutral decisions over live events (docs/bot.md)."""
