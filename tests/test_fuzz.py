"""Fuzzing: whatever a clumsy or hostile user does to a profile or a roster, the error contract holds.

Every mutated profile either renders a PDF and a DOCX that reopen, or is refused with exit 2 in one
line, writing nothing; never a traceback. Markup in a value prints literally. A client's name never
reaches an error, a file name, the manifest or the build state.

The budget is the Hypothesis profile's ``max_examples``, shared out between the tests below
(tests/hypothesis_profiles.py): 300 derandomized examples by default (CI), 10,000 random ones with
``--hypothesis-profile=long``. The harness is tests/fuzzing.py.
"""
from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from . import fuzzing as fz
from . import hypothesis_profiles  # noqa: F401  (the "ci" profile by default)
from .readback import docx_text, pdf_text, squash

TOTAL = settings.default.max_examples


def share(fraction: float):
    """This test's part of the profile's budget."""
    return settings(max_examples=max(5, round(TOTAL * fraction)))


DOC_OR_PACKET = st.sampled_from((*fz.DOCS, None))          # None: the profile's packet, now and then


def render_args(ws: fz.Workspace, doc: str | None, *extra) -> list:
    return ["render", ws.clinician, *(["--doc", doc] if doc else []), "--format", "pdf", "--format", "docx",
            *extra, "-o", ws.out]


ANA = ("example-practice", "ana-nunez.yaml")


def ana(file: str, old: str, new: str):
    return fz.edited(ANA, file, old, new)


@share(0.63)
@given(case=fz.profile_case(), doc=DOC_OR_PACKET)
# Cases fuzzing found once (issue 10's F1-F3, and later runs), tried first on every run.
@example(case=ana("practice", "effective_date: 2026-01-05", "effective_date: 2026-02-30"), doc="contact")
@example(case=ana("practice", "retention_years: 7", "retention_years: " + "9" * 4301), doc="contact")
@example(case=ana("clinician", "name: Ana Núñez", 'name: "Ana\\vNúñez"'), doc="contact")
@example(case=ana("practice", "logo: logo.png", 'logo: "logo.png\\0"'), doc="contact")
@example(case=ana("clinician", "gifts: small", "gifts: !!bool maybe"), doc="relationship")
@example(case=ana("clinician", "level: minimal\n", 'level: minimal\n    "\\e[2J": 1\n'), doc="self-disclosure")
@example(case=ana("practice", "retention_years: 7", "retention_years: |\n      two\n      lines"), doc="contact")
@example(case=ana("practice", "our-relationship, fees", "no-such-document, fees"), doc=None)
@example(case=ana("practice", "cost: {fee: 0}}", "cost: {per_minutes: 15}}"), doc="contact")
def test_a_mutated_profile_renders_or_is_refused_in_one_line(case, doc):
    base, mutated = case
    with fz.Workspace(base, mutated) as ws:
        result = fz.run(render_args(ws, doc), mutated)
        fz.expect_render(result, ws.out, mutated)


# Values that the documents print, and a document that prints each (the example practice, Ana Núñez).
PRINTED = (
    ("practice", ("practice", "name"), "contact"),
    ("practice", ("practice", "office_staff"), "contact"),
    ("practice", ("emergency", "local_crisis", "name"), "contact"),
    ("practice", ("emergency", "nearest_er"), "breaks"),
    ("practice", ("policies", "fees", "services", 0, "name"), "fees-and-cancellations"),
    ("practice", ("policies", "contact", "hours"), "contact"),
    ("practice", ("policies", "breaks", "coverage", "name"), "breaks"),
    ("clinician", ("clinician", "credentials"), "contact"),
    ("clinician", ("clinician", "name"), "contact"),
    ("clinician", ("clinician", "training"), "informed-consent"),
    ("clinician", ("clinician", "license", "number"), "informed-consent"),
    ("clinician", ("policies", "therapy", "approach"), "informed-consent"),
    ("clinician", ("policies", "self_disclosure", "note"), "self-disclosure"),
)
def with_value(file: str, path: tuple, value: str) -> fz.Mutated:
    """The example practice with one value set (written as a YAML double-quoted string)."""
    original = fz.base_texts(ANA)[file]
    data = fz.load(original)
    parent = fz._get(data, path[:-1])
    before = fz.dump(data)
    parent[path[-1]] = "__VALUE__"
    text = fz.dump(data).replace("__VALUE__", fz.double_quoted(value, raw=False), 1)
    return fz.Mutated(file, [f"set {fz._dotted(path)}"], before, text.encode("utf-8"))


MARKED_UP = st.lists(st.sampled_from(fz.MARKUP), min_size=1, max_size=3).map(lambda parts: " mid ".join(parts))


