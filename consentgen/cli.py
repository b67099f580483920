"""The command line: parse options, call the library, report errors in one line.

Heavy modules (pydantic models, Jinja2, reportlab, python-docx) are imported
inside the commands, so ``consentgen --help`` starts fast.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import sys
from pathlib import Path

import click

from . import __version__

FORMATS = ("pdf", "docx")


@contextlib.contextmanager
def user_errors():
    """Turn a ConsentgenError into one line on stderr and its exit code."""
    from .errors import ConsentgenError

    try:
        yield
    except ConsentgenError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)


def _date(ctx, param, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date like 2026-01-05") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="consentgen")
def main() -> None:
    """Turn a therapist's written policies into clear client handouts.

    Profiles are YAML files; see the README for every key. Start with
    'consentgen templates' and the example profiles.
    """


@main.command()
@click.argument("profile", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--doc", "docs", multiple=True, metavar="NAME",
              help="A document to render (repeatable), or 'all'. Default: the profile's packet.")
@click.option("--format", "formats", multiple=True, type=click.Choice(FORMATS),
              help="Output format (repeatable). Default: pdf.")
@click.option("--client-name", metavar="TEXT", help="Print this client's name in the documents.")
@click.option("--date", "date", callback=_date, metavar="YYYY-MM-DD",
              help="Effective date. Default: the profile's effective_date, else today.")
@click.option("--templates", "template_dirs", multiple=True, metavar="DIR",
              type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="A folder of your own templates, searched before the built-in ones.")
@click.option("--a4", is_flag=True, help="A4 pages instead of US letter.")
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), default=Path("."),
              show_default=True, help="Output folder (or a file name, for one document in one format).")
def render(profile: Path, docs, formats, client_name, date, template_dirs, a4, out) -> None:
    """Render one profile's documents to PDF and/or DOCX."""
    from . import api

    job = api.Job(docs=tuple(docs), formats=tuple(dict.fromkeys(formats)) or ("pdf",), effective=date,
                  client_name=client_name, template_dirs=tuple(template_dirs),
                  page_size="a4" if a4 else "letter")
    with user_errors():
        for path in api.render(profile, out, job):
            click.echo(str(path))


@main.command()
@click.option("--templates", "template_dirs", multiple=True, metavar="DIR",
              type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="Also list the documents in this folder.")
def templates(template_dirs) -> None:
    """List the documents you can render, with what each is for."""
    from .templating import list_documents

    docs = list_documents(tuple(template_dirs))
    width = max(len(d.name) for d in docs)
    for doc in docs:
        click.echo(f"{doc.name.ljust(width)}  {doc.description}")


@main.command()
@click.argument("profiles", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
def check(profiles) -> None:
    """Validate profiles: 'ok', or every error as file:line: key: message."""
    from .errors import ProfileError
    from .profiles import load_profile

    failed = False
    for path in profiles:
        try:
            load_profile(path)
        except ProfileError as exc:
            failed = True
            for line in exc.errors:
                click.echo(line, err=True)
        else:
            click.echo(f"{path}: ok")
    sys.exit(2 if failed else 0)
