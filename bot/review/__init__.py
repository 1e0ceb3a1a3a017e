"""/sns-review: drafts, manager decisions with structured feedback, approval chains, reminders."""
