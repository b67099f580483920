"""The styled, empty base document every DOCX render starts from.

python-docx's default template carries 164 styles (100 of them table styles,
438 KB of styles.xml, plus a 438 KB stylesWithEffects.xml copy), a stale
thumbnail and "python-docx" in its core properties. We replace the styles and
numbering with our own small definitions under Word's built-in names (so Word
treats them as its own "Heading 1", "List Bullet", ...), drop the dead parts,
add an empty header and footer, and keep the result as bytes: building it
costs tens of milliseconds, opening the bytes again about one.

The text font is the PDF's: Bitstream Vera Sans, the four faces reportlab
ships. The font table describes it (PANOSE class, Unicode and code-page
ranges read from the font file), so an application without Vera picks a
close sans; where fontconfig rules (LibreOffice on Linux) that is DejaVu
Sans, Vera's own extension. See ``embeddable`` for why the faces are not
embedded in the file.
"""
from __future__ import annotations

import datetime as dt
import functools
import struct
from pathlib import Path

import docx
import reportlab
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from docx.shared import Inches

from .docx_look import Look, half_points, look_for
from .docx_numbering import (BULLET_NUM, BULLET_STYLES, CONTINUE_STYLES, NUMBER_NUM, NUMBER_STYLES, list_indent,
                              numbering_xml)
from .docx_package import package_bytes

LIST_STEP = 504           # twips from one list level's text to the next's
LIST_HANGING = 360        # twips the marker hangs left of the text
CELL_MARGIN = 115         # twips: a table cell's left and right margins, each

FIXED_TIME = dt.datetime(2000, 1, 1)   # created and modified, written as UTC

FONT_NAME = "Bitstream Vera Sans"
_VERA = Path(reportlab.__file__).parent / "fonts"
# The font file of each face, keyed (bold, italic); the PDF backend uses the same four.
FONT_FACES: dict[tuple[bool, bool], Path] = {
    (False, False): _VERA / "Vera.ttf", (True, False): _VERA / "VeraBd.ttf",
    (False, True): _VERA / "VeraIt.ttf", (True, True): _VERA / "VeraBI.ttf",
}
# Paragraph styles whose text is bold (all faces are otherwise set per run).
BOLD_STYLES = frozenset({"Title", *(f"Heading{n}" for n in range(1, 7))})

# Languages written right to left (w:bidi names the language of complex-script text)
# and in East Asian scripts (w:eastAsia). Other languages keep Word's own defaults
# for those two, as its Normal template has them.
_RIGHT_TO_LEFT = frozenset({"ar", "ckb", "dv", "fa", "he", "ps", "sd", "ug", "ur", "yi"})
_EAST_ASIAN = frozenset({"ja", "ko", "zh"})

_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def lang_attrs(language: str) -> dict[str, str]:
    """The attributes of w:lang (and settings' w:themeFontLang) for a language tag."""
    primary = language.split("-")[0].lower()
    return {"val": language,
            "eastAsia": language if primary in _EAST_ASIAN else "en-US",
            "bidi": language if primary in _RIGHT_TO_LEFT else "ar-SA"}


def _lang_xml(language: str) -> str:
    return "<w:lang" + "".join(f' w:{k}="{v}"' for k, v in lang_attrs(language).items()) + "/>"


def _style(kind: str, sid: str, name: str, body: str, *, based: str | None = "Normal",
           nxt: str | None = None, extra: str = "") -> str:
    based_xml = f'<w:basedOn w:val="{based}"/>' if based else ""
    next_xml = f'<w:next w:val="{nxt}"/>' if nxt else ""
    return (f'<w:style w:type="{kind}" w:styleId="{sid}"{extra}><w:name w:val="{name}"/>'
            f"{based_xml}{next_xml}{body}</w:style>")


def _heading(look: Look, level: int, before: int, after: int) -> str:
    half = half_points(look.heading[level - 1])
    before, after = look.tw(before), look.tw(after)
    return _style(
        "paragraph", f"Heading{level}", f"heading {level}",
        '<w:uiPriority w:val="9"/><w:qFormat/>'
        f'<w:pPr><w:keepNext/><w:keepLines/><w:spacing w:before="{before}" w:after="{after}"/>'
        f'<w:outlineLvl w:val="{level - 1}"/></w:pPr>'
        f'<w:rPr><w:b/><w:bCs/><w:color w:val="{{accent}}"/><w:sz w:val="{half}"/>'
        f'<w:szCs w:val="{half}"/></w:rPr>',
        nxt="Normal",
    )


