"""The command line: parse options, call the library, report errors in one line.

Heavy modules (pydantic models, Jinja2, reportlab, python-docx) are imported
inside the commands, so ``consentgen --help`` starts fast.
"""
from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import os
import sys
import threading
from pathlib import Path

import click

from . import __version__

FORMATS = ("pdf", "docx", "html")      # backends.FORMATS (a test keeps the two the same)
BUILD_FORMATS = ("pdf", "docx")        # what a build makes when no --format is given


@contextlib.contextmanager
def user_errors():
    """Turn a ConsentgenError into one line on stderr and its exit code."""
    from .errors import ConsentgenError

    try:
        yield
    except ConsentgenError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)


def _client_name(ctx, param, value: str | None) -> str | None:
    """The name as the roster's name column takes it: breaks to spaces, no control characters, 120 at most.

    The message says which character and where, never the name itself.
    """
    if value is None:
        return None
    from .model_base import clean_text

    try:
        name = clean_text(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if not name or len(name) > 120:
        raise click.BadParameter("give a name of 1 to 120 characters")
    return name


def _date(ctx, param, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date like 2026-01-05") from None


_templates_option = click.option(
    "--templates", "template_dirs", multiple=True, metavar="DIR",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="A folder of your own templates, searched before the built-in ones.")
_a4_option = click.option("--a4", is_flag=True, help="A4 pages instead of US letter.")
_large_print_option = click.option("--large-print", is_flag=True,
                                   help="Large print: 16-point body text and matching spacing, in every format.")
_template_seconds_option = click.option(
    "--template-seconds", "template_seconds", type=click.FloatRange(0, 86400, min_open=True), default=None,
    metavar="SECONDS",           # the default is limits.DEFAULT_SECONDS, not imported here: it would slow start-up
    help="Stop a document whose templates take longer than this to render.  [default: 10]")
_sources_option = click.option(
    "--sources", is_flag=True,
    help="Also the practice's appendix of sources: the codes and laws each document cites (never given to clients).")


class _Main(click.Group):
    """The command group: a bug in any command is one line too (exit 1), never a traceback."""

    def invoke(self, ctx):
        from .errors import ConsentgenError, debugging, internal_error

        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise
        except ConsentgenError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except Exception as exc:  # noqa: BLE001 - the one place every unexpected error ends
            if debugging():
                import traceback

                traceback.print_exception(exc, file=sys.stderr)
            command = f"consentgen {ctx.invoked_subcommand}" if ctx.invoked_subcommand else "consentgen"
            click.echo(f"error: {internal_error(command, exc)}", err=True)
            sys.exit(1)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="consentgen")
def main() -> None:
    """Turn a therapist's written policies into clear client handouts.

    Profiles are YAML files; see the README for every key. Start with
    'consentgen templates' and the example profiles.
    """


@main.command()
@click.argument("profiles", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--doc", "docs", multiple=True, metavar="NAME",
              help="A document to render (repeatable), or 'all'. Default: the profile's packet.")
@click.option("--format", "formats", multiple=True, type=click.Choice(FORMATS),
              help="Output format (repeatable): pdf, docx, or html (a page to read on any screen). Default: pdf.")
@click.option("--client-name", metavar="TEXT", callback=_client_name,
              help="Print this client's name in the documents.")
@click.option("--date", "date", callback=_date, metavar="YYYY-MM-DD",
              help="Effective date. Default: the profile's effective_date, else today.")
@_templates_option
@_template_seconds_option
@_a4_option
@_large_print_option
@_sources_option
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), default=Path("."),
              show_default=True, help="Output folder (or a file name, for one document in one format).")
