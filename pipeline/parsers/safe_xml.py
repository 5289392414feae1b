"""The one place where XML bytes are vetted and parsed.

Every XML-based parser (GPX, TCX) goes through :func:`load`, which

1. decodes the bytes to text itself (UTF-8 BOM, UTF-16 BOM, or the encoding the XML
   declaration names, such as ISO-8859-1), so that downstream parsers that only accept
   ``str`` (gpxpy) see exactly the characters we vetted;
2. streams that text once through expat (no tree) to refuse what no tree parser should see:
   a DOCTYPE, the moment the parser meets it, before any entity is declared, so a
   billion-laughs file or an external entity (``SYSTEM "file:///etc/passwd"``) costs
   microseconds and no memory; and elements nested deeper than :data:`MAX_DEPTH`, which
   crash the tree parsers (200,000 nested ``<extensions>`` children, 1.4 MB, killed the parse
   worker with SIGSEGV inside gpxpy/ElementTree). The scan stops at the first offence, so a
   hostile file costs at most one linear pass;
3. parses the vetted text with :mod:`defusedxml` with DTDs forbidden (a second guard);
4. turns every failure into :class:`QuarantineError` with a reason a person can act on and
   no file content in it (expat's messages name the error and its line/column only).

Because the vetted text contains no DOCTYPE, no parser that later reads it (gpxpy with
ElementTree or lxml) can expand a custom entity or fetch an external resource.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError
from xml.parsers import expat

import defusedxml
import defusedxml.ElementTree as DefusedET

from pipeline.parsers.records import QuarantineError

DTD_REFUSED = "XML with a DOCTYPE/entity declarations is refused (possible entity bomb)"
# Real GPX/TCX nest 7-10 levels (TrainingCenterDatabase/Activities/Activity/Lap/Track/Trackpoint/
# Extensions/TPX/Speed); 64 leaves any vendor extension room and stays far below the depth
# where recursive tree code (gpxpy, ElementTree, deepcopy) runs out of C stack.
MAX_DEPTH = 64
DEPTH_REFUSED = f"XML nested deeper than {MAX_DEPTH} levels; refused"
_MAX_NAME = 40  # longest element or encoding name quoted in a reason

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# The declaration is ASCII in every ASCII-compatible encoding, so it can be read from bytes.
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([A-Za-z][A-Za-z0-9._:-]*)["']""")
_DECLARATION = re.compile(r"^\s*<\?xml\b[^>]*\?>")


@dataclass(frozen=True)
class SafeDocument:
    """A vetted document: ``text`` has no XML declaration and no DTD; ``root`` is its tree."""

    text: str
    root: Element


def load(data: bytes) -> SafeDocument:
    """Decode, vet and parse ``data``; raise :class:`QuarantineError` when it is refused."""
    text = decode_xml(data)
    vet(text)
    return SafeDocument(text=text, root=_parse_text(text))


def parse_root(data: bytes) -> Element:
    """The root element of the vetted document (for parsers that walk the tree themselves)."""
    return load(data).root


def decode_xml(data: bytes) -> str:
    """The document as text, without its XML declaration.

    The declaration is dropped because it may name an encoding the text no longer has
    (lxml even refuses ``str`` input that carries one). Whitespace before it goes too:
    Garmin Connect has exported TCX files with blanks before ``<?xml``, which strict
    parsers reject, while whitespace before the root element is legal.
    """
    encoding, body = _sniff_encoding(data)
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as err:
        raise QuarantineError(
            f"invalid XML: bytes are not valid {encoding} text (at byte {err.start})"
        ) from None
    # Keep the declaration's line breaks so parser messages still point at the right line.
    return _DECLARATION.sub(lambda m: "\n" * m.group().count("\n"), text, count=1)


class _Refused(Exception):
    """Raised from an expat handler to stop the scan; ``str()`` is the quarantine reason."""


def vet(text: str) -> None:
    """One streaming expat pass: refuse a DTD and nesting deeper than :data:`MAX_DEPTH`, and
    report malformed XML, before any tree is built (no tree parser ever sees such a text)."""
    parser = expat.ParserCreate(namespace_separator="}")  # namespace-aware, as ElementTree is
    depth = 0

    def start(_name: str, _attrs: object) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_DEPTH:
            raise _Refused(DEPTH_REFUSED)

    def end(_name: str) -> None:
        nonlocal depth
        depth -= 1

    def doctype(*_args: object) -> None:
        raise _Refused(DTD_REFUSED)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    try:
        parser.Parse(text, True)
    except _Refused as refused:
        raise QuarantineError(str(refused)) from None
    except expat.ExpatError as err:
        # "mismatched tag: line 3, column 2": expat's fixed message and the position, no content
        what = expat.ErrorString(err.code)
        raise QuarantineError(f"invalid XML: {what}: line {err.lineno}, column {err.offset}") from None


def shown_name(name: str) -> str:
    """An element or encoding name as a reason may quote it: bounded, so a hostile 1 MB tag name
    never lands in ingest_log or the Prefect logs."""
    return name if len(name) <= _MAX_NAME else name[:_MAX_NAME] + "..."


def local_name(tag: object) -> str:
    """``{namespace}name`` or ``prefix:name`` -> ``name``: match elements by local name so
    exporters' differing prefixes (gpxtpx:, ns3:, none) and namespace versions all work.
    Comments and processing instructions (non-string tags) give ``""``."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _sniff_encoding(data: bytes) -> tuple[str, bytes]:
    """The codec to decode ``data`` with, and the bytes to decode (BOM removed for UTF-8)."""
    if data.startswith(_UTF8_BOM):
        return "utf-8", data[len(_UTF8_BOM) :]
    if data.startswith(_UTF16_BOMS):
        return "utf-16", data  # the utf-16 codec reads and drops the BOM itself
    match = _DECLARED_ENCODING.match(data[:512])
    if not match:
        return "utf-8", data  # XML's default encoding
    declared = match.group(1).decode("ascii")
    try:
        return codecs.lookup(declared).name, data
    except LookupError:
        raise QuarantineError(f"invalid XML: unsupported encoding {shown_name(declared)!r}") from None


def _parse_text(text: str) -> Element:
    """Parse vetted text with DTDs, entity declarations and external references forbidden."""
    try:
        root: Element = DefusedET.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        return root
    except defusedxml.DefusedXmlException:
        raise QuarantineError(DTD_REFUSED) from None
    except ParseError as err:  # vet() saw well-formed XML: unexpected. Expat's fixed message only
        line, column = err.position
        raise QuarantineError(f"invalid XML: {expat.ErrorString(err.code)}: line {line}, column {column}") from None