def _list_style(look: Look, sid: str, name: str, level: int, num_id: int | None) -> str:
    numbered = (f'<w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/></w:numPr>'
                if num_id else "")
    hanging = f' w:hanging="{look.tw(LIST_HANGING)}"' if num_id else ""
    return _style(
        "paragraph", sid, name,
        f'<w:uiPriority w:val="99"/><w:unhideWhenUsed/><w:pPr>{numbered}'
        f'<w:spacing w:after="{look.tw(80)}"/><w:ind w:left="{list_indent(level, look.tw(LIST_STEP))}"{hanging}/>'
        '</w:pPr>',
    )


def _styles_xml(look: Look) -> str:
    """styles.xml for a look; ``{accent}`` and ``{lang}`` (a w:lang element) are filled per document."""
    tw, body, small = look.tw, half_points(look.body), half_points(look.small)
    parts = [
        '<w:docDefaults><w:rPrDefault><w:rPr>'
        f'<w:rFonts w:ascii="{FONT_NAME}" w:hAnsi="{FONT_NAME}" w:cs="{FONT_NAME}" w:eastAsiaTheme="minorEastAsia"/>'
        f'<w:sz w:val="{body}"/><w:szCs w:val="{body}"/>{{lang}}'
        '</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr>'
        f'<w:spacing w:after="{tw(160)}" w:line="276" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>',
        _style("paragraph", "Normal", "Normal",
               '<w:qFormat/><w:pPr><w:widowControl/></w:pPr>'
               '<w:rPr><w:color w:val="222222"/>{lang}</w:rPr>',
               based=None, extra=' w:default="1"'),
        _style("character", "DefaultParagraphFont", "Default Paragraph Font",
               '<w:uiPriority w:val="1"/><w:semiHidden/><w:unhideWhenUsed/>',
               based=None, extra=' w:default="1"'),
        _style("table", "TableNormal", "Normal Table",
               '<w:uiPriority w:val="99"/><w:semiHidden/><w:unhideWhenUsed/>'
               '<w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/>'
               '<w:left w:w="108" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/>'
               '<w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr>',
               based=None, extra=' w:default="1"'),
        _style("numbering", "NoList", "No List",
               '<w:uiPriority w:val="99"/><w:semiHidden/><w:unhideWhenUsed/>',
               based=None, extra=' w:default="1"'),
        # Title carries an outline level so Word's navigation pane and PDF
        # export list the document title above its sections.
        _style("paragraph", "Title", "Title",
               '<w:uiPriority w:val="10"/><w:qFormat/><w:pPr><w:keepNext/><w:keepLines/>'
               '<w:pBdr><w:bottom w:val="single" w:sz="12" w:space="6" w:color="{accent}"/></w:pBdr>'
               f'<w:spacing w:before="{tw(120)}" w:after="{tw(280)}" w:line="240" w:lineRule="auto"/>'
               '<w:outlineLvl w:val="0"/></w:pPr>'
               '<w:rPr><w:b/><w:bCs/><w:color w:val="{accent}"/><w:kern w:val="28"/>'
               f'<w:sz w:val="{half_points(look.title)}"/><w:szCs w:val="{half_points(look.title)}"/></w:rPr>',
               nxt="Normal"),
        _heading(look, 1, 400, 120),
        _heading(look, 2, 320, 100),
        _heading(look, 3, 240, 80),
        *(_style("paragraph", f"Heading{n}", f"heading {n}",
                 f'<w:uiPriority w:val="9"/><w:qFormat/><w:pPr><w:outlineLvl w:val="{n - 1}"/></w:pPr>',
                 based="Heading3", nxt="Normal") for n in (4, 5, 6)),
        *(_list_style(look, sid, f"List Bullet{'' if i == 0 else ' ' + str(i + 1)}", i, BULLET_NUM)
          for i, sid in enumerate(BULLET_STYLES)),
        *(_list_style(look, sid, f"List Number{'' if i == 0 else ' ' + str(i + 1)}", i, NUMBER_NUM)
          for i, sid in enumerate(NUMBER_STYLES)),
        *(_list_style(look, sid, f"List Continue{'' if i == 0 else ' ' + str(i + 1)}", i, None)
          for i, sid in enumerate(CONTINUE_STYLES)),
        *(_style("paragraph", sid, sid.lower(),
                 '<w:uiPriority w:val="99"/><w:unhideWhenUsed/><w:pPr>'
                 '<w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>'
                 f'<w:rPr><w:color w:val="595959"/><w:sz w:val="{small}"/><w:szCs w:val="{small}"/></w:rPr>')
          for sid in ("Header", "Footer")),
        _style("character", "Hyperlink", "Hyperlink",
               '<w:uiPriority w:val="99"/><w:unhideWhenUsed/>'
               '<w:rPr><w:color w:val="{accent}"/><w:u w:val="single"/></w:rPr>',
               based="DefaultParagraphFont"),
        _style("table", "TableGrid", "Table Grid",
               f'<w:uiPriority w:val="59"/><w:pPr><w:spacing w:before="{tw(60)}" w:after="{tw(60)}" '
               'w:line="252" w:lineRule="auto"/></w:pPr><w:tblPr><w:tblBorders>'
               + "".join(f'<w:{e} w:val="single" w:sz="4" w:space="0" w:color="BFBFBF"/>'
                         for e in ("top", "left", "bottom", "right", "insideH", "insideV"))
               + f'</w:tblBorders><w:tblCellMar><w:left w:w="{tw(CELL_MARGIN)}" w:type="dxa"/>'
               f'<w:right w:w="{tw(CELL_MARGIN)}" w:type="dxa"/></w:tblCellMar></w:tblPr>',
               based="TableNormal"),
        _style("paragraph", "FormField", "Form Field",
               '<w:uiPriority w:val="20"/><w:qFormat/><w:pPr><w:keepLines/>'
               f'<w:spacing w:before="{tw(320)}" w:after="{tw(120)}"/></w:pPr>',
               nxt="Normal", extra=' w:customStyle="1"'),
    ]
    return f"<w:styles {_W}>{''.join(parts)}</w:styles>"


