"""Compute operations: one transaction each; the API and other services call these."""
