"""Pipewise: one system of record for sales, and automation that follows the deal."""

__version__ = "0.1.0"
