"""Hostile and wrong-typed values in every field of a record: pages stay escaped and render.

The record decoder rejects wrong types, but the renderer must not rely on it: these records
are built around the decoder (fields set directly on copies of real records), as a
hand-edited record, an older trtdoc or a bug elsewhere could make them. The fields are found
generically (``sitetools.field_paths``: dataclass fields recursively, mapping values and
keys, sequence items), so a field added later is covered without editing this file.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

import pytest
from sitetools import (
    PAYLOAD,
    WRONG_TYPES,
    active_html,
    decodable,
    decoded,
    decoded_gate,
    field_paths,
    hostile_cases,
    hostile_site,
    markdown_active_html,
    mkdocs_build,
    renamed_key,
    render_hostile,
    substituted,
)

from trtdoc.errors import RenderError

CASES = hostile_cases()


def _label(path: tuple[tuple[str, object], ...]) -> str:
    return ".".join(str(key) for _, key in path)


def _root(case: tuple[str, object, object, object]) -> dict[str, object]:
    _, record, previous, gate = case
    return {"record": record, "previous": previous, "gate": gate}


def _render(root: Mapping[str, object], tmp: Path) -> dict[Path, bytes] | None:
    """The pages of the records as a record file gives them back; None where the decoder
    refuses one (no page can show it)."""
    record, previous = decoded(root["record"]), decoded(root["previous"])
    gate = decoded_gate(root["gate"])
    if record is None or previous is None or (gate is None and root["gate"] is not None):
        return None
    return render_hostile(record, previous, gate, tmp / "site")


def _render_as_is(root: Mapping[str, object], tmp: Path) -> dict[Path, bytes]:
    """The pages of the records as they are, around the decoder."""
    return render_hostile(root["record"], root["previous"], root["gate"], tmp / "site")


def _structural(root: object, path: tuple[tuple[str, object], ...]) -> bool:
    """A field that holds a whole object (a section, a layer): replacing it breaks the
    record's shape, not just a value; a one-line RenderError is the accepted outcome."""
    value: object = root
    for kind, key in path:
        value = getattr(value, str(key)) if kind == "attr" else value[key]  # type: ignore[index]
    return dataclasses.is_dataclass(value)


def _check_pages(pages: dict[Path, bytes], where: str) -> None:
    for page, data in pages.items():
        found = markdown_active_html(data.decode("utf-8"))
        assert not found, f"{where}: {page.name} lets HTML through: {found[:3]}"


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_the_payload_in_each_field_in_turn_comes_out_escaped(case, tmp_path: Path) -> None:
    root = _root(case)
    paths = field_paths(root, per_sequence=1)
    assert len(paths) > 150, "the walk found too few fields"
    for path, _ in paths:
        if len(path) < 2:
            continue  # the record itself, not a field of it
        try:
            pages = _render(substituted(root, path, PAYLOAD), tmp_path)
        except RenderError:
            assert _structural(root, path), _label(path)
            continue
        if pages is not None:  # None: no record file holds text there
            _check_pages(pages, _label(path))
    # Mapping keys reach pages too (precision and accuracy facts are listed by key): every
    # key of one mapping renamed at once, one render per mapping.
    keyed: dict[tuple[tuple[str, object], ...], list[tuple[tuple[str, object], ...]]] = {}
    for path, _ in paths:
        if len(path) >= 2 and path[-1][0] == "item" and isinstance(path[-1][1], str):
            keyed.setdefault(path[:-1], []).append(path)
    for parent, children in keyed.items():
        changed: object = root
        for i, path in enumerate(children):
            changed = renamed_key(changed, path, f"{PAYLOAD} {i}")
        pages = _render(changed, tmp_path)  # type: ignore[arg-type]
        if pages is not None:
            _check_pages(pages, f"keys of {_label(parent)}")


def _groups(root: object, full: bool) -> list[list[tuple[tuple[str, object], ...]]]:
    """Paths to substitute together: each field alone (``TRTDOC_HOSTILE_FULL=1``, ~2 min), or
    by default all the leaf fields of one object at once (one render per object)."""
    paths = [p for p, leaf in field_paths(root, per_sequence=1) if len(p) >= 2
             and (leaf or full or not _structural(root, p))]
    if full:
        return [[p] for p in paths]
    groups: dict[tuple[tuple[str, object], ...], list[tuple[tuple[str, object], ...]]] = {}
    for p in paths:
        groups.setdefault(p[:-1], []).append(p)
    return list(groups.values())


FULL = bool(os.environ.get("TRTDOC_HOSTILE_FULL"))
# The payload string itself has its own test above; inf, True and -1 only in the full run.
QUICK_WRONG_TYPES = (None, 10**400, 10**5000, float("nan"), [PAYLOAD, 1], {"k": PAYLOAD})


