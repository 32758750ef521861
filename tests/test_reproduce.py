"""The Reproduce section: the page's snippet and command line are renderings of the recorded
builder calls, and the snippet, run as printed, builds the engine on the page.

The example specs are built in a copy of the repository, as `make demo` builds them on a fresh
clone (engines are not checked in); the same build must leave the checked-in records and pages
byte for byte as they are.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sitetools import fixed_records

from trtdoc.builder.calls import Applied
from trtdoc.builder.reproduce import cli_command, python_snippet
from trtdoc.inspect.build_log import inspection_from_build_log
from trtdoc.inspect.header import engine_facts_from_header
from trtdoc.record.files import read_record

REPO = Path(__file__).resolve().parents[1]
TRTDOC = [sys.executable, "-m", "trtdoc.cli"]
pytest.importorskip("tensorrt_rtx")


def _trtdoc(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TRTDOC, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=900)


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A copy of the repository's examples, built the way `make demo` builds a fresh clone."""
    root = tmp_path_factory.mktemp("clone")
    for folder in ("specs", "models", "records", "site"):
        shutil.copytree(REPO / folder, root / folder,
                        ignore=shutil.ignore_patterns("vendor", ".history"))
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copy(REPO / "deploy.yaml", root / "deploy.yaml")
    shutil.copy(REPO / "trtdoc.yml", root / "trtdoc.yml")
    history = REPO / "records" / ".history"
    if history.is_dir():
        shutil.copytree(history, root / "records" / ".history")
    # As `make demo` does: the paths, deploy.yaml included, come from trtdoc.yml.
    return root, _trtdoc(root, "build")


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and "vendor" not in p.parts
            and not p.name.startswith(".trtdoc.lock")}  # gitignored: who holds the lock


def test_rebuilding_the_examples_leaves_records_and_pages_unchanged(examples) -> None:
    root, run = examples
    assert run.returncode == 0, run.stderr
    for folder in ("records", "site"):
        before, after = _tree(REPO / folder), _tree(root / folder)
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        assert not changed, (f"a fresh build rewrote {folder}/{changed}; regenerate them with "
                             "`trtdoc build` in a fresh clone and commit")
    assert "reproduced: rebuilt byte for byte as recorded" in run.stdout


def _snippet(page: str) -> str:
    blocks = [b for b in re.findall(r"^```python\n(.*?)\n```$", page, flags=re.S | re.M)
              if b.startswith("import tensorrt")]
    assert len(blocks) == 1, "one build script per page"
    return blocks[0]


# Runs a snippet exactly as printed; only trt.Logger is swapped for one that also keeps the
# builder's messages, so the test can count the layers the snippet's engine has.
_RUNNER = '''
import json, sys
import tensorrt_rtx as trt
messages = []
class CapturingLogger(trt.ILogger):
    WARNING = trt.Logger.WARNING
    def __init__(self, *args):
        trt.ILogger.__init__(self)
    def log(self, severity, msg):
        messages.append(msg)
trt.Logger = CapturingLogger
exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"), {"__name__": "__main__"})
json.dump(messages, open(sys.argv[2], "w"))
'''


