"""Developer and CI checks that are not part of the bot."""