@pytest.mark.parametrize("value", WRONG_TYPES if FULL else QUICK_WRONG_TYPES,
                         ids=lambda v: type(v).__name__ + (str(v)[:8] if isinstance(
                             v, (int, float)) and not isinstance(v, bool) and abs(v) < 10**9
                             else ""))
def test_a_wrong_typed_value_in_any_field_never_breaks_the_render(value, tmp_path) -> None:
    full = FULL
    failures = []
    for case in CASES:
        root = _root(case)
        for group in _groups(root, full):
            # Only where a record file can hold the value: elsewhere the decoder refuses it.
            group = [p for p in group if decodable(root, p, value)]
            if not group:
                continue
            changed: object = root
            for path in group:
                changed = substituted(changed, path, value)
            where = f"{case[0]} {' '.join(_label(p) for p in group)}"[:200]
            try:
                pages = _render(changed, tmp_path)  # type: ignore[arg-type]
            except RenderError as exc:
                if not all(_structural(root, p) for p in group):
                    failures.append(f"{where}: {exc}")
                continue
            except Exception as exc:  # noqa: BLE001 - the point: list every crash
                failures.append(f"{where}: {type(exc).__name__}: {exc}"[:300])
                continue
            if pages is not None and isinstance(value, (list, dict)):
                _check_pages(pages, where)
    assert not failures, "\n".join(failures[:40])


def test_a_broken_record_shape_is_one_render_error_line(tmp_path: Path) -> None:
    _, record, previous, gate = CASES[0]
    broken = substituted(record, (("attr", "inspection"),), None)
    with pytest.raises(RenderError) as exc:
        render_hostile(broken, previous, gate, tmp_path)
    assert "\n" not in str(exc.value)
    assert str(exc.value).startswith("engine.md.j2: record 'bert-tiny' cannot be shown (")


def test_wrong_typed_numbers_show_as_escaped_text(tmp_path: Path) -> None:
    _, record, previous, gate = CASES[0]
    root = {"record": record, "previous": previous, "gate": gate}
    for path, shown in [
        ((("item", "record"), ("attr", "engine_section"), ("attr", "bytes")), "&lt;b&gt;"),
        ((("item", "record"), ("attr", "build_seconds")), "&lt;b&gt;"),
        ((("item", "record"), ("attr", "host"), ("attr", "cpu_count")), "(&lt;b&gt; CPUs)"),
        ((("item", "record"), ("attr", "model_section"), ("attr", "facts"),
          ("attr", "ir_version")), "| ONNX IR version | &lt;b&gt; |"),
    ]:
        page = _render_as_is(substituted(root, path, "<b>"), tmp_path)[
            tmp_path / "site" / "engines" / "bert-tiny.md"].decode()
        assert shown in page, _label(path)
        assert "<b>" not in page.split("## Reproduce")[0], _label(path)
    huge = substituted(root, (("item", "record"), ("attr", "engine_section"), ("attr", "bytes")),
                       10**5000)
    page = _render_as_is(huge, tmp_path)[tmp_path / "site" / "engines" / "bert-tiny.md"].decode()
    assert "| Engine size | an integer of 16610 bits |" in page


# --------------------------------------------------------------------------------------------
# All at once, through a real mkdocs build
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built_hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    site = hostile_site(root)
    result = mkdocs_build(site, root / "public")
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    return root / "public"


def test_every_field_hostile_at_once_builds_with_no_active_html(built_hostile: Path) -> None:
    pages = sorted(p for p in built_hostile.rglob("*.html"))
    engine_pages = [p for p in pages if p.parent.parent.name == "engines"
                    and "~graph" not in p.parent.name]
    assert len(engine_pages) == 2 * len(CASES), engine_pages
    for page in pages:
        found = active_html(page.read_text(encoding="utf-8"))
        assert not found, f"{page.relative_to(built_hostile)}: {found[:3]}"
    # The payload is shown, as text: escaped, not dropped.
    text = engine_pages[0].read_text(encoding="utf-8")
    assert "&lt;script&gt;window.__pwned=2&lt;/script&gt;" in text


def test_the_hostile_search_index_holds_only_text(built_hostile: Path) -> None:
    import json

    index = json.loads((built_hostile / "search" / "search_index.json").read_text())
    for doc in index["docs"]:
        for key in ("title", "text"):
            assert not active_html(doc.get(key, "")), (doc["location"], doc[key][:200])


def test_the_checks_would_see_the_payload_unescaped() -> None:
    found = active_html(f"<p>{PAYLOAD}</p>")
    assert any("onerror" in f for f in found) and any("__pwned=2" in f for f in found)
    assert any("onload" in f for f in found)
    assert markdown_active_html(f"| a |\n|---|\n| {PAYLOAD} |\n")
