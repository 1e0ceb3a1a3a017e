"""Managers taking part: reactions and thread replies on the bot's posts, review decisions and comments,
the monthly participation section and rate, kind nudges for the silent, and the App Home's part."""
