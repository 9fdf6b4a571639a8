"""Gymnasium wrappers for Portia: time pause, latency budgets, multi-embodiment (planned)."""
