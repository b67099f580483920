"""Reading level and plain words: rule L18 and the readability part of ``check``.

Grades come from textstat, imported in one place (``_textstat``) and only when
first needed. Without it the grade checks and ``readability_report`` give
nothing, and ``check`` says once that they need ``pip install textstat``.
Long sentences and jargon need no textstat.

Text that the profile supplies (notes, the approach, ...) is reported at its
profile key, so the therapist sees their own file and line; everything else
at its line in the rendered document. Wording a jurisdiction prescribes word
for word is never reported: no one may change it.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Iterator

from ..document import Document, Heading, TextUnit, located_units, plain_text
from ..errors import Where
from ..jurisdictions import context_for as jurisdiction_context
from ..models import Profile
from .registry import Context, Hit

MISSING = "note: reading-level checks need textstat: pip install textstat"


@functools.cache
def _textstat():
    """The textstat module, or None when it is not installed (the one import of it)."""
    try:
        import textstat
    except ImportError:
        return None
    return textstat


def available() -> bool:
    return _textstat() is not None


def scores(text: str) -> dict[str, float]:
    """Flesch-Kincaid grade, Flesch Reading Ease and words per sentence (needs textstat)."""
    ts = _textstat()
    return {"grade": round(ts.flesch_kincaid_grade(text), 2),
            "reading_ease": round(ts.flesch_reading_ease(text), 2),
            "words_per_sentence": round(ts.lexicon_count(text) / max(ts.sentence_count(text), 1), 2)}


def sections(doc: Document) -> list[tuple[Heading, Document]]:
    """Each level-2 section (its heading and what follows, up to the next level-1 or -2 heading)."""
    out: list[tuple[Heading, list]] = []
    current: list | None = None
    for block in doc.blocks:
        if isinstance(block, Heading) and block.level <= 2:
            current = [block] if block.level == 2 else None
            if current:
                out.append((block, current))
        elif current is not None:
            current.append(block)
    return [(h, Document(doc.name, h.text, tuple(blocks), doc.language)) for h, blocks in out]


def readability_report(ctx: Context) -> list[dict]:
    """Per document of the packet: its scores, SMOG, and the scores of each level-2 section."""
    if not available():
        return []
    report = []
    for name, doc in ctx.documents.items():
        text = plain_text(doc)
        report.append({
            "name": name, "title": doc.title, **scores(text),
            "smog": round(_textstat().smog_index(text), 2),
            "sections": [{"heading": h.text, "line": h.line, **scores(plain_text(part))}
                         for h, part in sections(doc)],
        })
    return report


# --- Reading units, sentences, and where a piece of text came from --------------------------------


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’')\]]*\s+(?=[\"“‘(\[]?[A-Z0-9$])")
_WORD = re.compile(r"\w")


def sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence: split after . ! ? when a capital or digit follows."""
    start = 0
    for m in _SENTENCE_END.finditer(text):
        yield start, m.start()
        start = m.end()
    if text[start:].strip():
        yield start, len(text)


def word_count(sentence: str) -> int:
    """Words as textstat counts them: whitespace-separated, with at least one letter or digit."""
    return sum(1 for w in sentence.split() if _WORD.search(w))


def squash(text: str) -> str:
    return " ".join(text.split())


