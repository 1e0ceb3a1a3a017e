"""Test doubles for Slack: fake Web API server, signed requests, payload builders, Block Kit checks."""