def render(profiles: tuple[Path, ...], docs, formats, client_name, date, template_dirs, template_seconds, a4,
           large_print, sources, out) -> None:
    """Render each profile's documents to PDF, DOCX and/or HTML.

    With several profiles, every one is rendered before anything is written,
    so one bad profile writes nothing at all.
    """
    from . import api

    job = api.Job(docs=tuple(docs), formats=tuple(dict.fromkeys(formats)) or ("pdf",), effective=date,
                  client_name=client_name, template_dirs=tuple(template_dirs), template_seconds=template_seconds,
                  page_size="a4" if a4 else "letter", large_print=large_print, sources=sources)
    once: dict[Path, Path] = {}
    for path in profiles:                            # a file named twice is rendered once
        once.setdefault(path.resolve(), path)
    profiles = tuple(once.values())
    with user_errors():
        written = api.render(profiles[0], out, job) if len(profiles) == 1 else _render_several(profiles, out, job)
    for path in written:
        click.echo(str(path))


def _render_several(profiles: tuple[Path, ...], out: Path, job) -> list[Path]:
    """Render every profile in memory, then write all the files into the folder ``out``."""
    from . import api
    from .errors import ConsentgenError, ProfileError, display_path

    outputs: dict[Path, bytes] = {}
    made_by: dict[Path, Path] = {}
    for profile in profiles:
        loaded = api.load_profile(profile)           # its errors already name the file
        try:
            rendered = api.render_bytes(loaded, job)
        except ConsentgenError as exc:               # a template's or a logo's error: say which profile met it
            if isinstance(exc, ProfileError) or str(exc).startswith(display_path(profile)):
                raise
            raise type(exc)(f"{display_path(profile)}: {exc}") from None
        for (name, fmt), data in rendered.items():
            target = out / api.output_name(loaded, name, fmt)
            if target in made_by:
                raise ConsentgenError(f"{display_path(profile)}: its clinician has the same name as in "
                                      f"{display_path(made_by[target])}, so both would write {display_path(target)}")
            outputs[target], made_by[target] = data, profile
    return api.write_outputs(outputs, out)


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
@click.argument("profiles", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Findings as text for people or JSON for machines (schema: consentgen/lint/check-schema.json).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--a11y", "a11y_out", metavar="OUT", type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="Instead of profiles: check the PDF and HTML files built into OUT for accessibility "
                   "(PDF/UA-1 and WCAG 2.1 points a program can decide), each failure with its file and page.")
@_templates_option
@_template_seconds_option
def check(profiles, fmt, strict, a11y_out, template_dirs, template_seconds) -> None:
    """Check profiles: validity, what the jurisdiction requires, policy rules, readability.

    Exit 0 when clean, 1 when errors remain (with --strict, warnings too),
    2 when a profile is not valid at all. With --a11y OUT: exit 0 when every
    built file passes, 1 when one fails, 2 when OUT holds no PDF or HTML file.
    """
    if a11y_out is not None:
        if profiles:
            raise click.UsageError("give profiles to check, or --a11y OUT, not both")
        _check_a11y(a11y_out, fmt)
    if not profiles:
        raise click.UsageError("give at least one profile to check, or --a11y OUT")
    from .errors import ConsentgenError, ProfileError
    from .jurisdictions import unknown_code
    from .lint import check_context, context_for
    from .lint.readability import MISSING, available, readability_report
    from .lint.report import ProfileResult, as_json, as_text, exit_code
    from .profiles import load_profile

    if not available():
        click.echo(MISSING, err=True)
    results = []
    for path in profiles:
        result = ProfileResult(str(path))
        results.append(result)
        try:
            loaded = load_profile(path)
            note = unknown_code(loaded.profile)
            if note and fmt == "text":
                click.echo(f"{path}: note: {note}", err=True)
            ctx = context_for(loaded, tuple(template_dirs), template_seconds)   # the packet, rendered once
            result.findings = check_context(ctx)
            if fmt == "json":                 # only JSON shows the report
                result.readability = readability_report(ctx)
        except ProfileError as exc:
            result.invalid = list(exc.errors)
        except ConsentgenError as exc:        # a template of the packet does not render
            result.invalid = [str(exc)]
    if fmt == "json":
        click.echo(as_json(results, strict))
    else:
        for line, to_stderr in as_text(results, strict):
            click.echo(line, err=to_stderr)
    sys.exit(exit_code(results, strict))


