"""Browser security headers on every response (pages, API, static files).

The pages run no inline script: every script is a file under /static, wired up through
data attributes. Styles allow 'unsafe-inline' for one reason: an e-mail's HTML is
previewed in a sandboxed ``srcdoc`` frame, which inherits this policy, and e-mail HTML
is styled inline. Pipewise's own templates carry no inline styles. The API docs page
loads Swagger UI from the site itself (the installed ``swagger-ui-bundle-v2`` package), so it
works offline and reaches no other site."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _policy(*, script: str, style: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {script}",
            f"style-src {style}",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


CONTENT_SECURITY_POLICY = _policy(script="'self'", style="'self' 'unsafe-inline'")
API_DOCS_PATH = "/api/docs"
API_DOCS_ASSETS = "/api/docs/assets"

COMMON_HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)


class SecurityHeaders:
    """Pure ASGI middleware: adds the headers to the start of every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = CONTENT_SECURITY_POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _value in headers}
                extra = [(b"content-security-policy", policy.encode()), *COMMON_HEADERS]
                headers.extend((name, value) for name, value in extra if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


API_DOCS_HTML = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pipewise API</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{API_DOCS_ASSETS}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/api/openapi.json"></div>
<script src="{API_DOCS_ASSETS}/swagger-ui-bundle.js"></script>
<script src="/static/js/api-docs.js"></script>
</body>
</html>
"""
