"""Before a PDF is drawn: a font for every character, or an error that names the field.

The PDF backend itself can only say which document has text it cannot draw.
Here, with the profile and the job at hand, the error names where that text
came from: the client's name (by client id, never the name), or a profile value
as ``file:line: key``. It names the scripts and the package to install, never
the characters, which may be a client's name.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from pydantic import BaseModel

from ..document import text_units
from ..errors import BackendError
from ..yamlsafe import dotted
from . import fonts

if TYPE_CHECKING:
    from ..compose import Job
    from ..document import Document
    from ..profiles import LoadedProfile

NO_FONT = "has characters no installed font covers"


def check_fonts(loaded: LoadedProfile, job: Job, docs: dict[str, Document]) -> None:
    """Raise BackendError naming the field whose text no installed font can draw, if any does.

    Only text the documents really print counts: a value no template shows is
    never refused. Text that no field holds (a template's own words) is left to
    the backend's error, which names the document.
    """
    texts = [loaded.profile.practice.name]
    for doc in docs.values():
        texts += [doc.title, *text_units(doc.blocks), *(f.label for f in doc.fields)]
    gone = set(fonts.missing(fonts.prepare(t) for t in texts))
    if not gone:
        return
    if job.client_name and (hit := gone & set(fonts.prepare(job.client_name))):
        who = f"client {job.client_id}: name" if job.client_id else "--client-name"
        raise BackendError(f"{who}: {NO_FONT} {fonts.advice(hit)}")
    for path, value in _strings(loaded.profile, ()):
        if hit := gone & set(fonts.prepare(value)):
            where = loaded.where(path)
            raise BackendError(f"{where}: {dotted(path)}: {NO_FONT} {fonts.advice(hit)}")


def _strings(value: Any, path: tuple) -> Iterator[tuple[tuple, str]]:
    """Every string in a profile, with its key path, in the order of the schema."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _strings(getattr(value, name), (*path, name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _strings(item, (*path, i))