def _check_a11y(out: Path, fmt: str) -> None:
    import json

    from .a11y import check_folder
    from .errors import display_path

    checked, failures = check_folder(out)
    if not checked:
        click.echo(f"error: {display_path(out)}: no PDF or HTML file to check (build into it first)", err=True)
        sys.exit(2)
    if fmt == "json":
        click.echo(json.dumps({"checked": checked, "failures": failures}, indent=2))
    else:
        for line in failures:
            click.echo(line)
        click.echo(f"checked {checked} file{'s' * (checked != 1)}: "
                   + (f"{len(failures)} accessibility failure{'s' * (len(failures) != 1)}" if failures
                      else "no accessibility failures"))
    sys.exit(1 if failures else 0)


@main.command()
@click.argument("code", required=False)
@click.option("--license", "license_type", metavar="TYPE",
              help="A license type, e.g. LMFT: show the facts for it (an unknown type gets the strictest rules).")
def packs(code, license_type) -> None:
    """List the jurisdiction packs, or every fact of one pack with its source and whether it was verified."""
    from .jurisdictions import available, load_pack, pack_facts

    with user_errors():
        if code is None:
            for c in available():
                pack = load_pack(c)
                _, facts = pack_facts(pack, None)
                verified = sum(f.source.verified for f in facts)
                types = ", ".join(t for part in pack.professions.values() for t in part.types[:1])
                click.echo(f"{c}  {pack.name:<12} {verified}/{len(facts)} facts verified  license types: {types}")
            return
        pack = load_pack(code.upper())
        if pack is None:
            from .errors import ConsentgenError

            raise ConsentgenError(f"no jurisdiction pack '{code}' (packs: {', '.join(available())})")
        profession, facts = pack_facts(pack, license_type)
        shown = profession or ("no license type given" if not license_type else
                               f"'{license_type}' is not a type this pack knows: the strictest rules apply")
        click.echo(f"{pack.code} {pack.name} ({pack.version}); {shown}")
        for f in facts:
            s = f.source
            click.echo(f"\n{f.label}: {f.value}")
            click.echo(f"  source: {s.cite}")
            if s.url:
                click.echo(f"  read: {s.url}" + (f" on {s.read.isoformat()}" if s.read else ""))
            if s.quote:
                click.echo(f"  quote: \"{s.quote}\"")
            click.echo("  verified" if s.verified else f"  NOT VERIFIED: {s.reason}")


@main.command()
def rules() -> None:
    """List the policy rules that 'check' applies, with their severity."""
    from .lint import RULES

    for r in sorted(RULES.values(), key=lambda r: r.id):
        click.echo(f"{r.id}  {r.severity:<7}  {r.summary}")


@main.command()
@click.argument("practice", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out", type=click.Path(path_type=Path, file_okay=False), default=Path("dist"),
              show_default=True, help="Output folder; manifest.json is written there.")
@click.option("--roster", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE.csv",
              help="Build a personalized packet per client (columns: client_id, clinician, "
                   "and optional client_name, date, language).")
@click.option("--format", "formats", multiple=True, type=click.Choice(FORMATS),
              help="Output format (repeatable): pdf, docx, or html (a page to read on any screen). "
                   "Default: pdf and docx.")
@click.option("--combined", is_flag=True,
              help="Also one PDF per packet holding every document in order (and, with --format html, "
                   "one HTML page).")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None,
              help="Worker processes. Default: the number of CPU cores.")
@click.option("--date", "date", callback=_date, metavar="YYYY-MM-DD",
              help="Effective date, unless a roster row or profile gives one.")
@_templates_option
@_template_seconds_option
@_a4_option
@_large_print_option
@_sources_option
@click.option("--force", is_flag=True, help="Rebuild everything, even what is unchanged.")
@click.option("--fail-fast", is_flag=True, help="Stop at the first failure.")
@click.option("-q", "--quiet", is_flag=True, help="No progress, only failures and the summary.")
@click.option("--wait", "wait", type=click.FloatRange(0, 86400), default=0, metavar="SECONDS",
              help="If another consentgen is building into OUT, wait this long for it. Default: stop at once.")
