"""Each person's language: the App Home's selector (Auto / 日本語 / English) and its listener."""
