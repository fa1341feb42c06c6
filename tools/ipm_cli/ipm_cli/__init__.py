"""The ipm command: the local stack and the demo on real data."""
