"""Loading spec files: find them, merge ``_defaults.yaml`` files in, expand variants, validate
and freeze; every problem is collected, and one bad file never stops the rest.
"""

from __future__ import annotations

import difflib
import itertools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trtdoc.errors import SpecError, SpecErrors, display_path
from trtdoc.spec.error_lines import located_errors
from trtdoc.spec.files import file_error, is_symlink_loop
from trtdoc.spec.freeze import engine_spec_from_model
from trtdoc.spec.limits import EXCERPT_CHARS
from trtdoc.spec.locations import KeyPath, Location, Locator, sort_errors
from trtdoc.spec.schema import KEYS_AT, SpecModel
from trtdoc.spec.text import shown_path
from trtdoc.spec.types import EngineSpec
from trtdoc.spec.variants import expand_variants
from trtdoc.spec.yaml_source import Document, read_yaml_document

DEFAULTS_FILE = "_defaults.yaml"
SPEC_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class LoadedSpec:
    """A frozen spec together with where each of its values was written."""

    spec: EngineSpec
    locator: Locator
    duplicate: bool = False  # another spec has the same name; only ``check`` keeps these


def find_spec_files(paths: Iterable[Path]) -> list[Path]:
    """Spec files named by ``paths`` (files, or folders searched recursively), sorted.

    The walk does not follow symlinked folders, so a link to ``..`` cannot loop it. A
    ``*.yaml`` entry that is not a plain file (a symlink loop, a FIFO) is kept, so that
    reading it reports it.
    """
    found: set[Path] = set()
    for p in paths:
        if p.is_dir():
            for top, dirs, files in os.walk(p, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in files:
                    if name.endswith(SPEC_SUFFIXES) and not name.startswith((".", "_")):
                        found.add(Path(top) / name)
        else:
            found.add(p)
    return sorted(found)


def _defaults_chain(spec_file: Path, roots: Sequence[Path]) -> list[Path]:
    """``_defaults.yaml`` files from the outermost folder down to the spec's own folder.

    The chain climbs to the working directory when the spec lies below it, so a spec builds
    the same whether ``specs/``, ``specs/vision`` or the file itself is passed. Outside the
    working directory it climbs only to the folder that was passed.
    """
    folder = Path(os.path.realpath(spec_file)).parent  # never raises on a symlink loop
    cwd = Path.cwd().resolve()
    if folder.is_relative_to(cwd):
        stop = cwd
    else:
        stop = next((r.resolve() for r in roots if r.is_dir()
                     and folder.is_relative_to(r.resolve())), folder)
    chain = []
    while True:
        candidate = folder / DEFAULTS_FILE
        if candidate.is_file():
            chain.append(candidate)
        if folder == stop or folder.parent == folder:
            break
        folder = folder.parent
    return list(reversed(chain))


def load_specs(paths: Iterable[Path | str], *, keep_duplicates: bool = False
               ) -> tuple[list[LoadedSpec], list[SpecError]]:
    """Load every spec under ``paths``. Returns the good specs and every problem found.

    Specs with problems are left out; the others are still returned, so one bad file never
    stops the rest. A spec whose name is taken is left out too, unless ``keep_duplicates``:
    then it is returned with ``duplicate=True``, so that its other problems can be reported.
    """
    roots = [Path(p) for p in paths]
    errors: list[SpecError] = []
    for r in roots:
        if is_symlink_loop(r):
            errors.append(file_error(r, "is a symlink loop", "point the symlink at a real file"))
        elif not r.exists():
            errors.append(SpecError("no such file or folder", path=r,
                                    hint="pass a spec file or a folder of *.yaml specs"))
    files = find_spec_files(r for r in roots if r.exists())
    if not files and not errors:
        errors.append(SpecError("no spec files found", path=roots[0] if roots else Path("."),
                                hint="add a *.yaml spec (files starting with '_' are skipped)"))
    defaults_cache: dict[Path, Document | None] = {}
    loaded: list[LoadedSpec] = []
    names: list[tuple[str, Locator, tuple[tuple[str, Any], ...]]] = []
    for f in files:
        loaded.extend(_load_one(f, roots, defaults_cache, errors, names))
    dups, dup_errors = _duplicate_names(names)
    errors.extend(dup_errors)
    if keep_duplicates:
        loaded = [replace(s, duplicate=True) if s.spec.name in dups else s for s in loaded]
    else:
        loaded = [s for s in loaded if s.spec.name not in dups]
    return loaded, sort_errors(errors)


def _load_one(path: Path, roots: Sequence[Path], cache: dict[Path, Document | None],
              errors: list[SpecError],
              names: list[tuple[str, Locator, tuple[tuple[str, Any], ...]]]) -> list[LoadedSpec]:
    file_errors: list[SpecError] = []
    doc: Document | None = None
    for d in _defaults_chain(path, roots):
        if d not in cache:
            derr: list[SpecError] = []
            defaults = read_yaml_document(d, derr, looks_like=_spec_like)
            if defaults is not None and "name" in defaults.data:
                derr.append(defaults.locator.error(
                    ("name",), "a defaults file cannot set the name",
                    "set `name` in each spec file", at_key=True))
                defaults = None
            cache[d] = defaults
            errors.extend(derr)  # reported once, however many specs share the file
        cached = cache[d]
        if cached is None:
            return []
        doc = cached if doc is None else _merge(doc, cached)
    own = read_yaml_document(path, file_errors, looks_like=_spec_like)
    if own is None:
        errors.extend(file_errors)
        return []
    if not own.data and not file_errors and is_commented_out(path):
        return []
    doc = own if doc is None else _merge(doc, own)
    out: list[LoadedSpec] = []
    for vdoc in expand_variants(doc, file_errors):
        data = dict(vdoc.data)
        variant = data.pop("__variant__", ())
        if isinstance(data.get("name"), str):
            names.append((data["name"], vdoc.locator, variant))
        try:
            parsed = SpecModel.model_validate(data)
        except ValidationError as exc:
            file_errors.extend(located_errors(exc, vdoc, KEYS_AT))
            continue
        out.append(LoadedSpec(engine_spec_from_model(parsed, path, variant), vdoc.locator))
    errors.extend(file_errors)
    return out if not file_errors else []


def is_commented_out(path: Path) -> bool:
    """Whether every line of the file is blank or a comment, and one is a comment: a spec not
    written yet (``trtdoc init``'s commented example), skipped rather than reported. An empty
    file is still reported: it is more often a write that went wrong."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeError):
        return False
    stripped = [line.strip() for line in lines]
    return any(stripped) and all(not s or s.startswith("#") for s in stripped)


def _duplicate_names(names: list[tuple[str, Locator, tuple[tuple[str, Any], ...]]]
                     ) -> tuple[set[str], list[SpecError]]:
    # Keyed by the lower-case name: engines/Tiny.md and engines/tiny.md are one file on
    # macOS and Windows file systems, and so are the records.
    first: dict[str, tuple[str, Locator, tuple[tuple[str, Any], ...]]] = {}
    errors: list[SpecError] = []
    dups: set[str] = set()
    for name, locator, variant in names:
        folded = name.casefold()
        if folded in first and first[folded][0] != name:
            other_name, other_locator, other_variant = first[folded]
            other = other_locator.find(("name",))
            errors.append(locator.error(
                ("name",), f"name '{name}'{_variant_words(variant)} differs only in case from "
                f"'{other_name}' in {shown_path(other.path)}:{other.line}"
                f"{_variant_words(other_variant)}; their pages and records would be one file "
                "on case-insensitive file systems (macOS, Windows)",
                "rename one of them (names are page slugs and file names)"))
            dups.update((name, other_name))
        elif folded in first:
            _, other_locator, other_variant = first[folded]
            other = other_locator.find(("name",))
            errors.append(locator.error(
                ("name",), f"name '{name}'{_variant_words(variant)} is already used by "
                f"{display_path(other.path)}:{other.line}{_variant_words(other_variant)}",
                "give every engine a unique name (it is the page slug; a variant's name is "
                "the name plus each varied value)" if variant or other_variant else
                "give every engine a unique name (it is the page slug)"))
            dups.add(name)
        else:
            first[folded] = (name, locator, variant)
    return dups, errors


def _variant_words(variant: tuple[tuple[str, Any], ...]) -> str:
    """`` (variant precision=fp16)``: which expansion of a spec made a name."""
    if not variant:
        return ""
    return " (variant " + ", ".join(f"{k}={v}" for k, v in variant) + ")"


def load_specs_or_raise(paths: Iterable[Path | str]) -> list[LoadedSpec]:
    """Like :func:`load_specs`, but raises :class:`SpecErrors` if anything is wrong."""
    loaded, errors = load_specs(paths)
    if errors:
        raise SpecErrors(errors)
    return loaded


def _spec_like(data: dict[Any, Any]) -> bool:
    """Whether a top-level key is, or is a typo of, a spec key. Only the first 200 keys are
    compared for typos: the file may hold 200 000 of them."""
    if any(k in KEYS_AT[""] for k in data if isinstance(k, str)):
        return True
    return any(isinstance(k, str) and len(k) <= EXCERPT_CHARS
               and difflib.get_close_matches(k, KEYS_AT[""], n=1, cutoff=0.75)
               for k in itertools.islice(data, 200))


def _merge(base: Document, over: Document) -> Document:
    """Deep-merge ``over`` onto ``base``: mappings merge, everything else is replaced."""

    replaced: list[KeyPath] = []

    def merge(a: Any, b: Any, path: KeyPath) -> Any:
        if isinstance(a, dict) and isinstance(b, dict):
            out = dict(a)
            for k, v in b.items():
                if k in a:
                    out[k] = merge(a[k], v, (*path, k))
                else:
                    out[k] = v
                    replaced.append((*path, k))
            return out
        replaced.append(path)
        return b

    data = merge(base.data, over.data, ())
    values = dict(base.locator.values)
    keys = dict(base.locator.keys)
    # Positions of a replaced subtree come wholly from the file that replaced it; inside merged
    # mappings, the keys that only ``base`` sets keep pointing at ``base``'s file.
    for table, source in ((values, over.locator.values), (keys, over.locator.keys)):
        for path in replaced:
            for old in [p for p in table if p[: len(path)] == path]:
                del table[old]
        table.update(source)
    values[()] = over.locator.values.get((), Location(over.locator.default, 1, 1))
    return Document(data, Locator(over.locator.default, values, keys))
