"""Pipewise among other systems: webhook subscriptions out, and the MCP server for AI assistants."""
