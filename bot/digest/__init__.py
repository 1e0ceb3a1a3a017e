"""Scheduled weekly and monthly digests posted to the team channels."""
