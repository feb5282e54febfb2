"""Pipewise among other systems: outbound webhooks, inbound mail, and the MCP server for AI assistants."""
