"""The shared Slack edge: client, Block Kit primitives, error rendering, idempotency (no feature logic)."""
