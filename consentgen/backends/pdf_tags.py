"""Tagged PDF (PDF/UA-1) for the reportlab backend.

reportlab cannot tag, so the backend does it in two steps:

1. While the story is built, each IR block gets its structure element
   (``Elem``): Document > H1-H4, P, L > LI > Lbl + LBody, Table > TR > TH/TD,
   Div for a callout, Form for a field, Figure for the logo.
2. While drawing, a flowable that carries an element wraps its drawing in
   ``/P <</MCID n>> BDC ... EMC`` (``Marks.tagged``); table backgrounds and
   grid lines, field underlines, the running header and footer, and a table's
   header row repeated on a later page are ``/Artifact``. Widget and link
   annotations drawn meanwhile join their Form or Link element.

At save, ``Marks.write`` turns the elements into the structure tree, with the
ParentTree that maps each page's MCIDs and each annotation back to its
element, and marks the file as tagged PDF/UA-1 (MarkInfo, XMP identifier,
tab order by structure). Everything is written through reportlab's own
object model, so output stays byte-identical and no second pass reads the PDF.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, NamedTuple
from xml.sax.saxutils import escape

from reportlab.pdfbase.pdfdoc import (
    PDFArray, PDFDictionary, PDFName, PDFObjectReference, PDFStream, PDFString, PDFtrue,
)

from .pdf_formfont import embed_field_font
from .pdf_objects import Ref, Written


class MCR(NamedTuple):
    """A marked-content sequence: page number (1-based, as the canvas counts) and MCID."""

    page: int
    mcid: int


class OBJR(NamedTuple):
    """An annotation (a form field's widget, a link) that belongs to an element."""

    page: int
    annot: PDFDictionary


class Elem:
    """A structure element to be: its role, its kids in reading order, and its attributes."""

    __slots__ = ("role", "parent", "kids", "alt", "attrs")

    def __init__(self, role: str, parent: Elem | None = None, alt: str | None = None,
                 attrs: dict | None = None):
        self.role, self.parent, self.alt, self.attrs = role, parent, alt, attrs
        self.kids: list[Elem | MCR | OBJR] = []

    def add(self, role: str, alt: str | None = None, attrs: dict | None = None) -> Elem:
        kid = Elem(role, self, alt, attrs)
        self.kids.append(kid)
        return kid


TH_SCOPE = {"O": "/Table", "Scope": "/Column"}
_PAGINATION = {"header": "/Artifact <</Type /Pagination /Subtype /Header>> BDC",
               "footer": "/Artifact <</Type /Pagination /Subtype /Footer>> BDC",
               "page": "/Artifact <</Type /Pagination>> BDC",
               "layout": "/Artifact <</Type /Layout>> BDC"}


class Marks:
    """The marked content of one PDF as it is drawn, and the structure tree it makes."""

    def __init__(self, title: str, language: str):
        self.root = Elem("Document")
        self.title, self.language = title, language
        self.pages: dict[int, list[Elem]] = {}      # page -> the element of each MCID, in order
        self.annots: list[tuple[Elem, OBJR]] = []
        self.open: Elem | None = None               # the element whose content is being drawn
        self.form: Elem | None = None               # the Form element the next widget joins
        self.in_artifact = 0

    # -- while drawing ------------------------------------------------------------

    @contextmanager
    def tagged(self, canv, elem: Elem | None) -> Iterator[None]:
        """Draw real content for ``elem`` (nothing to do inside an artifact or other content)."""
        if elem is None or self.open is not None or self.in_artifact:
            yield
            return
        page = canv.getPageNumber()
        mcids = self.pages.setdefault(page, [])
        canv._code.append(f"/{elem.role} <</MCID {len(mcids)}>> BDC")
        elem.kids.append(MCR(page, len(mcids)))
        mcids.append(elem)
        self.open = elem
        try:
            yield
        finally:
            self.open = None
            canv._code.append("EMC")

    @contextmanager
    def artifact(self, canv, kind: str = "layout") -> Iterator[None]:
        """Draw decoration: a rule, a background, a running header, a repeated table header."""
        if self.in_artifact or self.open is not None:
            yield           # already an artifact, or a detail of content being tagged
            return
        canv._code.append(_PAGINATION[kind])
        self.in_artifact += 1
        try:
            yield
        finally:
            self.in_artifact -= 1
            canv._code.append("EMC")

    @contextmanager
    def field(self, elem: Elem | None) -> Iterator[None]:
        """The widget made meanwhile belongs to ``elem`` (a Form element)."""
        self.form = elem
        try:
            yield
        finally:
            self.form = None

    def annotation(self, canv, annot: PDFDictionary) -> None:
        """A widget joins the current Form element; a link gets a Link element in the text it is in."""
        subtype = annot.dict.get("Subtype")
        if subtype == "/Widget" and self.form is not None:
            elem = self.form
        elif subtype == "/Link" and not self.in_artifact:
            elem = (self.open or self.root).add("Link")
            action = annot.dict.get("A")
            uri = action.dict.get("URI") if isinstance(action, PDFDictionary) else None
            if isinstance(uri, PDFString) and "Contents" not in annot.dict:
                annot.dict["Contents"] = PDFString(_link_words(uri.s))
        else:
            return
        objr = OBJR(canv.getPageNumber(), annot)
        elem.kids.append(objr)
        self.annots.append((elem, objr))

    # -- at save --------------------------------------------------------------------

    def write(self, canv) -> None:
        """The structure tree, ParentTree, MarkInfo, XMP and tab order, into the canvas's document.

        Elements are written as ``Written`` objects (text with references filled in at save):
        reportlab's general dictionaries cost a fifth of the render for a tree this size.
        """
        doc = canv._doc
        _prune(self.root)
        elems: list[Elem] = []
        todo = [self.root]
        while todo:                                  # every element, parents before kids
            elem = todo.pop()
            elems.append(elem)
            todo.extend(reversed([k for k in elem.kids if isinstance(k, Elem)]))
        written = {id(e): Written() for e in elems}
        names = {key: doc.Reference(obj).name for key, obj in written.items()}
        tree = PDFDictionary({"Type": PDFName("StructTreeRoot"),
                              "K": PDFArray([PDFObjectReference(names[id(self.root)])])})
        tree_name = doc.Reference(tree).name
        for elem in elems:
            parent = names[id(elem.parent)] if elem.parent is not None else tree_name
            written[id(elem)].pieces = _pieces(elem, parent, names, doc)
        page_count = len(doc.Pages.pages)
        nums: list = []
        for number in range(1, page_count + 1):
            if number in self.pages:
                nums += [f" {number - 1} [", *(Ref(names[id(e)]) for e in self.pages[number]), "]"]
        for key, (elem, objr) in enumerate(self.annots, start=page_count):
            objr.annot.dict["StructParent"] = key
            nums += [f" {key}", Ref(names[id(elem)])]
        tree["ParentTree"] = Written(["<< /Nums [", *nums, " ] >>"])
        tree["ParentTreeNextKey"] = page_count + len(self.annots)
        for number, page in enumerate(doc.Pages.pages, start=1):
            page.__NoDefault__ = [*page.__NoDefault__, "StructParents", "Tabs"]
            page.StructParents = number - 1 if number in self.pages else None
            page.Tabs = PDFName("S")
        catalog = doc.Catalog
        catalog.StructTreeRoot = PDFObjectReference(tree_name)
        catalog.MarkInfo = PDFDictionary({"Marked": PDFtrue})
        catalog.Metadata = PDFStream(PDFDictionary({"Type": PDFName("Metadata"), "Subtype": PDFName("XML")}),
                                     xmp(self.title, self.language), filters=[])
        embed_field_font(canv)


def _link_words(uri: str) -> str:
    """What a screen reader says for a link: the address, without its scheme for mail and phone."""
    for scheme in ("mailto:", "tel:"):
        if uri.startswith(scheme):
            return uri[len(scheme):]
    return uri


def _prune(elem: Elem) -> bool:
    """Drop elements that hold nothing (a paragraph split to nothing, an empty list body), but keep
    table cells, which hold their place in the grid. True if ``elem`` stays."""
    elem.kids = [k for k in elem.kids if not isinstance(k, Elem) or _prune(k)]
    return bool(elem.kids) or elem.role in ("TD", "TH", "TR", "Document")


def _page_ref(page: int) -> Ref:
    return Ref(f"Page{page}")


def _pieces(elem: Elem, parent: str, names: dict[int, str], doc) -> list:
    """An element's dictionary: its role, parent, page (/Pg), kids (/K) and attributes."""
    pieces: list = [f"<< /Type /StructElem /S /{elem.role} /P", Ref(parent)]
    pages = {k.page for k in elem.kids if isinstance(k, (MCR, OBJR))}
    home = min(pages) if pages else None
    if home is not None:
        pieces += [" /Pg", _page_ref(home)]
    kids: list = []
    for kid in elem.kids:
        if isinstance(kid, Elem):
            kids.append(Ref(names[id(kid)]))
        elif isinstance(kid, MCR):
            kids += [f" {kid.mcid}"] if kid.page == home else [
                " << /Type /MCR /Pg", _page_ref(kid.page), f" /MCID {kid.mcid} >>"]
        else:
            kids += [" << /Type /OBJR /Pg", _page_ref(kid.page), " /Obj", Ref(doc.Reference(kid.annot).name), " >>"]
    # One kid is written alone, not in an array: both are valid, and the pdfua checker (0.1.3)
    # fails on a heading whose /K is an array (pikepdf raises where it expects no attribute).
    pieces += [" /K", *kids] if len(elem.kids) == 1 else [" /K [", *kids, " ]"]
    if elem.alt:
        pieces += [" /Alt", PDFString(elem.alt)]
    if elem.attrs:
        pieces += [" /A <<", *(f" /{k} {v}" for k, v in elem.attrs.items()), " >>"]
    pieces.append(" >>")
    return pieces


def xmp(title: str, language: str) -> bytes:
    """XMP metadata: the title (dc:title, in the document's language) and the PDF/UA-1 identifier.

    No dates, so the same document gives the same bytes."""
    title = escape(title)
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">\n'
        '<pdfuaid:part>1</pdfuaid:part>\n</rdf:Description>\n'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>\n'
        f'<dc:language><rdf:Bag><rdf:li>{escape(language)}</rdf:li></rdf:Bag></dc:language>\n'
        '</rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end="w"?>'
    ).encode("utf-8")


class Untagged(Marks):
    """No marks and no tree: the PDF as drawn before tagging (the benchmark's baseline)."""

    @contextmanager
    def tagged(self, canv, elem):
        yield

    @contextmanager
    def artifact(self, canv, kind="layout"):
        yield

    def annotation(self, canv, annot):
        pass

    def write(self, canv):
        pass
