"""Join several rendered PDFs into one packet: pages, bookmarks, page labels, form fields.

Each part keeps its pages (and the "Page X of Y" printed in their footers),
gets one top-level bookmark holding its own bookmarks, a page label range
such as "contact-1", a parent form field named after it, so that every
field's fully qualified name is unique ("contact.client-signature"), and a
Part element in the packet's one structure tree (tagged PDF/UA-1).

Same parts, same bytes: nothing here reads the clock, the XMP holds no date,
and the file identifier is derived from the content.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from contextlib import ExitStack

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from .backends.pdf_tags import xmp
from .errors import BackendError

_OUTLINE_DEPTH_LIMIT = 64   # a malformed outline could nest (or loop) forever


def combine(parts: Sequence[tuple[str, str, bytes]], *, title: str, author: str, language: str) -> bytes:
    """One PDF holding each part in order. parts: (document name, document title, that document's PDF bytes)."""
    if not parts:
        raise BackendError("nothing to combine: no documents were given")
    _check_names([name for name, _, _ in parts])

    with ExitStack() as stack:
        out = pikepdf.Pdf.new()
        stack.callback(out.close)
        outline: list[dict] = []
        labels = Array()
        fields = Array()
        form = _Form(out)
        structure = _Structure(out)
        version = (1, 4)
        sources = []
        for name, part_title, data in parts:
            src = _open(name, data)
            stack.callback(src.close)
            sources.append(src)    # foreign stream data is read when saving
            version = max(version, _version(src.pdf_version))
            start = len(out.pages)
            try:
                for page in src.pages:   # not pages.extend(): it warns about forms, handled below
                    out.pages.append(page)
                pages = {p.objgen: out.pages[start + i].obj for i, p in enumerate(src.pages)}
                outline.append(_part_outline(src, part_title, pages, out.pages[start].obj))
                parent = form.add_part(src, name)
                if len(parent.Kids):
                    fields.append(parent)
                structure.add_part(src, out.pages[start:])
            except (pikepdf.PdfError, pikepdf.ForeignObjectError):
                raise BackendError(f"{name}: the PDF could not be read") from None
            labels.extend([start, Dictionary(S=Name.D, P=String(f"{name}-"), St=1)])
            _reject_warnings(name, src)

        root = out.Root
        _write_outline(out, outline)
        root.PageMode = Name.UseOutlines
        root.PageLabels = Dictionary(Nums=labels)
        root.Lang = String(language)
        root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
        if len(fields):
            root.AcroForm = form.acroform(fields)
        structure.finish(title, language)
        # No /Producer, no dates: nothing that changes between runs.
        out.trailer.Info = out.make_indirect(Dictionary(
            Title=String(title), Author=String(author), Creator=String("consentgen")))

        buf = io.BytesIO()
        try:
            out.save(buf, deterministic_id=True, min_version=".".join(map(str, version)))
        except pikepdf.PdfError:
            raise BackendError("the combined PDF could not be written: a part is damaged") from None
        for (name, _, _), src in zip(parts, sources):
            _reject_warnings(name, src)
        return buf.getvalue()


# -- reading parts ------------------------------------------------------------

def _check_names(names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        # The name becomes a partial field name, which may not be empty or hold a period.
        if not name or "." in name:
            raise BackendError(f"document name {name!r} cannot name a form field (empty or has a '.')")
        if name in seen:
            raise BackendError(f"document {name!r} is given twice; its form field names would clash")
        seen.add(name)


def _open(name: str, data: bytes) -> pikepdf.Pdf:
    """A part, read strictly: a damaged file is an error, not something to repair quietly."""
    try:
        src = pikepdf.open(io.BytesIO(data), attempt_recovery=False)
    except pikepdf.PasswordError:
        raise BackendError(f"{name}: the PDF is encrypted") from None
    except (pikepdf.PdfError, ValueError, TypeError):
        raise BackendError(f"{name}: not a readable PDF") from None
    try:
        count = len(src.pages)
    except pikepdf.PdfError:
        src.close()
        raise BackendError(f"{name}: not a readable PDF") from None
    if count == 0:
        src.close()
        raise BackendError(f"{name}: the PDF has no pages")
    _reject_warnings(name, src)
    return src


def _reject_warnings(name: str, src: pikepdf.Pdf) -> None:
    # qpdf reports damage it worked around as warnings; their text can quote the file.
    if src.get_warnings():
        raise BackendError(f"{name}: the PDF is damaged")


def _version(text: str) -> tuple[int, int]:
    try:
        major, minor = text.split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return (1, 4)


# -- bookmarks ----------------------------------------------------------------

def _chain(first: pikepdf.Object | None):
    """The outline items from ``first`` along /Next, stopping at a loop."""
    seen: set[tuple[int, int]] = set()
    item = first
    while isinstance(item, Dictionary):
        key = item.objgen
        if key != (0, 0):
            if key in seen:
                return
            seen.add(key)
        yield item
        item = item.get(Name.Next)


def _named_dest(src: pikepdf.Pdf, name: pikepdf.Object):
    """The explicit destination a named destination stands for, or None."""
    found = None
    if isinstance(name, Name):
        dests = src.Root.get(Name.Dests)
        if isinstance(dests, Dictionary):
            found = dests.get(name)
    elif isinstance(name, String):
        names = src.Root.get(Name.Names)
        if isinstance(names, Dictionary) and isinstance(names.get(Name.Dests), Dictionary):
            tree = pikepdf.NameTree(names.Dests)
            found = tree.get(str(name))
    if isinstance(found, Dictionary):
        found = found.get(Name.D)
    return found if isinstance(found, Array) else None


def _target(src: pikepdf.Pdf, item: Dictionary, pages: dict) -> Array | None:
    """The item's destination, with its page moved to the packet's copy of it."""
    dest = item.get(Name.Dest)
    if dest is None:
        action = item.get(Name.A)
        if isinstance(action, Dictionary) and action.get(Name.S) == Name.GoTo:
            dest = action.get(Name.D)
    if isinstance(dest, Name | String):
        dest = _named_dest(src, dest)
    if not isinstance(dest, Array) or len(dest) == 0:
        return None
    page = dest[0]
    if not isinstance(page, Dictionary) or page.objgen not in pages:
        return None
    rest = list(dest)[1:]   # a fit type, then numbers or nulls
    if any(isinstance(x, pikepdf.Object) and x.is_indirect for x in rest):
        return None
    return Array([pages[page.objgen], *rest])


def _items(src: pikepdf.Pdf, first, pages: dict, fallback: Array, depth: int = 0) -> list[dict]:
    """The part's outline items below ``first``, as plain nodes for ``_write_outline``."""
    if depth > _OUTLINE_DEPTH_LIMIT:
        return []
    nodes = []
    for item in _chain(first):
        title = item.get(Name.Title)
        nodes.append({
            "title": String(str(title)) if isinstance(title, String) else String(""),
            "dest": _target(src, item, pages) or fallback,
            "open": item.get_int(Name.Count, 0) >= 0,
            "kids": _items(src, item.get(Name.First), pages, fallback, depth + 1),
        })
    return nodes


def _same_title(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _part_outline(src: pikepdf.Pdf, title: str, pages: dict, first_page: Dictionary) -> dict:
    """One top-level node for a part, its own bookmarks under it.

    The backend's outline already has a single top-level item for the
    document's title heading; when that item has the part's title it *is* the
    part's bookmark, so its children move up instead of repeating the title.
    """
    fit = Array([first_page, Name.Fit])
    outlines = src.Root.get(Name.Outlines)
    items = _items(src, outlines.get(Name.First), pages, fit) if isinstance(outlines, Dictionary) else []
    if len(items) == 1 and _same_title(str(items[0]["title"]), title):
        only = items[0]
        dest = only["dest"]
        if dest[0].objgen != first_page.objgen:
            dest = fit
        return {"title": String(title), "dest": dest, "open": True, "kids": only["kids"]}
    return {"title": String(title), "dest": fit, "open": True, "kids": items}


def _visible(node: dict) -> int:
    """Descendants shown when ``node`` is open (the magnitude of its /Count)."""
    return sum(1 + (_visible(k) if k["open"] else 0) for k in node["kids"])


def _write_outline(out: pikepdf.Pdf, nodes: list[dict]) -> None:
    root = out.make_indirect(Dictionary(Type=Name.Outlines))
    _link(out, root, nodes)
    root.Count = sum(1 + (_visible(n) if n["open"] else 0) for n in nodes)
    out.Root.Outlines = root


def _link(out: pikepdf.Pdf, parent: Dictionary, nodes: list[dict]) -> None:
    made = [out.make_indirect(Dictionary(Title=n["title"], Parent=parent, Dest=n["dest"])) for n in nodes]
    for i, (obj, node) in enumerate(zip(made, nodes)):
        if i:
            obj.Prev = made[i - 1]
        if i + 1 < len(made):
            obj.Next = made[i + 1]
        if node["kids"]:
            _link(out, obj, node["kids"])
            count = _visible(node)
            obj.Count = count if node["open"] else -count
    if made:
        parent.First, parent.Last = made[0], made[-1]


# -- form fields --------------------------------------------------------------

class _Form:
    """The packet's /AcroForm, gathered part by part."""

    def __init__(self, out: pikepdf.Pdf):
        self.out = out
        self.resources = Dictionary()
        self.da: String | None = None
        self.need_appearances = False
        self.sig_flags = 0
        self.order = Array()

    def add_part(self, src: pikepdf.Pdf, name: str) -> Dictionary:
        """A parent field named ``name`` holding the part's fields (already copied with its pages)."""
        parent = self.out.make_indirect(Dictionary(T=String(name), Kids=Array()))
        form = src.Root.get(Name.AcroForm)
        if not isinstance(form, Dictionary):
            return parent
        for field in form.get(Name.Fields, Array()):
            if not (isinstance(field, Dictionary) and field.is_indirect):
                continue
            copy = self.out.copy_foreign(field)   # the same object the copied page's /Annots holds
            copy.Parent = parent
            parent.Kids.append(copy)
        da = form.get(Name.DA)
        if isinstance(da, String):
            parent.DA = String(bytes(da))          # /DA is inheritable: each part keeps its own default
            if self.da is None:
                self.da = String(bytes(da))
        dr = form.get(Name.DR)
        if isinstance(dr, Dictionary):
            for kind, entries in dr.items():
                if not isinstance(entries, Dictionary):
                    continue
                if kind not in self.resources:
                    self.resources[kind] = Dictionary()
                mine = self.resources[kind]
                for key, value in entries.items():
                    if key in mine:                # first part wins on a name clash
                        continue
                    if isinstance(value, pikepdf.Object):
                        value = self.out.copy_foreign(value if value.is_indirect else src.make_indirect(value))
                    mine[key] = value
        self.need_appearances |= bool(form.get(Name.NeedAppearances, False))
        self.sig_flags |= form.get_int(Name.SigFlags, 0)
        for field in form.get(Name.CO, Array()):
            if isinstance(field, Dictionary) and field.is_indirect:
                self.order.append(self.out.copy_foreign(field))
        return parent

    def acroform(self, fields: Array) -> Dictionary:
        form = Dictionary(Fields=fields)
        if self.da is not None:
            form.DA = self.da
        if len(self.resources):
            form.DR = self.resources
        if self.need_appearances:
            form.NeedAppearances = True
        if self.sig_flags:
            form.SigFlags = self.sig_flags
        if len(self.order):
            form.CO = self.order
        return form


# -- structure tree -------------------------------------------------------------

class _Structure:
    """The packet's one structure tree: a Document holding each part's tree as a Part.

    A part's pages and annotations keep their keys into its ParentTree, moved up by
    the keys of the parts before it, so that the packet's ParentTree resolves.
    """

    def __init__(self, out: pikepdf.Pdf):
        self.out = out
        self.root = out.make_indirect(Dictionary(Type=Name.StructTreeRoot))
        self.document = out.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document, P=self.root,
                                                     K=Array()))
        self.nums = Array()
        self.next_key = 0

    def add_part(self, src: pikepdf.Pdf, pages) -> None:
        """The part's tree, its pages (already copied) and their annotations, under the packet's Document."""
        tree = src.Root.get(Name.StructTreeRoot)
        kids = tree.get(Name.K) if isinstance(tree, Dictionary) else None
        if not isinstance(kids, Array | Dictionary):
            return      # an untagged part: nothing to join (its pages stay unmarked)
        offset = self.next_key
        for kid in kids if isinstance(kids, Array) else [kids]:
            part = self.out.copy_foreign(kid)
            part.S, part.P = Name.Part, self.document
            self.document.K.append(part)
        parent_tree = tree.get(Name.ParentTree)
        nums = parent_tree.get(Name.Nums) if isinstance(parent_tree, Dictionary) else None
        for i in range(0, len(nums) - 1 if isinstance(nums, Array) else 0, 2):
            self.nums.extend([int(nums[i]) + offset, self._copy(nums[i + 1])])
        for page in pages:
            if Name.StructParents in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + offset
            for annot in page.obj.get(Name.Annots, Array()):
                if isinstance(annot, Dictionary) and Name.StructParent in annot:
                    annot.StructParent = int(annot.StructParent) + offset
        self.next_key = offset + tree.get_int(Name.ParentTreeNextKey, 0)

    def _copy(self, obj):
        """``obj`` in the packet: an indirect object by reference (copied once), a direct one member by member."""
        if isinstance(obj, pikepdf.Object) and obj.is_indirect:
            return self.out.copy_foreign(obj)
        if isinstance(obj, Array):
            return Array([self._copy(x) for x in obj])
        return obj

    def finish(self, title: str, language: str) -> None:
        """The tree, MarkInfo and the PDF/UA identifier, into the packet's catalog."""
        if not len(self.document.K):
            return
        self.root.K = Array([self.document])
        self.root.ParentTree = self.out.make_indirect(Dictionary(Nums=self.nums))
        self.root.ParentTreeNextKey = self.next_key
        self.out.Root.StructTreeRoot = self.root
        self.out.Root.MarkInfo = Dictionary(Marked=True)
        metadata = self.out.make_stream(xmp(title, language))
        metadata.Type, metadata.Subtype = Name.Metadata, Name.XML
        self.out.Root.Metadata = metadata