@click.option("--scheduler", metavar="ADDRESS",
              help="Render on a Dask cluster (the dask extra): its scheduler, e.g. tcp://HOST:8786, which must "
                   "answer within 10 s; or local:N for N worker processes here. This machine still writes OUT.")
def build(practice, out, roster, formats, combined, jobs, date, template_dirs, template_seconds, a4, large_print,
          sources, force, fail_fast, quiet, wait, scheduler) -> None:
    """Build every clinician's packet (or every roster client's) into one folder."""
    from .options import BuildOptions, Settings, default_jobs
    from .receipt import unchanged

    settings = Settings(formats=tuple(dict.fromkeys(formats)) or BUILD_FORMATS, combined=combined,
                        page_size="a4" if a4 else "letter", large_print=large_print,
                        template_dirs=tuple(template_dirs), sources=sources,
                        template_seconds=template_seconds)
    options = BuildOptions(settings=settings, jobs=jobs or default_jobs(), force=force,
                           fail_fast=fail_fast, effective=date, wait=wait, scheduler=scheduler)
    with user_errors():
        with _progress(quiet) as progress:
            report = unchanged(practice, out, options, roster, progress)   # before the renderer is imported
            if report is None:
                from .build import build as run_build

                report = run_build(practice, out, options, roster=roster, progress=progress, receipt_checked=True)
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    for failure in report.failures:
        click.echo(f"failed: {failure}", err=True)
    click.echo(_summary(report))
    if report.clients["stamped"]:
        click.echo(f"stamped {report.clients['stamped']} of {sum(report.clients.values())} client packets from "
                   f"one render per group; {report.clients['rendered']} drawn in full (a value too long for its "
                   "line, or in letters the stamp font lacks)")
    sys.exit(2 if report.stopped and not report.built else 1 if report.failed else 0)


class _Lines:
    """Progress as plain lines, for logs and pipes."""

    def __init__(self):
        self.done, self.total = 0, 0

    def start(self, total: int) -> None:
        self.total = total

    def step(self, key: str, status: str) -> None:
        self.done += 1
        click.echo(f"[{self.done}/{self.total}] {status} {key}", err=True)


class _Bar:
    """Progress as a bar, on a terminal."""

    def __init__(self, stack: contextlib.ExitStack):
        self.stack, self.bar = stack, None

    def start(self, total: int) -> None:
        self.bar = self.stack.enter_context(click.progressbar(
            length=total, label="building", file=sys.stderr, show_pos=True, item_show_func=lambda k: k or ""))

    def step(self, key: str, status: str) -> None:
        if self.bar is not None:
            self.bar.update(1, key)


@contextlib.contextmanager
def _progress(quiet: bool):
    """A progress bar on a terminal, plain lines otherwise, nothing with --quiet."""
    if quiet:
        yield None
    elif sys.stderr.isatty():
        with contextlib.ExitStack() as stack:
            yield _Bar(stack)
    else:
        yield _Lines()


