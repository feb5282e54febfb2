"""The official e-invoice rules run over generated XML: the CEN EN 16931 validation
artefacts (compiled XSLT, UBL and CII), the Peppol BIS Billing 3.0 Schematron (compiled
here with the ISO Schematron reference skeleton) and the CII XML Schema. See
tests/data/einvoice/README.md for where each file comes from."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

DATA = Path(__file__).resolve().parents[2] / "data" / "einvoice"
SVRL = "http://purl.oclc.org/dsdl/svrl"
CEN_UBL = DATA / "cen" / "EN16931-UBL-validation.xslt"
CEN_CII = DATA / "cen" / "EN16931-CII-validation.xslt"
PEPPOL_UBL = DATA / "peppol" / "PEPPOL-EN16931-UBL.sch"
CII_XSD = DATA / "cen" / "cii-schema" / "CrossIndustryInvoice_100pD16B.xsd"
SKELETON = DATA / "schematron"


@dataclass(frozen=True)
class Finding:
    rule: str
    flag: str
    location: str
    text: str


@dataclass(frozen=True)
class Report:
    rules: str
    findings: tuple[Finding, ...]

    @property
    def fatal(self) -> list[Finding]:
        return [f for f in self.findings if f.flag == "fatal"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.flag != "fatal"]


@cache
def _processor():  # type: ignore[no-untyped-def]
    from saxonche import PySaxonProcessor

    return PySaxonProcessor(license=False)


@cache
def _executable(stylesheet: Path):  # type: ignore[no-untyped-def]
    compiler = _processor().new_xslt30_processor()
    return compiler.compile_stylesheet(stylesheet_file=str(stylesheet))


def _transform(stylesheet: Path, xml: bytes | str) -> str:
    source = _processor().parse_xml(xml_text=xml.decode() if isinstance(xml, bytes) else xml)
    return _executable(stylesheet).transform_to_string(xdm_node=source)


@cache
def compiled_peppol_ubl(cache_dir: Path) -> Path:
    """The Peppol Schematron compiled to XSLT 2 by the ISO skeleton (include, expand, compile)."""
    text = PEPPOL_UBL.read_text()
    for step in ("iso_dsdl_include.xsl", "iso_abstract_expand.xsl", "iso_svrl_for_xslt2.xsl"):
        text = _transform(SKELETON / step, text)
    target = cache_dir / "PEPPOL-EN16931-UBL.xslt"
    target.write_text(text)
    return target


def run_rules(stylesheet: Path, xml: bytes, label: str) -> Report:
    svrl = etree.fromstring(_transform(stylesheet, xml).encode())
    findings = []
    for node in svrl.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        text = " ".join("".join(node.itertext()).split())
        findings.append(Finding(node.get("id") or "", node.get("flag") or "error", node.get("location") or "", text))
    return Report(label, tuple(findings))


def cen_ubl(xml: bytes) -> Report:
    return run_rules(CEN_UBL, xml, "CEN EN 16931 UBL")


def cen_cii(xml: bytes) -> Report:
    return run_rules(CEN_CII, xml, "CEN EN 16931 CII")


def peppol_ubl(xml: bytes, cache_dir: Path) -> Report:
    return run_rules(compiled_peppol_ubl(cache_dir), xml, "Peppol BIS Billing 3.0")


@cache
def _cii_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(CII_XSD)))


def cii_schema_errors(xml: bytes) -> list[str]:
    schema = _cii_schema()
    if schema.validate(etree.fromstring(xml)):
        return []
    return [f"{e.line}: {e.message}" for e in schema.error_log]
