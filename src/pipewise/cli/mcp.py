"""`pipewise mcp`: the MCP server for AI assistants, over stdio (an assistant starts it as
a subprocess) or over streamable HTTP (`--http`). See docs/integrations.md."""

import typer

from pipewise.api.deps import resolve_actor
from pipewise.cli.output import err
from pipewise.db.session import session_scope
from pipewise.integrations.mcp import DEFAULT_CALLS_PER_MINUTE


def mcp(
    http: bool = typer.Option(False, "--http", help="Serve streamable HTTP at /mcp instead of stdio."),
    host: str = typer.Option("127.0.0.1", help="With --http: the address to listen on."),
    port: int = typer.Option(8765, help="With --http: the port to listen on."),
    token: str | None = typer.Option(
        None, "--token", envvar="PIPEWISE_API_TOKEN", show_default=False,
        help="Stdio: the API token of the person the assistant acts as (or PIPEWISE_API_TOKEN). "
        "Over HTTP each request sends its own.",
    ),
    calls_per_minute: int = typer.Option(DEFAULT_CALLS_PER_MINUTE, min=1, help="Tool calls each token may make in a minute."),
) -> None:
    """Serve Pipewise's tools to an AI assistant, with the rights of the token's user."""
    from pipewise.integrations.mcp import server  # the MCP SDK loads for this command only

    if http:
        err.print(f"MCP server on http://{host}:{port}{server.HTTP_PATH} (each request: Authorization: Bearer <token>)")
        server.run_http(host=host, port=port, calls_per_minute=calls_per_minute)
        return
    if not token:
        err.print("[red]An API token is needed[/]: set PIPEWISE_API_TOKEN or pass --token (create one under Settings → API tokens, or with `pipewise token create`).")
        raise typer.Exit(2)
    with session_scope(write=False) as session:
        resolve_actor(session, token)  # an unknown or revoked token stops here, with its message
    server.run_stdio(token, calls_per_minute=calls_per_minute)
