"""The notification inbox pages."""