def profile_texts(profile: Profile) -> list[tuple[str, str]]:
    """(dotted key, text) for every profile value of two words or more, longest first."""
    found: list[tuple[str, str]] = []

    def walk(value, key: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{key}.{k}" if key else k)
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                walk(v, f"{key}[{i}]")
        elif isinstance(value, str) and len(value.split()) >= 2:
            found.append((key, squash(value)))

    walk(profile.model_dump(mode="json", by_alias=True, exclude={"lint"}), "")
    return sorted(found, key=lambda kv: -len(kv[1]))


class Sources:
    """Tells which profile key, if any, a stretch of rendered text came from."""

    def __init__(self, profile: Profile):
        self.texts = profile_texts(profile)
        law = jurisdiction_context(profile)
        self.verbatim = [squash(law.texts[s.id]) for s in law.statements if s.verbatim and s.id in law.texts]

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        out = []
        for key, value in self.texts:
            at = text.find(value)
            while at != -1:
                out.append((at, at + len(value), key))
                at = text.find(value, at + 1)
        return out

    def key_for(self, spans: list[tuple[int, int, str]], start: int, end: int) -> str | None:
        """The key of the profile value that holds all of text[start:end], if one does."""
        return next((key for s, e, key in spans if s <= start and end <= e), None)

    def prescribed(self, text: str) -> bool:
        """Wording a jurisdiction prescribes, which nobody may reword."""
        return any(v and (v in text or text in v) for v in self.verbatim)


# --- Jargon ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Term:
    name: str
    pattern: re.Pattern
    plain: str


def _term(name: str, pattern: str, plain_words: str) -> Term:
    flags = 0 if name.isupper() else re.IGNORECASE      # acronyms match only in capitals
    return Term(name, re.compile(rf"(?<![\w-])(?:{pattern})(?![\w])", flags), plain_words)


GLOSSARY: tuple[Term, ...] = (
    _term("countertransference", r"counter-?transference", "the therapist's own feelings about a client"),
    _term("transference", r"transference", "strong feelings about me that echo other relationships in your life"),
    _term("dual relationship", r"(?:dual|multiple) (?:relationships?|roles?)",
          "another role in your life, such as friend, boss or business partner"),
    _term("PHI", r"PHI", "your health information"),
    _term("protected health information", r"protected health information", "your health information"),
    _term("duty to warn", r"duty to warn", "when the law requires me to act to keep someone safe"),
    _term("duty to protect", r"duty to protect", "when the law requires me to act to keep someone safe"),
    # "HIPAA-compliant" (a video service, say) tells a client what matters; HIPAA alone does not.
    _term("HIPAA", r"HIPAA(?![- ](?:compliant|secure))", "a federal law that protects health information"),
    _term("covered entity", r"covered entit(?:y|ies)", "a provider that HIPAA applies to"),
    _term("modality", r"modality|modalities", "kind of therapy"),
    _term("termination", r"termination|terminated?|terminating", "ending therapy"),
    _term("pretermination", r"pre-?termination", "before therapy ends"),
    _term("psychoeducation", r"psycho-?education(?:al)?", "learning how the mind and feelings work"),
    _term("therapeutic alliance", r"therapeutic alliance", "the working relationship between us"),
    _term("power differential", r"power differentials?", "I have more power in our relationship than you do"),
    _term("mandated reporter", r"mandat(?:ed|ory) reporters?", "the law requires me to report abuse"),
    _term("clinically indicated", r"clinically (?:indicated|appropriate|necessary)", "when it would help you"),
    _term("DSM", r"DSM(?:-5(?:-TR)?)?", "the manual used to name mental health conditions"),
    _term("CBT", r"CBT", "cognitive behavioral therapy: changing unhelpful thoughts and habits"),
    _term("DBT", r"DBT", "dialectical behavior therapy: skills for strong emotions"),
    _term("EMDR", r"EMDR", "eye movement desensitization and reprocessing, a therapy for trauma"),
)

# A paragraph explains a term when the term's sentence says what it means ("X means",
# "called X"), or the next sentence does ("This means ..."), or when the term or its
# explanation stands in parentheses right beside it.
_EXPLAINS = re.compile(r"\b(?:means?|meaning|called|calls|known as|refers? to|stands? for|in other words)\b"
                       r"|\bthat is,", re.IGNORECASE)
_FOLLOW_UP = re.compile(r"\W*(?:this|that|these|it|such)\b", re.IGNORECASE)   # "This means ..."


def _explained(text: str, start: int, end: int) -> bool:
    if re.match(r"\s*\(", text[end:]):
        return True
    before = text[:start]
    if before.rfind("(") > before.rfind(")"):               # the term itself sits in parentheses
        return True
    spans = list(sentence_spans(text))
    here = next((i for i, (s, e) in enumerate(spans) if s <= start < e), None)
    if here is None:
        return False
    if _EXPLAINS.search(text[slice(*spans[here])]):
        return True
    follow = text[slice(*spans[here + 1])] if here + 1 < len(spans) else ""
    return bool(_FOLLOW_UP.match(follow) and _EXPLAINS.search(follow))


# --- Rule L18 -------------------------------------------------------------------------------------

def hits(ctx: Context) -> Iterator[Hit]:
    """Every L18 finding: grades over target, hard notes, long sentences, undefined jargon."""
    sources = Sources(ctx.profile)
    if available():
        yield from _grades(ctx, sources)
    seen: set[tuple] = set()                 # a note's problem is told once, not once per document
    for name, doc in ctx.documents.items():
        defined: set[str] = set()            # explained once, a term is plain for the rest of the document
        for unit in located_units(doc.blocks):
            if sources.prescribed(unit.text):
                continue
            spans = sources.spans(unit.text)
            found = [*_long_sentences(ctx, unit, spans, sources)]
            if not unit.heading:
                found += _jargon(unit, spans, sources, defined)
            for identity, key, message in found:
                if (key or name, *identity) not in seen:
                    seen.add((key or name, *identity))
                    yield Hit(message, key=key, where=None if key else Where(f"{name} (rendered)", unit.line))


def _long_sentences(ctx: Context, unit: TextUnit, spans, sources: Sources) -> Iterator[tuple]:
    most = ctx.profile.lint.readability.long_sentence
    for start, end in sentence_spans(unit.text):
        count = word_count(unit.text[start:end])
        if count > most:
            quote = _quote(unit.text[start:end])
            key = sources.key_for(spans, start, end)
            yield ("long", quote, None if key else unit.line), key, f"a sentence of {count} words (over {most}): {quote}"


def _jargon(unit: TextUnit, spans, sources: Sources, defined: set[str]) -> list[tuple]:
    out = []
    for term in GLOSSARY:
        for m in term.pattern.finditer(unit.text):
            if _explained(unit.text, m.start(), m.end()):
                defined.add(term.name)
            if term.name not in defined:
                out.append((("jargon", term.name), sources.key_for(spans, m.start(), m.end()),
                            f"'{m.group()}' is jargon that the text does not explain; say what it means in the "
                            f"same paragraph, or use plain words (e.g. \"{term.plain}\")"))
    return out


def _grades(ctx: Context, sources: Sources) -> Iterator[Hit]:
    settings = ctx.profile.lint.readability
    ts = _textstat()
    for name, doc in ctx.documents.items():
        grade = round(ts.flesch_kincaid_grade(plain_text(doc)), 1)     # as shown: 8.04 is not over 8
        title_line = next((b.line for b in doc.blocks if isinstance(b, Heading) and b.level == 1), 1)
        where = Where(f"{name} (rendered)", title_line)
        if grade > settings.error_above:
            yield Hit(f"'{doc.title}' reads at grade {grade:.1f} (Flesch-Kincaid), above the limit of "
                      f"{settings.error_above:g}", where=where, severity="error")
        elif grade > settings.warn_above:
            yield Hit(f"'{doc.title}' reads at grade {grade:.1f} (Flesch-Kincaid), above the target of "
                      f"{settings.warn_above:g}", where=where)
    shown = squash(" ".join(plain_text(doc) for doc in ctx.documents.values()))
    for key, text in sources.texts:
        if key.rsplit(".", 1)[-1] != "note" or text not in shown:
            continue                                          # only notes a client will read
        # A grade from a sentence or two is rough, so a note is held to the limit, not the
        # target; it stays a warning (the document's own grade is checked above).
        grade = round(ts.flesch_kincaid_grade(text), 1)
        if grade > settings.error_above:
            yield Hit(f"this note reads at grade {grade:.1f} (Flesch-Kincaid), above the limit of "
                      f"{settings.error_above:g}; use shorter sentences and everyday words", key=key)


def _quote(sentence: str, most: int = 60) -> str:
    sentence = squash(sentence)
    return f"\"{sentence[:most]}…\"" if len(sentence) > most else f"\"{sentence}\""
