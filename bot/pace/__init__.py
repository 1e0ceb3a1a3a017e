"""Pace alerts: mid-month, one short alert per KPI behind its linear pace."""
