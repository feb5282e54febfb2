"""A document as HTML in the recipient's language and number formats, and as a PDF made
by WeasyPrint. WeasyPrint (and the Pango stack under it) is imported on the first render,
so a process that never renders a document never loads it."""

import base64
import re
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from jinja2 import Environment, PackageLoader, select_autoescape

from pipewise.quotes.documents.labels import labels_for
from pipewise.quotes.documents.model import Document

# UN/ECE Recommendation 20 codes shown as a short word; "one" (C62) shows nothing.
UNIT_SYMBOLS = {"C62": "", "H87": "", "EA": "", "HUR": "h", "DAY": "d", "MON": "mo", "ANN": "yr", "KGM": "kg",
                "MTR": "m", "LTR": "l", "MIN": "min", "WEE": "wk"}

# The brand colour goes into the style sheet, so only a hex colour is let through.
BRAND_COLOR = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?")
DEFAULT_BRAND = "#1f4e79"


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("pipewise.quotes.documents", "templates"),
        autoescape=select_autoescape(("html",)),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def render_html(document: Document) -> str:
    locale = _locale(document.language)
    currency = document.currency

    def amount(value: Decimal) -> str:
        return format_currency(value, currency, locale=locale)

    def price(value: Decimal) -> str:
        # A unit price may carry more decimals than the currency (0.0125 per screw): keep them.
        return format_currency(value.normalize(), currency, locale=locale, decimal_quantization=False)

    def quantity(value: Decimal) -> str:
        return format_decimal(value, format="#,##0.####", locale=locale)

    def percent(value: Decimal) -> str:
        return format_decimal(value, format="#,##0.##", locale=locale) + "\u00a0%"

    def day(value: date) -> str:
        return format_date(value, format="medium", locale=locale)

    def country(code: str) -> str:
        return locale.territories.get(code.upper(), code)

    context: dict[str, Any] = {
        "doc": document,
        "lang": str(locale.language),
        "t": labels_for(document.language),
        "brand": document.brand_color if BRAND_COLOR.fullmatch(document.brand_color or "") else DEFAULT_BRAND,
        "logo": _logo_uri(document.logo_svg),
        "any_discount": any(line.discount_percent for line in document.lines),
        "amount": amount,
        "price": price,
        "quantity": quantity,
        "percent": percent,
        "day": day,
        "country": country,
        "unit": lambda code: UNIT_SYMBOLS.get(code, code),
    }
    return _environment().get_template("document.html").render(context)


def render_pdf(document: Document, *, pdf_variant: str | None = None) -> bytes:
    """The document as a PDF (``pdf_variant="pdf/a-3b"`` for an archivable one that may
    carry an e-invoice). The same document gives the same bytes."""
    return html_to_pdf(render_html(document), pdf_variant=pdf_variant)


def html_to_pdf(html: str, *, pdf_variant: str | None = None) -> bytes:
    import weasyprint  # noqa: PLC0415 - loaded on first render, not at start-up

    options: dict[str, Any] = {"uncompressed_pdf": False}
    if pdf_variant:
        options["pdf_variant"] = pdf_variant
    # A document never reaches the network or the disk: an uploaded logo (SVG can link to
    # anything) or a line's text must not make the server fetch a URL or read a file.
    fetcher = weasyprint.URLFetcher(allowed_protocols=("data",))
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(**options)


def _logo_uri(svg: str | None) -> str | None:
    if not svg:
        return None
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()