@functools.lru_cache(maxsize=8)
def font_bytes(path: Path) -> bytes:
    return Path(path).read_bytes()


def _os2(data: bytes) -> bytes:
    """A TrueType font's OS/2 table (embedding rights, PANOSE, Unicode and code-page ranges)."""
    (count,) = struct.unpack_from(">H", data, 4)
    for i in range(count):
        tag, _, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        if tag == b"OS/2":
            return data[offset:offset + length]
    raise ValueError("no OS/2 table")


def embeddable(data: bytes) -> bool:
    """Whether a font's own licence bits (OS/2 fsType) allow embedding it in an
    editable document: installable (0) or editable (8), and not bitmap-only.

    Vera says 4, "Preview & Print": a document holding it must open read-only
    (OpenType spec, OS/2 fsType), and LibreOffice drops such an embedded font
    (EmbeddedFontsHelper::addEmbeddedFont asks for editing rights). The bits may
    not be changed either (the Vera licence: a modified Vera must be renamed).
    So the DOCX names Vera without carrying it, and the practice's copy stays
    editable; a font that allows it is embedded (docx_package.embed_fonts).
    """
    (fs_type,) = struct.unpack_from(">H", _os2(data), 8)
    usage = fs_type & 0x000F
    return (usage == 0 or usage & 0x0008 != 0) and not fs_type & 0x0200


