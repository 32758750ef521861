"""Incremental rendering (``render_cache``, ``render.render_changed``): after every kind of
change, the site is byte for byte the site a full render writes, and nothing is decoded or
rendered that did not change."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from sitetools import RECORDS

from trtdoc.compat.deploy import load_deployment
from trtdoc.diff.history import read_previous
from trtdoc.record.files import read_gates, read_records
from trtdoc.render import cache as render_cache
from trtdoc.render.environment import shipped_templates
from trtdoc.render.incremental import render_changed
from trtdoc.render.write import render_site

REPO = Path(__file__).resolve().parents[1]


def _tree(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*"))
            if p.is_file()}


class Project:
    """A records folder, a site rendered incrementally and a site rendered from scratch."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.records = root / "records"
        shutil.copytree(RECORDS, self.records, ignore=shutil.ignore_patterns("*.py",
                                                                            "__pycache__"))
        # The repository's records add fp32 siblings, whose pages compare with a baseline.
        for p in (REPO / "records").glob("*.json"):
            shutil.copy(p, self.records / p.name)
        self.site = root / "site"
        self.cache = root / "cache"
        self.templates: Path | None = None
        self.deployment: Any = None
        self.runs = 0

    def state(self) -> render_cache.State:
        return render_cache.State.load(self.records, self.site,
                                       templates=(self.templates, shipped_templates()),
                                       deployment=self.deployment, folder=self.cache)

    def incremental(self) -> tuple[Path, ...]:
        """The incremental render; returns the pages it wrote."""
        state = self.state()
        if state.up_to_date() is not None:
            return ()
        done = render_changed(state, templates_dir=self.templates, deployment=self.deployment)
        assert not done.bad
        return done.result.written

    def assert_as_full(self) -> None:
        """The incremental site equals a full render into a fresh folder, page for page."""
        self.runs += 1
        full = self.root / f"full{self.runs}"
        render_site(read_records(self.records), full, templates_dir=self.templates,
                    previous=read_previous(self.records), gates=read_gates(self.records),
                    deployment=self.deployment)
        assert _tree(self.site) == _tree(full)

    def edit(self, name: str, change: Any) -> None:
        path = self.records / f"{name}.json"
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project(tmp_path)
    p.incremental()
    p.assert_as_full()
    return p


def _rel(project: Project, pages: tuple[Path, ...]) -> set[str]:
    return {str(p.relative_to(project.site)) for p in pages}


SITE_PAGES = {"engines/index.md", "compatibility.md", "changes.md"}


