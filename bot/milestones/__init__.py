"""Milestones: the bot celebrates records, streaks, the quarter's best post and round numbers by itself."""
