"""What ``trtdoc triton OUT`` wrote in OUT, and for whom: ``OUT/.trtdoc-triton.json``.

A model repository can be shared: two projects may write theirs into one OUT, and people put
their own folders there. So trtdoc removes only what the manifest says it wrote:

* ``projects``: for each project (keyed by its records folder, resolved: that folder is what
  the models are made from), the model folders it wrote. A model gone from a project's records
  is removed only if that project's entry lists it; another project's models are never
  removed, and a model name another project holds is refused.
* ``pending``: the scratch folders (model folders being assembled or replaced) of a run, each
  given a random name and recorded here *before* it is created. A killed run leaves them
  listed, and the next run removes exactly those; a folder that merely looks like one
  (``.cache.deadbeef.tmp``) is not trtdoc's and stays.

The manifest is written atomically (a temporary file renamed over it). It is read as untrusted:
a name that is not a plain model name or scratch name, a duplicate key, a wrong type, more than
:data:`MAX_ENTRIES` entries, or a file over :data:`MAX_BYTES` is one line naming the file and
the fix, and nothing is removed. A repository written before there was a manifest has none: no
model is removed as stale until a run has recorded it.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import StringConstraints, ValidationError

from trtdoc.errors import TrtdocError, display_path, os_error_message
from trtdoc.typed import decode, encode

MANIFEST_NAME = ".trtdoc-triton.json"
FORMAT = 1
MAX_BYTES = 4 * 1024 * 1024
MAX_ENTRIES = 100_000

# A Triton model name as triton.py makes them, and trtdoc's scratch names for a model.
ModelName = Annotated[str, StringConstraints(
    pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$")]
ScratchName = Annotated[str, StringConstraints(
    pattern=r"^\.[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.[0-9a-f]{16}\.tmp$")]


@dataclass(frozen=True)
class Manifest:
    """The manifest of one model repository (see the module docstring)."""

    format: int = FORMAT
    projects: dict[str, tuple[ModelName, ...]] = field(default_factory=dict)
    pending: tuple[ScratchName, ...] = ()

    def others(self, project: str) -> dict[str, str]:
        """Each model another project wrote → that project's key."""
        return {m: key for key, models in self.projects.items() if key != project
                for m in models}


def project_key(records: Path) -> str:
    """The key of the project whose records are in ``records``."""
    return os.path.realpath(records)


def manifest_path(repository: Path) -> Path:
    return repository / MANIFEST_NAME


def read_manifest(repository: Path) -> Manifest:
    """The manifest in ``repository`` (an empty one if there is none yet); a
    :class:`TrtdocError` naming the file if it cannot be trusted."""
    path = manifest_path(repository)
    shown = display_path(path)
    fix = ("trtdoc removes nothing until it is fixed: restore it from a backup, or delete it "
           "(trtdoc then removes no old model until it has written them again)")
    try:
        if not os.path.lexists(path):
            return Manifest()
        if path.is_symlink() or not path.is_file():
            raise TrtdocError(f"{shown}: not a regular file; {fix}")
        if path.stat().st_size > MAX_BYTES:
            raise TrtdocError(f"{shown}: larger than {MAX_BYTES // 2**20} MiB, so not trtdoc's "
                              f"manifest; {fix}")
        text = path.read_bytes()
    except OSError as exc:
        raise TrtdocError(os_error_message(exc, path, "read")) from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not a format-{FORMAT} trtdoc Triton manifest")
        projects = data.get("projects")
        if isinstance(projects, dict) and (
                len(projects) > MAX_ENTRIES
                or sum(len(v) for v in projects.values() if isinstance(v, list)) > MAX_ENTRIES):
            raise ValueError(f"more than {MAX_ENTRIES} entries")
        manifest = decode(Manifest, data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise TrtdocError(f"{shown}: {where}: {first['msg'][:100]}; {fix}") from None
    except (ValueError, RecursionError) as exc:
        raise TrtdocError(f"{shown}: {str(exc)[:100]}; {fix}") from None
    return manifest


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key[:60]!r} is given twice")
        out[key] = value
    return out


def write_manifest(repository: Path, manifest: Manifest) -> None:
    """Replace the manifest atomically (sorted keys: a stable file to look at)."""
    from trtdoc.record.files import write_atomic

    data = encode(manifest)
    data["projects"] = {k: sorted(set(v)) for k, v in sorted(data["projects"].items())}
    write_atomic(manifest_path(repository), json.dumps(data, indent=1) + "\n")


def scratch_name(model: str) -> str:
    """A fresh random scratch name for ``model`` (recorded in ``pending`` before use)."""
    return f".{model}.{secrets.token_hex(8)}.tmp"


def with_pending(manifest: Manifest, names: list[str]) -> Manifest:
    return replace(manifest, pending=(*manifest.pending, *names))


def with_models(manifest: Manifest, project: str, models: set[str]) -> Manifest:
    """``manifest`` with ``project``'s models set to ``models`` and no scratch pending."""
    projects = {k: v for k, v in manifest.projects.items() if k != project}
    if models:
        projects[project] = tuple(sorted(models))
    return replace(manifest, projects=projects, pending=())
