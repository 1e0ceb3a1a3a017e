"""App Home: each user's personal SNS dashboard."""