def _font_table_xml() -> str:
    """fontTable.xml: the text font, described from its file, and the marker fonts."""
    os2 = _os2(font_bytes(FONT_FACES[(False, False)]))
    panose = os2[32:42].hex().upper()
    usb = struct.unpack_from(">4I", os2, 42)
    csb = struct.unpack_from(">2I", os2, 78) if len(os2) >= 86 else (1, 0)
    sig = "".join(f' w:usb{i}="{v:08X}"' for i, v in enumerate(usb)) + "".join(
        f' w:csb{i}="{v:08X}"' for i, v in enumerate(csb))
    fonts = (
        f'<w:font w:name="{FONT_NAME}"><w:panose1 w:val="{panose}"/><w:charset w:val="00"/>'
        f'<w:family w:val="swiss"/><w:pitch w:val="variable"/><w:sig{sig}/></w:font>'
        # List markers (docx_numbering) and the checkbox glyph (docx_context).
        '<w:font w:name="Symbol"><w:charset w:val="02"/><w:family w:val="roman"/><w:pitch w:val="variable"/></w:font>'
        '<w:font w:name="Courier New"><w:charset w:val="00"/><w:family w:val="modern"/><w:pitch w:val="fixed"/></w:font>'
        '<w:font w:name="Wingdings"><w:charset w:val="02"/><w:family w:val="auto"/><w:pitch w:val="variable"/></w:font>'
        '<w:font w:name="MS Gothic"><w:altName w:val="\uff2d\uff33 \u30b4\u30b7\u30c3\u30af"/><w:charset w:val="80"/>'
        '<w:family w:val="modern"/><w:pitch w:val="fixed"/></w:font>'
    )
    return (f'<w:fonts {_W} xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"{fonts}</w:fonts>")


_APP_XML = (
    b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    b"<Application>consentgen</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>"
    b"<LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
    b"<HyperlinksChanged>false</HyperlinksChanged></Properties>"
)
_STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"



def _replace_children(root, xml: str) -> None:
    root[:] = list(parse_xml(xml))


def _drop_rels(rels, *reltypes: str) -> None:
    for rId in [rId for rId, rel in rels.items() if rel.reltype in reltypes]:
        del rels[rId]


@functools.cache
def _look_xml(large_print: bool) -> tuple[str, str]:
    """styles.xml and numbering.xml of a look, with ``{accent}`` and ``{lang}`` left open."""
    look = look_for(large_print)
    return _styles_xml(look), numbering_xml(_W, look.tw(LIST_STEP), look.tw(LIST_HANGING))


@functools.lru_cache(maxsize=16)
def base_bytes(accent: str, language: str, large_print: bool = False) -> bytes:
    """The empty styled document for one accent ('RRGGBB'), language and look, as .docx bytes."""
    document = docx.Document()
    part, package = document.part, document.part.package
    styles, numbering = _look_xml(large_print)
    _replace_children(document.styles.element, styles.replace("{accent}", accent).replace("{lang}", _lang_xml(language)))
    _replace_children(part.numbering_part.element, numbering)
    font_table = part.part_related_by(RT.FONT_TABLE)    # a plain blob part in python-docx
    font_table._blob = (b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
                        + _font_table_xml().encode("utf-8"))
    _drop_rels(part.rels, RT.CUSTOM_XML, _STYLES_WITH_EFFECTS)
    _drop_rels(package.rels, RT.THUMBNAIL, RT.EXTENDED_PROPERTIES)
    app = Part(PackURI("/docProps/app.xml"), CT.OFC_EXTENDED_PROPERTIES, _APP_XML, package)
    package.relate_to(app, RT.EXTENDED_PROPERTIES)

    settings = document.settings.element
    w = f"{{{settings.nsmap['w']}}}"
    for tag in ("savePreviewPicture", "proofState", "rsids"):
        for el in settings.findall(w + tag):
            settings.remove(el)
    for el in settings.findall(w + "themeFontLang"):
        for key, value in lang_attrs(language).items():
            el.set(w + key, value)
    # Mode 15 (Word 2013+): no "[Compatibility Mode]" banner, tables align with the margin.
    for el in settings.iter(w + "compatSetting"):
        if el.get(w + "name") == "compatibilityMode":
            el.set(w + "val", "15")

    section = document.sections[0]
    for side in ("top_margin", "bottom_margin", "left_margin", "right_margin"):
        setattr(section, side, Inches(1))
    section.header_distance = section.footer_distance = Inches(0.4)
    section.header.is_linked_to_previous = False
    section.footer.is_linked_to_previous = False

    props = document.core_properties
    props.created = props.modified = FIXED_TIME
    props.revision = 1
    props.language = language
    for name in ("title", "subject", "author", "keywords", "comments", "category", "last_modified_by"):
        setattr(props, name, "")
    return package_bytes(document)
