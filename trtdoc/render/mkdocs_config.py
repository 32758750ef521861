"""Whether a mkdocs.yml can show the pages trtdoc writes: one located line per missing piece.

``mkdocs build --strict`` passes with a mkdocs.yml that lacks ``md_in_html`` or the Mermaid
fence, and the site then shows raw ``| … |`` text and Mermaid source. :func:`mkdocs_problems`
names each Markdown extension, plugin, folder and stylesheet the pages need that the file
lacks, at the line where it belongs, with the YAML to add.

mkdocs.yml is untrusted input and uses tags (``!!python/name:``, ``!ENV``) that a safe
loader refuses: it is read like a spec (``read_yaml_document``: size, depth and alias limits,
positions), with a loader that keeps every tag it does not know as a :class:`Tagged` value and
never imports or calls anything.

``tables`` is not checked: mkdocs and Zensical always enable it, whatever the file says.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from trtdoc.errors import SpecError
from trtdoc.render.layer_table import ENGINES_DIR
from trtdoc.spec.locations import KeyPath, Locator
from trtdoc.spec.yaml_source import read_yaml_document

STYLESHEET = "assets/stylesheets/trtdoc.css"
MERMAID_FORMAT = "pymdownx.superfences.fence_code_format"
_MERMAID_FENCE = ("{name: mermaid, class: mermaid, format: !!python/name:" + MERMAID_FORMAT
                  + " }")
NOT_MKDOCS = ("not a mkdocs configuration (the top level must be a mapping of site_name, "
              "docs_dir, markdown_extensions, ...); nothing from it was checked")

# (extension, names that enable it, what the pages lose without it). Python-Markdown takes
# the short and the dotted name; `extra` and `pymdownx.extra` bundle several.
_EXTRA = ("extra", "markdown.extensions.extra", "pymdownx.extra")
EXTENSIONS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("admonition", ("admonition", "markdown.extensions.admonition"),
     "the pages' notes (`!!! failure`, `!!! warning`) show as plain paragraphs"),
    ("attr_list", ("attr_list", "markdown.extensions.attr_list", *_EXTRA),
     "mkdocs-material's attribute lists on the pages are not applied"),
    ("md_in_html", ("md_in_html", "markdown.extensions.md_in_html", *_EXTRA),
     "the architecture matrix (a <div markdown> block) shows as raw | … | text"),
    ("pymdownx.details", ("pymdownx.details",),
     "the collapsible sections (`???`: layers, operators, builder warnings) show as plain "
     "paragraphs"),
)


@dataclass(frozen=True)
class Tagged:
    """A value under a tag the safe loader does not know (``!ENV``, ``!!python/name:``):
    kept as data, never resolved."""

    tag: str
    value: str | None


class _TolerantLoader(yaml.SafeLoader):
    """The safe loader, except that an unknown tag gives a :class:`Tagged` instead of an
    error. Only scalars are kept: a tagged list or mapping (``!!python/object/apply``) is
    never constructed."""


def _tagged(loader: yaml.SafeLoader, node: yaml.Node) -> Tagged:
    return Tagged(str(node.tag), node.value if isinstance(node, yaml.ScalarNode) else None)


_TolerantLoader.add_constructor(None, _tagged)  # type: ignore[arg-type]  # None: any tag


def pages_carry_tags(site: Path) -> bool:
    """Whether any engine page in ``site`` lists tags in its front matter (the ``tags``
    plugin then has something to show)."""
    folder = site / ENGINES_DIR
    for page in sorted(folder.glob("*.md")) if folder.is_dir() else ():
        try:  # never blocks: a page symlinked to a FIFO is skipped, not opened for reading
            fd = os.open(page, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    continue
                head = f.read(8192).decode("utf-8", errors="replace")
        except OSError:
            continue
        if not head.startswith("---\n"):
            continue
        front = head[4:].split("\n---", 1)[0]
        if any(line.startswith("tags:") and line[5:].strip() not in ("", "[]")
               for line in front.splitlines()):
            return True
    return False


def mkdocs_problems(path: Path, *, site: Path, needs_tags: bool) -> list[SpecError]:
    """Every piece the pages need that the mkdocs.yml at ``path`` lacks, one located line
    each (or the one line saying why the file cannot be read), in line order. ``site`` is the
    folder trtdoc writes the pages to; ``needs_tags`` says whether they carry tags."""
    errors: list[SpecError] = []
    doc = read_yaml_document(path, errors, looks_like=lambda data: True, not_this=NOT_MKDOCS,
                             kind="mkdocs.yml", loader=_TolerantLoader)
    if doc is None:
        return errors
    if "INHERIT" in doc.data:
        return errors  # the pieces may come from the parent file: mkdocs merges them
    check = _Check(path, doc.data, doc.locator, doc.last_line)
    check.extensions()
    check.mermaid_fence()
    check.absent_extensions()
    if needs_tags:
        check.tags_plugin()
    check.docs_dir(site)
    check.stylesheet()
    return sorted(errors + check.errors, key=lambda e: e.line or 0)


def _names(value: Any) -> dict[str, tuple[Any, KeyPath]]:
    """A list (``- name`` or ``- name: {config}``) or a mapping of extensions or plugins, as
    name → (its configuration, where it is written below the key)."""
    out: dict[str, tuple[Any, KeyPath]] = {}
    if isinstance(value, dict):
        for name, config in value.items():
            if isinstance(name, str):
                out.setdefault(name, (config, (name,)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, str):
                out.setdefault(item, (None, (i,)))
            elif isinstance(item, dict) and len(item) == 1:
                name, config = next(iter(item.items()))
                if isinstance(name, str):
                    out.setdefault(name, (config, (i, name)))
    return out


class _Check:
    """The checks of one mkdocs.yml, collecting a line per problem in ``errors``."""

    def __init__(self, path: Path, data: dict[Any, Any], locator: Locator,
                 last_line: int) -> None:
        self.path, self.data, self.locator, self.last_line = path, data, locator, last_line
        self.errors: list[SpecError] = []
        # Without a markdown_extensions key, every missing extension's hint adds the same one
        # key with all of them: a hint per extension would each add the key, a duplicate.
        self.absent: list[tuple[str, str, str]] = []  # (name, loss, entry)

    def problem(self, key: str, message: str, hint: str, at: KeyPath | None = None) -> None:
        """A line at ``at`` (a key path), else at the top-level ``key``, else (the key is
        missing) at the file's last line, where it would be added."""
        at = at if at is not None else (key,)
        line, col = self.last_line, 1
        if at in self.locator.keys or at in self.locator.values:
            loc = self.locator.find(at, at_key=True)
            line, col = loc.line or line, loc.col or col
        self.errors.append(SpecError(message, path=self.path, line=line, col=col, key=key,
                                     hint=hint))

    def extensions(self) -> None:
        value = self.data.get("markdown_extensions")
        if isinstance(value, Tagged):
            return  # `!ENV` or the like: not known until mkdocs runs
        listed = _names(value)
        for name, enabled_by, loss in EXTENSIONS:
            if not any(n in listed for n in enabled_by):
                self._missing_extension(name, loss, f"- {name}")

    def _missing_extension(self, name: str, loss: str, entry: str) -> None:
        if "markdown_extensions" in self.data:
            self.problem("markdown_extensions", f"{name} is not enabled: {loss}",
                         f"add `{entry}` under markdown_extensions:")
        else:
            self.absent.append((name, loss, entry))

    def absent_extensions(self) -> None:
        """The extensions missing for want of the key, each with the one key that adds all."""
        key = f"markdown_extensions: [{', '.join(entry[2:] for _, _, entry in self.absent)}]"
        for name, loss, _ in self.absent:
            self.problem("markdown_extensions", f"{name} is not enabled: {loss}",
                         f"add `{key}`" + (f" (one key for all {len(self.absent)})"
                                           if len(self.absent) > 1 else ""))

    def mermaid_fence(self) -> None:
        value = self.data.get("markdown_extensions")
        if isinstance(value, Tagged):
            return
        listed = _names(value)
        loss = "every diagram shows as Mermaid source"
        if "pymdownx.superfences" in listed:
            config, where = listed["pymdownx.superfences"]
        elif "pymdownx.extra" in listed:  # configured as pymdownx.extra's own option
            config, where = listed["pymdownx.extra"]
            config = config.get("pymdownx.superfences") if isinstance(config, dict) else None
        else:
            self._missing_extension(
                "pymdownx.superfences with the Mermaid fence", loss,
                f"- pymdownx.superfences: {{custom_fences: [{_MERMAID_FENCE}]}}")
            return
        at: KeyPath = ("markdown_extensions", *where)
        fences = config.get("custom_fences") if isinstance(config, dict) else None
        if isinstance(config, Tagged) or isinstance(fences, Tagged):
            return
        mermaid = [(i, f) for i, f in enumerate(fences if isinstance(fences, list) else ())
                   if isinstance(f, dict) and f.get("name") == "mermaid"]
        if not mermaid:
            self.problem("markdown_extensions", "pymdownx.superfences has no Mermaid fence: "
                         + loss, f"add `{_MERMAID_FENCE}` to its custom_fences", at)
            return
        i, fence = mermaid[0]
        form = fence.get("format")
        if fence.get("class") != "mermaid" or not (
                isinstance(form, Tagged) and form.tag.endswith(":python/name:" + MERMAID_FORMAT)):
            self.problem("markdown_extensions", "the Mermaid fence of pymdownx.superfences "
                         "needs class mermaid and format " + MERMAID_FORMAT + " (the code "
                         "block mkdocs-material turns into a diagram): " + loss,
                         f"write it as `{_MERMAID_FENCE}`", (*at, "custom_fences", i))

    def tags_plugin(self) -> None:
        value = self.data.get("plugins")
        if isinstance(value, Tagged):
            return
        listed = _names(value)
        found = [config for name, (config, _) in listed.items()
                 if name in ("tags", "material/tags")]
        if found and not any(isinstance(c, dict) and c.get("enabled") is False for c in found):
            return
        loss = ("the tags plugin is not enabled: the engine pages carry tags, which the site "
                "drops, and the tags page lists nothing")
        if found:
            self.problem("plugins", loss, "remove `enabled: false` from tags")
        elif "plugins" in self.data:
            self.problem("plugins", loss, "add `- tags` under plugins:")
        else:  # mkdocs' default is [search]; naming plugins replaces it
            self.problem("plugins", loss, "add `plugins: [search, tags]`")

    def docs_dir(self, site: Path) -> None:
        value = self.data.get("docs_dir", "docs")
        if isinstance(value, Tagged) or not isinstance(value, str):
            return  # not known until mkdocs runs; a wrong type is mkdocs' own error
        base = Path(os.path.abspath(self.path)).parent
        if os.path.realpath(base / value) == os.path.realpath(site):
            return
        want = Path(os.path.relpath(os.path.abspath(site), base)).as_posix()
        given = (f"{value}, but" if "docs_dir" in self.data
                 else "not set, so mkdocs reads docs, but")
        self.problem("docs_dir", f"{given} trtdoc writes the pages to {want}: mkdocs would not "
                     "show them",
                     f"{'set' if 'docs_dir' in self.data else 'add'} `docs_dir: {want}`")

    def stylesheet(self) -> None:
        value = self.data.get("extra_css")
        if isinstance(value, Tagged):
            return
        listed = value if isinstance(value, list) else []
        if any(isinstance(css, str) and os.path.normpath(css) == STYLESHEET for css in listed):
            return
        hint = (f"add `- {STYLESHEET}` under extra_css:" if "extra_css" in self.data
                else f"add `extra_css: [{STYLESHEET}]`")
        self.problem("extra_css", f"the stylesheet {STYLESHEET} is not in extra_css: wide "
                     "tables and long names on the pages are not laid out to be read", hint)
