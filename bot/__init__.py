"""SNS Team Bot: reviews, shared KPIs and digests for a company's social-media team, in Slack."""

__version__ = "0.1.0"
