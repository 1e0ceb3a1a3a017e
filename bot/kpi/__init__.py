"""Shared KPIs: declared targets, imported and collected numbers, and the /sns-kpi answers."""