def test_nothing_changed_decodes_nothing(project: Project,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import trtdoc.record.files

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a record was decoded")

    monkeypatch.setattr(trtdoc.record.files, "record_from_json", refuse)  # what read_record runs
    assert project.state().up_to_date() is not None


def test_one_record_edited(project: Project) -> None:
    project.edit("bert-tiny", lambda d: d["spec"].update(description="Edited <here>"))
    assert _rel(project, project.incremental()) == {"engines/bert-tiny.md",
                                                     "engines/index.md"}
    project.assert_as_full()
    assert project.incremental() == ()


def test_baseline_edited_rerenders_its_siblings(project: Project) -> None:
    project.edit("magika-fp32", lambda d: d.update(build_seconds=123.0))
    written = _rel(project, project.incremental())
    assert {"engines/magika-fp32.md", "engines/magika-fp16.md",
            "engines/magika-int8.md"} <= written
    project.assert_as_full()


def test_record_removed(project: Project) -> None:
    (project.records / "mobilenet-v2-fp32.json").unlink()
    project.incremental()
    assert not (project.site / "engines" / "mobilenet-v2-fp32.md").exists()
    project.assert_as_full()


def test_record_added_and_history_added(project: Project) -> None:
    history = project.records / ".history"
    shutil.copy(project.records / "magika-int8.json", history / "magika-int8.json")
    project.edit("magika-int8", lambda d: d.update(build_seconds=9.5))
    written = _rel(project, project.incremental())
    assert {"engines/magika-int8.md", "changes.md"} <= written
    project.assert_as_full()
    (history / "magika-int8.json").unlink()
    project.incremental()
    project.assert_as_full()


def test_gate_added(project: Project) -> None:
    gates = project.records / ".gates"
    gates.mkdir()
    spec = json.loads((project.records / "bert-tiny.json").read_text())["spec"]
    (gates / "bert-tiny.json").write_text(json.dumps({
        "name": "bert-tiny", "violations": ["output max_abs 0.5 > 0.01"], "spec": spec,
        "accuracy": {"reference": "m.onnx", "candidate": "c.onnx", "outputs": [], "samples": 3,
                     "smoke": False, "seed": None, "runtime": "onnxruntime CPU"}}))
    assert "engines/bert-tiny.md" in _rel(project, project.incremental())
    project.assert_as_full()


def test_template_edited_and_templates_override(project: Project, tmp_path: Path) -> None:
    own = tmp_path / "own"
    own.mkdir()
    shutil.copy(shipped_templates() / "index.md.j2", own / "index.md.j2")
    project.templates = own
    project.incremental()
    project.assert_as_full()
    (own / "index.md.j2").write_text((own / "index.md.j2").read_text().replace(
        "# Engines", "# Our engines"))
    assert "engines/index.md" in _rel(project, project.incremental())
    project.assert_as_full()
    (own / "engine.md.j2").write_text("<!-- generated by trtdoc -->\n{{ r.name }}\n")
    written = _rel(project, project.incremental())
    assert {p for p in written if p.startswith("engines/") and p != "engines/index.md"}
    project.assert_as_full()
    project.templates = None
    project.incremental()
    project.assert_as_full()


def test_deployment_added_and_removed(project: Project) -> None:
    project.deployment = load_deployment(REPO / "deploy.yaml")
    assert "compatibility.md" in _rel(project, project.incremental())
    project.assert_as_full()
    assert project.incremental() == ()
    project.edit("bert-tiny", lambda d: d.update(build_seconds=2.0))
    project.incremental()
    project.assert_as_full()
    project.deployment = None
    project.incremental()
    project.assert_as_full()


def test_page_edited_by_hand_is_rewritten(project: Project) -> None:
    page = project.site / "engines" / "bert-tiny.md"
    page.write_bytes(page.read_bytes() + b"hand edit\n")
    assert _rel(project, project.incremental()) == {"engines/bert-tiny.md"}
    project.assert_as_full()
    page.unlink()
    assert _rel(project, project.incremental()) == {"engines/bert-tiny.md"}
    project.assert_as_full()


def test_stale_generated_page_is_removed(project: Project) -> None:
    stray = project.site / "engines" / "gone.md"
    stray.write_text("<!-- generated by trtdoc -->\n")
    project.incremental()
    assert not stray.exists()
    project.assert_as_full()


def test_same_size_edit_in_the_same_tick_is_seen(project: Project,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """An edit that keeps size and mtime (``touch -d`` back) still changes the ctime."""
    monkeypatch.setattr(render_cache, "RACY_NS", 0)  # remember every digest at once
    project.incremental()
    time.sleep(0.05)  # past the file system's timestamp tick
    path = project.records / "bert-tiny.json"
    st = path.stat()
    text = path.read_text()
    at = text.index('"build_seconds": ') + len('"build_seconds": ')
    digit = "2" if text[at] == "1" else "1"
    path.write_text(text[:at] + digit + text[at + 1:])
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size
    assert "engines/bert-tiny.md" in _rel(project, project.incremental())
    project.assert_as_full()


def test_lost_manifest_is_a_full_render(project: Project) -> None:
    shutil.rmtree(project.cache)
    project.incremental()
    project.assert_as_full()
    assert project.incremental() == ()


def test_racy_digest_is_not_remembered(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text("{}")
    digests = render_cache.Digests()
    digests.of(path)
    assert str(path) not in digests.seen  # changed just now: may change again this tick
    old = path.stat().st_mtime_ns - 10 * render_cache.RACY_NS
    os.utime(path, ns=(old, old))
    # ctime is now: still not remembered
    digests.of(path)
    assert str(path) not in digests.seen


def _decoded_while(project: Project, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The record files the next incremental render decodes, by stem."""
    import trtdoc.record.files

    decoded: list[str] = []
    real = trtdoc.record.files.record_from_json

    def counting(text: Any, *, path: Path | None = None) -> Any:
        decoded.append(Path(path).stem if path is not None else "?")
        return real(text, path=path)

    monkeypatch.setattr(trtdoc.record.files, "record_from_json", counting)
    project.incremental()
    monkeypatch.undo()
    return decoded


def test_one_record_edited_decodes_that_record(project: Project,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 27: the site-wide pages show every record, but of the unchanged ones only what
    # the render cache keeps (the record without its layers, and their count). A record
    # with a previous one is read whole, and that one too: changes.md compares their layers.
    project.edit("bert-tiny", lambda d: d["spec"].update(description="Edited again"))
    compared = sorted(p.stem for p in (project.records / ".history").glob("*.json"))
    assert compared and "bert-tiny" not in compared
    assert sorted(_decoded_while(project, monkeypatch)) == sorted(
        ["bert-tiny", *compared, *compared])
    project.assert_as_full()


def test_custom_site_template_reading_layers(project: Project,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # A custom index that lists every engine's layers reads the unchanged records' files
    # then, and shows what a full render shows.
    own = project.root / "own-templates"
    own.mkdir()
    text = (shipped_templates() / "index.md.j2").read_text(encoding="utf-8")
    (own / "index.md.j2").write_text(
        text + "{% for r in records %}\n{{ r.name }}: {% for layer in r.inspection.layers %}"
               "{{ layer.name|cell }} {% endfor %}{{ r.inspection.layers[-1:]|length }}"
               "{% endfor %}\n", encoding="utf-8")
    project.templates = own
    project.incremental()
    project.assert_as_full()
    project.edit("bert-tiny", lambda d: d["spec"].update(description="Edited again"))
    assert len(_decoded_while(project, monkeypatch)) > 1
    project.assert_as_full()
    assert "Conv" in (project.site / "engines" / "index.md").read_text(encoding="utf-8")


def test_lazy_layers_refuse_another_record(tmp_path: Path) -> None:
    from trtdoc.errors import RecordError
    from trtdoc.record.files import read_record
    from trtdoc.record.lazy_layers import with_lazy_layers, without_layers

    one, other = sorted((REPO / "records").glob("*.json"))[:2]
    record = read_record(one)
    lazy = with_lazy_layers(without_layers(record), len(record.inspection.layers), one)
    assert len(lazy.inspection.layers) == len(record.inspection.layers)
    assert lazy == record and list(lazy.inspection.layers) == list(record.inspection.layers)
    stale = with_lazy_layers(without_layers(record), len(record.inspection.layers), other)
    with pytest.raises(RecordError, match="changed while the site was rendered"):
        list(stale.inspection.layers)


def test_summaries_garbled_or_lost(project: Project) -> None:
    # The render cache is a folder anyone can write to: a summary that does not decode, or
    # describes another record, costs a decode of that record, never a wrong page.
    folder = render_cache.manifest_path(project.site, project.cache).with_suffix(".summaries")
    files = sorted(folder.glob("*.json"))
    assert files
    files[0].write_text("{not json", encoding="utf-8")
    files[1].write_bytes(files[2].read_bytes())
    files[3].unlink()
    project.edit("bert-tiny", lambda d: d["spec"].update(description="Edited again"))
    project.incremental()
    project.assert_as_full()
    # Rewritten, one per record: the next change decodes the edited record alone again.
    assert len(list(folder.glob("*.json"))) == len(list(project.records.glob("*.json")))
    assert "{not json" not in [p.read_text(encoding="utf-8") for p in folder.glob("*.json")]
