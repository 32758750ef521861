"""``trtdoc init``: a working project in a new or existing folder, from the files in
``trtdoc/scaffold/`` (shipped in the wheel). Nothing is ever overwritten: a file that exists
is left as it is and reported, and ``.gitignore`` only gets the lines it lacks.

What a project needs, and why each file is here:

- ``trtdoc.yml``: the paths, so every command runs without arguments;
- ``specs/example.yaml``: a commented example spec (every line a comment, so it is skipped
  until it is filled in, and ``trtdoc build`` works before the team has a model);
- ``mkdocs.yml`` and the site's home and tags pages: everything the generated pages need
  (``md_in_html``, ``attr_list``, the Mermaid fence, ``tags``, the stylesheet...);
- ``package.json``: Mermaid from npm, which ``trtdoc render`` copies into the site;
- ``.gitignore`` entries, ``.pre-commit-config.yaml`` (trtdoc's hooks) and a GitHub Actions
  workflow that runs the gates and publishes the site to GitHub Pages;
- ``schema/``: the JSON Schemas the ``$schema`` lines of those files name
  (``trtdoc schema --write`` refreshes them).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from trtdoc import __version__
from trtdoc.errors import TrtdocError, display_path, os_error_message

SCAFFOLD = Path(__file__).resolve().parent / "scaffold"
SCHEMA_DIR = "schema"  # in the project: what the $schema lines of the files below name
GITIGNORE = ".gitignore"

# (file in trtdoc/scaffold, where it goes in the project). The scaffold's names avoid dot
# files (a .gitignore there would be read by git and by the wheel builder).
FILES: tuple[tuple[str, str], ...] = (
    ("trtdoc.yml", "trtdoc.yml"),
    ("mkdocs.yml", "mkdocs.yml"),
    ("example.yaml", "specs/example.yaml"),
    ("index.md", "site/index.md"),
    ("tags.md", "site/tags.md"),
    ("package.json", "package.json"),
    ("pre-commit-config.yaml", ".pre-commit-config.yaml"),
    ("workflow.yml", ".github/workflows/trtdoc.yml"),
    ("gitkeep", "records/.gitkeep"),
)


@dataclass(frozen=True)
class InitResult:
    """What :func:`init_project` did, each path relative to the project folder."""

    written: tuple[str, ...]
    left: tuple[str, ...]  # there already: not touched
    appended: tuple[tuple[str, tuple[str, ...]], ...]  # (file, the lines added to it)


def scaffold_text(name: str, folder: Path) -> str:
    """A scaffold file as it is written into ``folder``: the site named after the folder, the
    workflow pinned to this trtdoc."""
    text = (SCAFFOLD / name).read_text(encoding="utf-8")
    # A JSON string is a YAML double-quoted scalar: any folder name reads back as written.
    site_name = json.dumps(f"{folder.name or 'TensorRT'} engines", ensure_ascii=False)
    return (text.replace("__SITE_NAME__", site_name)
            .replace("__TRTDOC_VERSION__", __version__))


def init_project(folder: Path) -> InitResult:
    """Write the files of a trtdoc project into ``folder`` (made if missing), never replacing
    one; :class:`TrtdocError` if ``folder`` is not a folder or cannot be written."""
    if folder.exists() and not folder.is_dir():
        raise TrtdocError(f"{display_path(folder)}: is a file, not a folder; name a new or "
                          "existing folder for the project")
    folder = Path(os.path.abspath(folder))
    from trtdoc.schemas import KINDS, schema_file_name, schema_text

    planned = [(target, scaffold_text(name, folder)) for name, target in FILES]
    planned += [(f"{SCHEMA_DIR}/{schema_file_name(kind)}", schema_text(kind)) for kind in KINDS]
    written: list[str] = []
    left: list[str] = []
    try:
        for target, text in planned:
            (written if _write_new(folder / target, text) else left).append(target)
        added = _append_missing(folder / GITIGNORE, scaffold_text("gitignore", folder))
    except OSError as exc:
        raise TrtdocError(f"{os_error_message(exc, folder)}; the files written so far are "
                          "kept, and `trtdoc init` again writes the rest") from None
    appended: list[tuple[str, tuple[str, ...]]] = []
    if added is None:
        written.append(GITIGNORE)
    elif added:
        appended.append((GITIGNORE, tuple(added)))
    else:
        left.append(GITIGNORE)
    return InitResult(tuple(written), tuple(left), tuple(appended))


def _write_new(path: Path, text: str) -> bool:
    """Write ``path`` if nothing is there (an exclusive create, so a file that appears
    meanwhile is not replaced either); False if something is."""
    if os.path.lexists(path):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8", newline="\n") as f:
            f.write(text)
    except FileExistsError:
        return False
    return True


def _append_missing(path: Path, text: str) -> list[str] | None:
    """Append to ``path`` the lines of ``text`` it lacks (comments only with a line they
    explain); None if ``path`` was new and got all of ``text``."""
    if _write_new(path, text):
        return None
    # git reads .gitignore as bytes: a line in another encoding is the team's, not an error.
    have = {line.strip().decode("utf-8", "surrogateescape")
            for line in path.read_bytes().splitlines()}
    lines = text.splitlines()
    missing = [line for line in lines if line and not line.startswith("#")
               and line.strip() not in have]
    if not missing:
        return []
    block, comment = [], None
    for line in lines:  # each missing line with the comment above it
        if line.startswith("#"):
            comment = line
        elif line in missing:
            if comment is not None:
                block.append(comment)
                comment = None
            block.append(line)
    with open(path, "a+", encoding="utf-8", newline="\n") as f:
        f.seek(0, os.SEEK_END)
        ends_open = f.tell() > 0 and not path.read_bytes().endswith(b"\n")
        f.write(("\n" if ends_open else "") + "\n".join(block) + "\n")
    return missing
