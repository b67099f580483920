"""Templates: escaping, the sandbox, strict names, user folders, and errors with template:line."""
from __future__ import annotations

import datetime as dt

import pytest

from consentgen.api import Job, build_document, render
from consentgen.document import plain_text
from consentgen.errors import TemplateError
from consentgen.profiles import load_profile
from consentgen.templating import list_documents, md_escape

from .conftest import BUILT_IN_DOCS, MINIMAL

HOSTILE = ["Dr. *Kim*", "snake_case_name", "# not a heading", "<b>bold</b>", "[x](y)", "{{ 7*7 }}", "a & b", "1. not a list"]


@pytest.mark.parametrize("value", HOSTILE)
def test_values_print_literally(write, value):
    path = write("p.yaml", MINIMAL.replace("Robin Test", f"'{value}'"))
    doc = build_document(load_profile(path), "our-relationship", Job(effective=dt.date(2026, 1, 5)))
    text = plain_text(doc)
    assert value in text
    assert "49" not in text


def test_escaping_collapses_newlines_so_values_cannot_start_blocks():
    assert md_escape("a\n\n# b") == "a \\# b"


def test_built_in_documents_are_listed_with_descriptions():
    docs = {d.name: d.description for d in list_documents()}
    assert set(BUILT_IN_DOCS) <= set(docs)
    assert all(docs[name] for name in BUILT_IN_DOCS)


def test_user_template_replaces_a_built_in_and_adds_new(write, tmp_path):
    folder = tmp_path / "mine"
    write("mine/contact.md", "# My Own Contact Page\n\nCall {{ practice.phone }}.\n")
    write("mine/welcome.md", "# Welcome\n\n{% include 'sections/emergency.md' %}")
    profile = load_profile(write("p.yaml", MINIMAL))
    job = Job(template_dirs=(folder,), effective=dt.date(2026, 1, 5))
    assert "Call 555-0100." in plain_text(build_document(profile, "contact", job))
    welcome = plain_text(build_document(profile, "welcome", job))
    assert "988" in welcome  # user templates may include built-in partials
    assert {"contact", "welcome"} <= {d.name for d in list_documents((folder,))}


@pytest.mark.parametrize(
    "body, message",
    [
        ("# T\n\n{{ ''.__class__.__mro__ }}\n", "refused: access to attribute '__class__'"),
        ("# T\n\nline two\n{{ no_such_name }}\n", "undefined: 'no_such_name' is undefined"),
        ("# T\n\n{% if %}\n", "syntax error"),
        ("# T\n\n{{ clinician.pronouns }}\n", "a template printed an empty value"),
    ],
)
def test_template_errors_name_template_and_line_and_write_nothing(write, tmp_path, body, message):
    folder = tmp_path / "mine"
    template = write("mine/bad.md", body)
    out = tmp_path / "out"
    with pytest.raises(TemplateError) as info:
        render(write("p.yaml", MINIMAL), out, Job(docs=("contact", "bad"), template_dirs=(folder,), formats=("pdf",)))
    line = body.count("\n", 0, body.index("{", 2)) + 1
    assert str(info.value).startswith(f"{template}:{line}: {message}")
    assert not out.exists()


def test_unknown_document(write):
    with pytest.raises(TemplateError, match="no document named 'nope'"):
        build_document(load_profile(write("p.yaml", MINIMAL)), "nope", Job())


def test_render_errors_never_show_the_client_name(write, tmp_path):
    folder = tmp_path / "mine"
    write("mine/bad.md", "# T\n\n{{ client.name | int + 'x' }}\n")
    with pytest.raises(TemplateError) as info:
        build_document(load_profile(write("p.yaml", MINIMAL)), "bad",
                       Job(template_dirs=(folder,), client_name="Zelda Quiggly"))
    assert "Zelda" not in str(info.value) and "bad.md:3" in str(info.value)