def test_the_printed_values_are_where_the_markup_test_looks(tmp_path):
    """The markup test below would pass vacuously if a value it sets were not printed: check each is."""
    for file, path, doc in PRINTED:
        with fz.Workspace(ANA, with_value(file, path, "Zqx Marker Value")) as ws:
            result = fz.run(render_args(ws, doc))
            assert result is not None and result.exit_code == 0, (path, result and result.output)
            pdf, docx = sorted(ws.out.glob("*.pdf"))[0], sorted(ws.out.glob("*.docx"))[0]
            assert "Zqx Marker Value" in pdf_text(pdf) and "Zqx Marker Value" in docx_text(docx), path


@share(0.10)
@given(where=st.sampled_from(PRINTED), markup=MARKED_UP, client=st.booleans())
def test_markup_in_a_value_is_printed_literally(where, markup, client):
    file, path, doc = where
    value = f"Note {markup} end"
    mutated = with_value(file, path, value)
    with fz.Workspace(ANA, mutated) as ws:
        client_name = f"Client {markup.split(' mid ')[0]}"          # a name is at most 120 characters
        extra = ["--client-name", client_name] if client else []
        result = fz.run(render_args(ws, doc, *extra), mutated)
        if not fz.expect_render(result, ws.out, mutated):
            return
        for out in sorted(ws.out.iterdir()):
            text = pdf_text(out) if out.suffix == ".pdf" else docx_text(out)
            for wanted in (value, client_name) if client else (value,):
                if squash(wanted) not in text:
                    fz.fail(fz.MarkupInterpreted, f"{wanted!r} is not printed literally in {out.name}", mutated,
                            result)


@st.composite
def profile_holding_a_name(draw, name: str) -> fz.Mutated:
    """The example practice with a client's name as some text value (maybe where it is refused),
    then perhaps broken further."""
    file = draw(st.sampled_from(["clinician", "practice"]))
    original = fz.base_texts(ANA)[file]
    data = fz.load(original)
    paths = [p for p in fz.key_paths(data) if isinstance(fz._get(data, p), (str, int, bool))]
    path = draw(st.sampled_from(paths))
    value = draw(st.sampled_from([name, f"{name} (example)", f"for {name}", name.upper(), name + "\x0b"]))
    before = fz.dump(data)
    fz._get(data, path[:-1])[path[-1]] = "__VALUE__"
    text = fz.dump(data).replace("__VALUE__", fz.double_quoted(value, raw=False), 1)
    step = f"set {fz._dotted(path)} to the client's name"
    if draw(st.booleans()):
        further = draw(fz.mutated_text(text, file))
        return fz.Mutated(file, [step, *further.steps], before, further.data)
    return fz.Mutated(file, [step], before, text.encode("utf-8"))


@share(0.12)
@given(data=st.data(), doc=DOC_OR_PACKET)
def test_a_client_name_in_a_broken_profile_never_reaches_an_error(data, doc):
    name = data.draw(fz.fictional_name(), label="name")
    mutated = data.draw(profile_holding_a_name(name), label="profile")
    with fz.Workspace(ANA, mutated) as ws:
        result = fz.run(render_args(ws, doc, "--client-name", name), mutated)
        fz.expect_render(result, ws.out, mutated)
        if result is not None and result.exit_code != 0:
            fz.expect_no_name(result, (name,), mutated)


@share(0.10)
@given(data=st.data())
def test_a_mutated_roster_builds_or_fails_per_row_and_names_no_client(data):
    names = data.draw(st.lists(fz.fictional_name(), min_size=1, max_size=2, unique=True), label="names")
    roster, steps = data.draw(fz.roster_case("ana-nunez", names), label="roster")
    mutated = None
    if data.draw(st.integers(0, 4), label="break the profile too") == 0:
        _, mutated = data.draw(fz.profile_case(bases=(ANA,)), label="profile")
    case = f"roster: {'; '.join(steps) or 'as written'}\n{roster[:2000]!r}\n{mutated!r}"
    with fz.Workspace(ANA, mutated) as ws:
        practice = ws.practice_dir / "practice.yaml"
        if mutated is None or mutated.file == "clinician":       # a short packet: the roster is what is fuzzed
            practice.write_text(re.sub(r"(?m)^packet: .*$", "packet: [contact, acknowledgement]",
                                       practice.read_text(encoding="utf-8")), encoding="utf-8")
        csv = ws.root / "roster.csv"
        csv.write_bytes(roster)
        out = ws.root / "dist"
        result = fz.run(["build", ws.practice_dir, "--roster", csv, "-o", out, "-j", "1", "-q",
                         "--format", "pdf", "--format", "docx"], case)
        fz.expect_build(result, out, case, names=tuple(names))


@share(0.05)
@given(case=fz.profile_case())
def test_check_of_a_mutated_profile_reports_in_lines_that_name_a_file(case):
    base, mutated = case
    with fz.Workspace(base, mutated) as ws:
        fz.expect_check(fz.run(["check", ws.clinician], mutated), mutated)