def test_each_page_snippet_builds_the_engine_on_the_page(examples, tmp_path: Path) -> None:
    root, run = examples
    assert run.returncode == 0, run.stderr
    runner = tmp_path / "runner.py"
    runner.write_text(_RUNNER)
    records = [read_record(p) for p in sorted((root / "records").glob("*.json"))]
    precisions = {r.spec.precision for r in records}
    assert {"fp32", "fp16"} <= precisions
    for record in records:
        page = (root / "site" / "engines" / f"{record.name}.md").read_text()
        snippet = _snippet(page)
        assert snippet == python_snippet(record)
        if record.precision:
            # As the page says: the precision step alone writes the model the snippet parses.
            built = record.precision.model
            (root / built).unlink(missing_ok=True)
            convert = _trtdoc(root, "convert", record.spec.source, "--only",
                              record.name)
            assert convert.returncode == 0, convert.stderr
            assert (hashlib.sha256((root / built).read_bytes()).hexdigest()
                    == record.precision.model_sha256)
            assert f"parse_from_file({str(built)!r})" in snippet
        script = tmp_path / f"{record.name}.py"
        script.write_text(snippet)
        log = tmp_path / f"{record.name}.log.json"
        done = subprocess.run([sys.executable, str(runner), str(script), str(log)], cwd=root,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        plan = (root / f"{record.name}.engine").read_bytes()
        if hashlib.sha256(plan).hexdigest() == record.engine_sha256:
            continue
        # TensorRT-RTX may serialise the same engine in another order from another process
        # state; then the header facts, size and layers must still be the recorded ones.
        assert engine_facts_from_header(plan) == record.header, record.name
        assert len(plan) == record.engine_bytes, record.name
        layers = inspection_from_build_log(json.loads(log.read_text())).layers
        assert [(x.name, x.type) for x in layers] == [
            (x.name, x.type) for x in record.inspection.layers], record.name


def test_recorded_model_hashes_are_what_sha256sum_prints(examples) -> None:
    root, _ = examples
    for path in sorted((root / "records").glob("*.json")):
        record = read_record(path)
        files = record.model_files
        assert files and files[0].path == record.model_path, path.name
        for f in files:
            printed = subprocess.run(["sha256sum", f.path], cwd=root, capture_output=True,
                                     text=True, check=True).stdout.split()[0]
            assert printed == f.sha256, (path.name, f.path)
            assert (root / f.path).stat().st_size == f.bytes
        assert record.model_sha256 == files[0].sha256
        page = (root / "site" / "engines" / f"{record.name}.md").read_text()
        assert f"| Model sha256 | `{files[0].sha256}`" in page


def test_records_and_pages_hold_no_absolute_paths(examples) -> None:
    root, _ = examples
    for path in [*(root / "records").glob("*.json"), *(root / "site").rglob("*.md")]:
        text = path.read_text()
        assert str(root) not in text and str(REPO) not in text, path
        assert not re.search(r'"(/(?:tmp|home|work|root)/[^"]*)"', text), path


def test_rtx_command_uses_documented_flags_only() -> None:
    bert = next(r for r in fixed_records() if r.name == "bert-tiny")
    command, notes, sources = cli_command(bert)
    assert command is not None and command.startswith("tensorrt_rtx \\\n")
    assert "--computeCapabilities=80,86,89" in command
    assert "--fp16" not in command and "--memPoolSize" not in command
    assert any("memory.workspace (512 MiB)" in n for n in notes)
    assert all(s.startswith("https://docs.nvidia.com/") for s in sources)


def test_full_tensorrt_renderings_follow_the_recorded_calls() -> None:
    # Full TensorRT cannot be installed here; its renderings are checked on a record whose
    # calls are those its backend makes for a converted model (strongly typed network).
    base = next(r for r in fixed_records() if r.name == "mobilenet-v2-fp16")
    applied = (Applied("precision_method", "network_flag", "STRONGLY_TYPED"),
               *base.applied,
               Applied("hardware_compatibility", "hardware_compatibility", "AMPERE_PLUS"),
               Applied("version_compatible", "flag", "VERSION_COMPATIBLE"))
    applied = tuple(a for a in applied if a.call != "compute_capabilities")
    record = dataclasses.replace(base, backend="tensorrt", applied=applied)
    snippet = python_snippet(record)
    assert snippet is not None
    assert ("network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag."
            "STRONGLY_TYPED))") in snippet
    assert ("config.hardware_compatibility_level = "
            "trt.HardwareCompatibilityLevel.AMPERE_PLUS") in snippet
    assert base.precision is not None
    assert f"parse_from_file({base.precision.model.as_posix()!r})" in snippet
    command, _, _ = cli_command(record)
    assert command is not None
    for switch in ("--stronglyTyped", "--hardwareCompatibilityLevel=ampere+",
                   "--versionCompatible", "--memPoolSize=workspace:",
                   "--builderOptimizationLevel="):
        assert switch in command
    assert f"--onnx={base.precision.model.as_posix()}" in command


def test_an_imported_engine_shows_no_invented_build_script() -> None:
    imported = next(r for r in fixed_records() if r.name == "resnet18-trtexec")
    assert python_snippet(imported) is None
    assert cli_command(imported)[0] is None

