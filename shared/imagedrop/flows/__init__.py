"""Orchestration: the steps of an import over the adapters and the decisions."""
