"""The machine-checkable PDF/UA-1 points, read back from a built PDF (``check --a11y``).

Each problem names its page (1-based) where it has one. What is checked:
the catalog (MarkInfo, /Lang, title shown, the PDF/UA identifier in XMP, a
structure tree); that every piece of page content is tagged or an artifact;
that the ParentTree maps each MCID and annotation back to the element that
holds it; that headings never skip a level, every figure has alt text,
header cells have a scope, every form field and link sits in a Form or Link
element and has a spoken name; tab order by structure; every font embedded.

What a machine cannot judge (whether alt text is apt, whether the reading
order makes sense) is left to people; the tests read the tree's text back in
order against the document model.
"""
from __future__ import annotations

import io
from typing import Iterator, NamedTuple

import pikepdf
from pikepdf import Array, Dictionary, Name

_PAINTING = {"Tj", "TJ", "'", '"', "Do", "f", "F", "f*", "B", "B*", "b", "b*", "S", "s", "sh", "INLINE IMAGE"}
_DEPTH_LIMIT = 200          # a damaged tree may loop or nest without end


class Problem(NamedTuple):
    page: int | None        # 1-based, or None for the whole file
    message: str

    def __str__(self) -> str:
        return f"page {self.page}: {self.message}" if self.page else self.message


def pdf_problems(data: bytes) -> list[Problem]:
    """Every PDF/UA problem found in ``data``; an empty list when none."""
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except (pikepdf.PdfError, ValueError):
        return [Problem(None, "not a readable PDF")]
    with pdf:
        return list(_catalog(pdf)) + list(_tree(pdf)) + list(_fonts(pdf))


def _catalog(pdf: pikepdf.Pdf) -> Iterator[Problem]:
    root = pdf.Root
    mark = root.get(Name.MarkInfo)
    if not (isinstance(mark, Dictionary) and mark.get(Name.Marked) is True):
        yield Problem(None, "not marked as tagged PDF (/MarkInfo /Marked true)")
    if not str(root.get(Name.Lang, "")).strip():
        yield Problem(None, "no document language (/Lang)")
    prefs = root.get(Name.ViewerPreferences)
    if not (isinstance(prefs, Dictionary) and prefs.get(Name.DisplayDocTitle) is True):
        yield Problem(None, "the title is not shown in the window bar (/DisplayDocTitle)")
    info = pdf.trailer.get(Name.Info)
    if not (isinstance(info, Dictionary) and str(info.get(Name.Title, "")).strip()):
        yield Problem(None, "no document title")
    meta = root.get(Name.Metadata)
    xmp = meta.read_bytes() if isinstance(meta, pikepdf.Stream) else b""
    if b"<pdfuaid:part>1</pdfuaid:part>" not in xmp:
        yield Problem(None, "no PDF/UA-1 identifier in the XMP metadata")
    if b"<dc:title>" not in xmp:
        yield Problem(None, "no dc:title in the XMP metadata")


class _Walk:
    """The structure tree, read once: each element's role in order, and where its content is."""

    def __init__(self):
        self.roles: list[tuple[str, Dictionary]] = []
        self.mcids: dict[tuple[tuple[int, int], int], Dictionary] = {}     # (page objgen, MCID) -> element
        self.objrs: dict[tuple[int, int], Dictionary] = {}                  # annotation objgen -> element
        self.problems: list[Problem] = []

    def element(self, elem: Dictionary, page, depth: int, pages: dict) -> None:
        if depth > _DEPTH_LIMIT:
            self.problems.append(Problem(None, "the structure tree nests too deep, or loops"))
            return
        role = str(elem.get(Name.S, ""))
        self.roles.append((role, elem))
        page = elem.get(Name.Pg, page)
        kids = elem.get(Name.K)
        for kid in kids if isinstance(kids, Array) else [] if kids is None else [kids]:
            if isinstance(kid, int):
                self._mcid(page, int(kid), elem, pages)
            elif isinstance(kid, Dictionary) and kid.get(Name.Type) == Name.MCR:
                self._mcid(kid.get(Name.Pg, page), kid.get_int(Name.MCID, -1), elem, pages)
            elif isinstance(kid, Dictionary) and kid.get(Name.Type) == Name.OBJR:
                obj = kid.get(Name.Obj)
                if isinstance(obj, Dictionary):
                    self.objrs[obj.objgen] = elem
            elif isinstance(kid, Dictionary):
                self.element(kid, page, depth + 1, pages)

    def _mcid(self, page, mcid: int, elem: Dictionary, pages: dict) -> None:
        if not isinstance(page, Dictionary) or page.objgen not in pages:
            self.problems.append(Problem(None, f"{elem.get(Name.S)} element: marked content on no page"))
            return
        self.mcids[(page.objgen, mcid)] = elem


