"""Templates cannot run code (issue 26 item 1): a template a pull request brings (``templates:``
in trtdoc.yml) is rendered in Jinja's sandbox under ``render``, ``build --check`` and
``diff --base REF --format markdown``; each escape attempt is one located line, exit 1, and
nothing ran."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, relu_model, write

pytest.importorskip("tensorrt_rtx")

# Each payload, with {mark} the file it would create if the template could run code.
PAYLOADS = {
    "cycler": "{{ cycler.__init__.__globals__.os.system('touch {mark}') }}",
    "subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "self-context": "{{ self._TemplateReference__context }}",
    "lipsum": "{{ lipsum.__globals__['os'].system('touch {mark}') }}",
    "namespace": "{{ namespace.__init__.__globals__['os'].system('touch {mark}') }}",
    "joiner": "{{ joiner.__init__.__globals__.os.system('touch {mark}') }}",
    "format": "{{ '{0.__class__.__init__.__globals__}'.format(range) }}",
    "mutate": "{% set x = [].append(1) %}{{ x }}",
}


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NO_COLOR="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "trtdoc.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project of one one-Relu engine, built, its records and pages committed to git."""
    root = tmp_path_factory.mktemp("sandbox") / "project"
    relu_model(root / "models" / "relu.onnx")
    write(root, "specs/relu.yaml", "name: relu\nmodel: ../models/relu.onnx\n"
          "backend: tensorrt-rtx\ntargets: [sm86]\n")
    write(root, "trtdoc.yml", "specs: [specs/]\n")
    result = _run(root, "build")
    assert result.returncode == 0, result.stderr
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t",
                                                 "commit", "-q", "-m", "built"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    """A fresh copy of the built project, with ``templates: templates/`` in trtdoc.yml."""
    root = tmp_path / "project"
    shutil.copytree(built, root, symlinks=True)
    (root / "templates").mkdir()
    (root / "trtdoc.yml").write_text("specs: [specs/]\ntemplates: templates/\n")
    return root


COMMANDS = {"render": ("render",), "build --check": ("build", "--check"),
            "diff": ("diff", "--base", "HEAD", "--format", "markdown")}


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_template_cannot_run_code(project: Path, command: str, payload: str) -> None:
    mark = project.parent / "MARK"
    template = "diff.md.j2" if command == "diff" else "engine.md.j2"
    text = PAYLOADS[payload].replace("{mark}", str(mark))
    (project / "templates" / template).write_text("{# a pull request's template #}\n"
                                                  + text + "\n")
    before = {p: p.read_bytes() for p in (project / "site").rglob("*") if p.is_file()}
    result = _run(project, *COMMANDS[command])
    assert not mark.exists()
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: templates/{template}:2: refused by the sandbox: ")
    assert "(templates may read the values they are given and use the filters" in lines[0]
    # Nothing of the site was changed by the refused render.
    after = {p: p.read_bytes() for p in (project / "site").rglob("*") if p.is_file()}
    assert after == before


def test_the_shipped_templates_render_sandboxed_as_before(project: Path) -> None:
    """The shipped templates (namespace, filters, super()) render unchanged in the sandbox:
    `build --check` of the committed site passes, with a block override in place."""
    (project / "templates" / "engine.md.j2").write_text(
        '{% extends "trtdoc/engine.md.j2" %}\n{% block provenance %}\n{{ super() }}\n'
        "Ask #perception-infra.\n{% endblock %}\n")
    assert _run(project, "render").returncode == 0
    assert "Ask #perception-infra." in (project / "site/engines/relu.md").read_text()
    (project / "templates" / "engine.md.j2").unlink()
    assert _run(project, "render").returncode == 0
    result = _run(project, "build", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
