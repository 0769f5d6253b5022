"""Writes of the screening domain, one module per concern (docs/architecture.md)."""