def _tree(pdf: pikepdf.Pdf) -> Iterator[Problem]:
    tree = pdf.Root.get(Name.StructTreeRoot)
    if not isinstance(tree, Dictionary):
        yield Problem(None, "no structure tree (the PDF is not tagged)")
        return
    pages = {page.obj.objgen: n for n, page in enumerate(pdf.pages, start=1)}
    walk = _Walk()
    kids = tree.get(Name.K)
    for kid in kids if isinstance(kids, Array) else [kids]:
        if isinstance(kid, Dictionary):
            walk.element(kid, None, 0, pages)
    yield from walk.problems
    yield from _roles(walk)
    parents = _parent_tree(tree)
    for n, page in enumerate(pdf.pages, start=1):
        yield from _page(page, n, walk, parents)


def _roles(walk: _Walk) -> Iterator[Problem]:
    level = 0
    for role, elem in walk.roles:
        if len(role) == 3 and role.startswith("/H") and role[2].isdigit():
            if int(role[2]) > level + 1:
                yield Problem(None, f"heading level skipped: {role[1:]} after "
                                    f"{'no heading' if not level else f'H{level}'}")
            level = int(role[2])
        elif role == "/Figure" and not str(elem.get(Name.Alt, "")).strip():
            yield Problem(None, "a figure has no alt text")
        elif role == "/TH":
            attrs = elem.get(Name.A)
            if not (isinstance(attrs, Dictionary) and Name.Scope in attrs):
                yield Problem(None, "a table header cell has no scope")


def _parent_tree(tree: Dictionary) -> dict[int, pikepdf.Object]:
    """The ParentTree's number tree, flattened (its /Kids followed, to a limit)."""
    found: dict[int, pikepdf.Object] = {}
    todo, seen = [tree.get(Name.ParentTree)], 0
    while todo and seen < 10_000:
        node = todo.pop()
        seen += 1
        if not isinstance(node, Dictionary):
            continue
        nums = node.get(Name.Nums, Array())
        for i in range(0, len(nums) - 1, 2):
            found[int(nums[i])] = nums[i + 1]
        todo.extend(node.get(Name.Kids, Array()))
    return found


def _page(page: pikepdf.Page, n: int, walk: _Walk, parents: dict) -> Iterator[Problem]:
    obj = page.obj
    untagged, used = 0, []
    stack: list[int | None] = []
    try:
        instructions = pikepdf.parse_content_stream(page)
    except pikepdf.PdfError:
        yield Problem(n, "the page's content cannot be read")
        return
    for operands, op in ((ins.operands, str(ins.operator)) for ins in instructions):
        if op in ("BDC", "BMC"):
            props = operands[1] if op == "BDC" and len(operands) > 1 else None
            mcid = props.get(Name.MCID) if isinstance(props, Dictionary) else None
            stack.append(int(mcid) if mcid is not None else None)
            if mcid is not None:
                used.append(int(mcid))
        elif op == "EMC":
            if stack:
                stack.pop()
        elif op in _PAINTING and not stack:
            untagged += 1
    if untagged:
        yield Problem(n, f"{untagged} piece(s) of content neither tagged nor marked as an artifact")
    key = obj.get(Name.StructParents)
    entry = parents.get(int(key)) if key is not None else None
    for mcid in used:
        elem = walk.mcids.get((obj.objgen, mcid))
        if elem is None:
            yield Problem(n, f"marked content {mcid} belongs to no structure element")
        elif not (isinstance(entry, Array) and mcid < len(entry) and entry[mcid].objgen == elem.objgen):
            yield Problem(n, f"the ParentTree does not lead marked content {mcid} back to its element")
    annots = [a for a in obj.get(Name.Annots, Array()) if isinstance(a, Dictionary)]
    if annots and obj.get(Name.Tabs) != Name.S:
        yield Problem(n, "tab order does not follow the structure (/Tabs /S)")
    for annot in annots:
        yield from _annotation(annot, n, walk, parents)