def _count(n: int, word: str) -> str:
    """'1 packet', '2 packets', '0 packets'."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _summary(report) -> str:
    if not report.built and not report.failures and report.skipped:
        unchanged = len(report.skipped)
        return (f"nothing to do: {'all ' if unchanged > 1 else ''}{_count(unchanged, 'packet')} unchanged "
                f"({report.seconds:.1f} s)")
    stopped = f", stopped before {report.not_started} more" if report.stopped and report.not_started else ""
    return (f"built {_count(len(report.built), 'packet')} ({_count(report.files_written, 'file')}), "
            f"skipped {len(report.skipped)} unchanged, failed {len(report.failures)}{stopped}, "
            f"in {report.seconds:.1f} s")


@main.command()
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
def verify(out: Path) -> None:
    """Re-hash a build's files against its manifest.json; report changed or missing ones.

    Also names manifest entries it could not trust (ignored), packets a
    stopped build replaced after the manifest was written (rebuilt) or was
    replacing when it stopped (interrupted), and files no entry lists
    (untracked, which alone do not fail the check).
    """
    from .verify import verify as run_verify

    with user_errors():
        result = run_verify(out)
    for path in result.changed:
        click.echo(f"changed: {path}", err=True)
    for path in result.missing:
        click.echo(f"missing: {path}", err=True)
    for line in result.ignored:
        click.echo(f"ignored: {line}", err=True)
    for key in result.rebuilt:
        click.echo(f"rebuilt: {key}: by a build that stopped before writing the manifest; "
                   "'consentgen build' records it", err=True)
    for key in result.interrupted:
        click.echo(f"interrupted: {key}: a build stopped while replacing its files; "
                   "'consentgen build' puts the earlier ones back", err=True)
    for path in result.untracked:
        click.echo(f"untracked: {path}", err=True)
    bad = len(result.changed) + len(result.missing)
    match = "matches" if result.ok == 1 else "match"
    not_ok = f", {bad} {'does' if bad == 1 else 'do'} not" if bad else ""
    entries = "1 entry" if len(result.ignored) == 1 else f"{len(result.ignored)} entries"
    others = [f"{n} {t}" for v, n, t in (
        (result.ignored, entries, "ignored"), (result.rebuilt, _count(len(result.rebuilt), "packet"), "not yet in the manifest"),
        (result.interrupted, _count(len(result.interrupted), "packet"), "interrupted"),
        (result.untracked, _count(len(result.untracked), "file"), "untracked")) if v]
    click.echo(f"{_count(result.ok, 'file')} {match} the manifest{not_ok}" + "".join(f", {o}" for o in others))
    sys.exit(0 if result.passed else 1)


@main.command()
@click.argument("directory", required=False, default=Path("."),
                type=click.Path(path_type=Path, file_okay=False))
@click.option("-y", "--yes", is_flag=True, help="Ask nothing: write an example profile to edit (every name made up).")
@click.option("--force", is_flag=True, help="Replace existing files without asking.")
@click.pass_context
def init(ctx, directory: Path, yes: bool, force: bool) -> None:
    """Set up your handouts: a few plain questions, then profile files in DIRECTORY (default: here).

    Writes DIRECTORY/practice.yaml and DIRECTORY/clinicians/YOUR-NAME.yaml, each
    with notes explaining every setting, then checks them.
    """
    from . import init as wizard

    def ask(question):
        for line in question.lines():
            click.echo(line)
        if question.kind == "yes/no":
            return click.confirm(question.text, default=question.default)
        if question.kind != "text":
            kind = (click.Choice([v for v, _ in question.choices], case_sensitive=False) if question.choices
                    else click.IntRange(0, question.most))
            return click.prompt(question.text, default=question.default, type=kind)

        def convert(answer):
            try:
                return question.value(answer)
            except ValueError as exc:
                raise click.BadParameter(str(exc)) from None

        shown = question.default not in (None, "")
        return click.prompt(question.text, default=question.default, show_default=shown, value_proc=convert)

    with user_errors():
        written = wizard.run(directory, ask, click.echo, yes=yes, force=force)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"\nChecking {written[-1]}:")
    code = 0
    try:
        ctx.invoke(check, profiles=(written[-1],))
    except SystemExit as exc:
        code = exc.code
    click.echo(wizard.next_steps(directory, written[-1], example=yes))
    sys.exit(code)


def run() -> None:
    """The console script and ``python -m consentgen``: ``main``, then a quick exit.

    When a command returns, its files are written and closed and a build's
    workers are gone; what the interpreter still does on the way out (free
    every module's objects, 0.2 s after a build) changes nothing anyone can
    see. So the exit handlers run (Dask's, logging's), the streams are
    flushed, and the process ends there. With a thread still running, or a
    stream that cannot be flushed (a closed pipe), it exits the ordinary way.
    """
    try:
        main(prog_name="consentgen")
    except SystemExit as exc:
        code = exc.code
    else:                                   # main always exits; this keeps a plain return correct too
        code = 0
    if threading.active_count() > 1 or not (code is None or isinstance(code, int)):
        sys.exit(code)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)
    os._exit(code or 0)
