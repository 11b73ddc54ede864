"""The vocabulary every layer shares: platforms, ASICs, units and problem reports."""