def _annotation(annot: Dictionary, n: int, walk: _Walk, parents: dict) -> Iterator[Problem]:
    kind = annot.get(Name.Subtype)
    if kind not in (Name.Widget, Name.Link):
        return
    what = "a form field" if kind == Name.Widget else "a link"
    elem = walk.objrs.get(annot.objgen)
    want = Name.Form if kind == Name.Widget else Name.Link
    if elem is None or elem.get(Name.S) != want:
        yield Problem(n, f"{what} is not in a {str(want)[1:]} element")
    else:
        key = annot.get(Name.StructParent)
        target = parents.get(int(key)) if key is not None else None
        if not (isinstance(target, Dictionary) and target.objgen == elem.objgen):
            yield Problem(n, f"the ParentTree does not lead {what} back to its element")
    name = annot.get(Name.TU) if kind == Name.Widget else annot.get(Name.Contents)
    if not str(name or "").strip():
        yield Problem(n, f"{what} has no spoken name ({'/TU' if kind == Name.Widget else '/Contents'})")


def _fonts(pdf: pikepdf.Pdf) -> Iterator[Problem]:
    """Fonts not embedded, wherever they are named: pages, forms they draw, fields and their looks."""
    missing: dict[str, int | None] = {}

    def visit(resources, page: int | None, depth: int = 0) -> None:
        if not isinstance(resources, Dictionary) or depth > 8:
            return
        for font in resources.get(Name.Font, Dictionary()).values():
            if isinstance(font, Dictionary) and not _embedded(font):
                missing.setdefault(str(font.get(Name.BaseFont, "?"))[1:], page)
        for xobject in resources.get(Name.XObject, Dictionary()).values():
            if isinstance(xobject, pikepdf.Stream) and xobject.get(Name.Subtype) == Name.Form:
                visit(xobject.get(Name.Resources), page, depth + 1)

    for n, page in enumerate(pdf.pages, start=1):
        visit(page.obj.get(Name.Resources), n)
        for annot in page.obj.get(Name.Annots, Array()):
            looks = annot.get(Name.AP) if isinstance(annot, Dictionary) else None
            for look in looks.values() if isinstance(looks, Dictionary) else []:
                for stream in look.values() if isinstance(look, Dictionary) else [look]:
                    if isinstance(stream, pikepdf.Stream):
                        visit(stream.get(Name.Resources), n, 1)
    form = pdf.Root.get(Name.AcroForm)
    if isinstance(form, Dictionary):
        visit(form.get(Name.DR), None)
    for name, page in missing.items():
        yield Problem(page, f"font {name} is not embedded")


def _embedded(font: Dictionary) -> bool:
    if font.get(Name.Subtype) == Name.Type3:
        return True
    if font.get(Name.Subtype) == Name.Type0:
        kids = font.get(Name.DescendantFonts, Array())
        return bool(len(kids)) and all(isinstance(k, Dictionary) and _embedded(k) for k in kids)
    descriptor = font.get(Name.FontDescriptor)
    return isinstance(descriptor, Dictionary) and any(
        k in descriptor for k in (Name.FontFile, Name.FontFile2, Name.FontFile3))
