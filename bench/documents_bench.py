"""Document benchmarks: the one-page invoice PDF and the e-invoice XML.

    python -m bench.documents_bench [--renders 40]
    python -m bench --only documents

Times, in one process after three warm-up renders: ``render_pdf`` of a one-page invoice
(five lines, two tax rates, a discount, the company logo; Jinja + Babel + WeasyPrint) beside
WeasyPrint rendering a bare one-line HTML page (the fixed cost of any PDF: fonts, layout,
PDF writing), as wall time and as this process's CPU time; ``facturx_pdf`` of the same invoice (PDF/A-3 with the CII XML embedded);
``ubl_invoice`` beside lxml parsing and writing the same XML. No database is involved."""

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from lxml import etree

from bench.report import Figure, Section, percentile

WARMUP = 3
TARGET_MS = 1000.0  # issue 13: one-page invoice PDF, p95 under a second
DATABASE = "— (no database)"
LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="40"><rect width="40" height="40" fill="#1f4e79"/>'
    '<text x="50" y="28" font-size="22" fill="#1f4e79">Muster</text></svg>'
)


def one_page_invoice():  # type: ignore[no-untyped-def]
    from pipewise.quotes.documents.model import Document, DocumentLine, Party, priced
    from pipewise.quotes.money import Rounding

    def line(name: str, quantity: str, price: str, rate: str, discount: str = "0", unit: str = "C62") -> DocumentLine:
        return DocumentLine(name, Decimal(quantity), Decimal(price), unit, None, Decimal(discount), Decimal(rate))

    rounding = Rounding("EUR", "on_totals")
    lines, totals = priced([
        line("Software licence", "12", "49.90", "19", "10", "MON"),
        line("Consulting", "7.5", "120.00", "19", unit="HUR"),
        line("Handbook", "3", "19.99", "7"),
        line("Onboarding workshop", "1", "850.00", "19", "5"),
        line("Export documentation", "1", "35.00", "0"),
    ], rounding)
    seller = Party("Muster Software GmbH", "Hauptstraße 1", "Berlin", "10115", "DE", "DE123456789", "HRB 12345",
                   "billing@muster.example", "+49 30 1234567", "Erika Muster")
    buyer = Party("Kunde AG", "Ring 2", "Köln", "50667", "DE", "DE987654321", email="ap@kunde.example")
    return Document(
        kind="invoice", number="INV-2026-0001", issue_date=date(2026, 12, 3), currency="EUR", seller=seller,
        buyer=buyer, lines=lines, totals=totals, rounding=rounding, language="de_DE", due_date=date(2027, 1, 2),
        payment_terms="30 Tage netto", iban="DE89370400440532013000", bic="COBADEFFXXX", order_reference="PO-7781",
        logo_svg=LOGO, terms="Es gelten unsere Allgemeinen Geschäftsbedingungen.",
    )


def timings_ms(action: Callable[[], object], repeats: int, cpu: list[float] | None = None) -> list[float]:
    """Wall milliseconds per call; ``cpu`` collects this process's CPU milliseconds per call,
    which other load on a shared machine does not inflate."""
    for _ in range(WARMUP):
        action()
    samples = []
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        action()
        samples.append((time.perf_counter() - started) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - started_cpu) * 1000)
    return samples


def run(renders: int) -> list[Figure]:
    from pipewise.quotes.documents.cii import facturx_pdf
    from pipewise.quotes.documents.render import html_to_pdf, render_pdf
    from pipewise.quotes.documents.ubl import ubl_invoice

    document = one_page_invoice()
    bare_html = "<!DOCTYPE html><html><body><p>Invoice</p></body></html>"
    bare_cpu: list[float] = []
    invoice_cpu: list[float] = []
    bare = timings_ms(lambda: html_to_pdf(bare_html), renders, bare_cpu)
    invoice = timings_ms(lambda: render_pdf(document), renders, invoice_cpu)
    facturx = timings_ms(lambda: facturx_pdf(document), max(renders // 2, 5))
    ubl_xml = ubl_invoice(document)
    ubl = timings_ms(lambda: ubl_invoice(document), renders * 25)
    lxml_floor = timings_ms(lambda: etree.tostring(etree.fromstring(ubl_xml)), renders * 25)
    bare_label = "WeasyPrint, bare one-line HTML"
    figures = []
    for pct in (50, 95):
        figures.append(Figure(DATABASE, f"one-page invoice PDF, p{pct}", percentile(invoice, pct), "ms", bare_label,
                              percentile(bare, pct), TARGET_MS if pct == 95 else None))
    figures.append(Figure(DATABASE, "one-page invoice PDF, CPU per render, p50", statistics.median(invoice_cpu), "ms",
                          bare_label, statistics.median(bare_cpu)))
    figures.append(Figure(DATABASE, "Factur-X invoice PDF (PDF/A-3 + CII), p95", percentile(facturx, 95), "ms",
                          bare_label, percentile(bare, 95)))
    figures.append(Figure(DATABASE, "UBL invoice XML, p50", statistics.median(ubl), "ms",
                          "lxml parse + write of the same XML", statistics.median(lxml_floor)))
    return figures


def section(renders: int) -> Section:
    return Section(
        key="documents",
        title="Documents: invoice PDF and e-invoice",
        description=__doc__.split("\n\n", 2)[2].replace("\n", " "),
        size=f"{renders} PDF renders per case after {WARMUP} warm-up renders; {renders * 25} UBL invoices",
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.documents_bench", description=__doc__)
    parser.add_argument("--renders", type=int, default=40)
    args = parser.parse_args()
    print("| case | measured | baseline | ratio | target |\n|---|---|---|---|---|")
    for f in run(args.renders):
        target = f"{f.target:.0f} ms ({'met' if f.met else 'missed'})" if f.target else ""
        print(f"| {f.case} | {f.value:.2f} ms | {f.baseline_label}: {f.baseline:.2f} ms | {f.ratio:.1f}× | {target} |")


if __name__ == "__main__":
    main()
