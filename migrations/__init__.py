"""Alembic migrations of the bot's store (run with ``sns-bot migrate``; ``sns-bot run`` runs them first)."""
