"""The MCP server (see server.py). Nothing here imports the MCP SDK, so the CLI can name
the command without loading it."""

DEFAULT_CALLS_PER_MINUTE = 120
