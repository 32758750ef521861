"""Templates cannot run code (issue 26 item 1): a template a pull request brings (``templates:``
in trtdoc.yml) is rendered in Jinja's sandbox under ``render``, ``build --check`` and
``diff --base REF --format markdown``; each escape attempt is one located line, exit 1, and
nothing ran.

And what a template may read and compute (the holes a hostile trial found after that): a
template file of the user's folder that links outside it, is a FIFO or is over 1 MiB is not read;
a value over the bounds (``"x" * 100000 * 100000``, a width of a billion) and a render over the
time limit are refused. Each is one located line, exit 1, and the pages stay as they were."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, relu_model, write

from trtdoc.errors import RenderError
from trtdoc.render import bounds
from trtdoc.render.environment import make_environment, render_template

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


EXTENDS = '{% extends "trtdoc/engine.md.j2" %}\n{% block provenance %}\n'


def _site(project: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in (project / "site").rglob("*") if p.is_file()}


def _refused(project: Path, start: str) -> str:
    """``trtdoc render`` refused in one line starting ``error: START``; the site unchanged."""
    before = _site(project)
    result = _run(project, "render")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {start}"), result.stderr
    assert _site(project) == before
    return lines[0]


def test_an_included_link_out_of_the_folder_is_not_read(project: Path) -> None:
    (project / "templates" / "leak.md.j2").symlink_to("/etc/passwd")
    (project / "templates" / "engine.md.j2").write_text(
        EXTENDS + "{% include 'leak.md.j2' %}\n{% endblock %}\n")
    line = _refused(project, "templates/leak.md.j2: is a link to /etc/passwd, outside the "
                    "templates folder templates; replace the link with a copy")
    assert "root:" not in line


def test_a_template_that_is_a_link_out_is_not_read(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.md.j2"
    outside.write_text("secret: {{ 1 }}\n")
    (project / "templates" / "engine.md.j2").symlink_to(outside)
    _refused(project, f"templates/engine.md.j2: is a link to {outside}, outside the templates "
             "folder")
    # A link that stays inside the folder is a template like any other.
    (project / "templates" / "engine.md.j2").unlink()
    (project / "templates" / "mine.md.j2").write_text(EXTENDS + "Ours.\n{% endblock %}\n")
    (project / "templates" / "engine.md.j2").symlink_to("mine.md.j2")
    assert _run(project, "render").returncode == 0
    assert "Ours." in (project / "site/engines/relu.md").read_text()


def test_a_fifo_template_is_refused_without_blocking(project: Path) -> None:
    os.mkfifo(project / "templates" / "engine.md.j2")
    _refused(project, "templates/engine.md.j2: is not a regular file (a FIFO, device or "
             "folder); replace it with a template file")


def test_a_template_over_1_mib_is_refused(project: Path) -> None:
    (project / "templates" / "engine.md.j2").write_text(
        EXTENDS + "x" * (1024 * 1024) + "\n{% endblock %}\n")
    _refused(project, "templates/engine.md.j2: is larger than 1 MiB")


BOMBS = {
    "repeat": '{{ "x" * 100000 * 100000 }}',
    "power": "{{ 99 ** 99999 }}",
    "doubling": ('{% set ns = namespace(s="x") %}{% for i in range(40) %}'
                 "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}"),
    "center": '{{ "x"|center(1000000000) }}',
    "indent": '{{ ("a\\n" * 100000)|indent(1000) }}',
    "format": '{{ "%1000000000s"|format("x") }}',
    "percent": '{{ "%*s" % (1000000000, "x") }}',
    "method": '{{ "x".ljust(1000000000) }}',
    "str.format": '{{ "{:>{}}".format("x", 1000000000) }}',
    "replace": '{{ ("x" * 100000)|replace("", "y" * 100) }}',
    "batch": "{{ [1]|batch(1000000000, 0)|list|length }}",
    # Each part is within the bounds, the joined string would be 2 GB: join is sized first.
    "join": '{{ (["x" * 1000000] * 2000)|join }}',
}


@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_a_value_over_the_bounds_is_refused(project: Path, bomb: str) -> None:
    (project / "templates" / "engine.md.j2").write_text(
        EXTENDS + BOMBS[bomb] + "\n{% endblock %}\n")
    line = _refused(project, "templates/engine.md.j2:3: ")
    assert "the bound of" in line and line.endswith("; make the template compute less")


def test_the_values_a_page_needs_are_within_the_bounds(tmp_path: Path) -> None:
    (tmp_path / "ok.md.j2").write_text(
        '{{ "ab" * 3 }} {{ 2 ** 64 }} {{ "%5s|%d"|format("a", 123456789) }} '
        '{{ "{:>4}".format("b") }} {{ "a" ~ 1 }} {{ "x"|center(5) }} {{ [1, 2]|batch(1)|list }}'
        ' {{ "x" * 1000000 == "x" * 1000000 }}\n')
    page = render_template(make_environment(tmp_path), "ok.md.j2").decode()
    assert page == ("ababab 18446744073709551616 a&#124;123456789 b a1 x "
                    "&#91;&#91;1&#93;, &#91;2&#93;&#93; True\n")


def test_a_page_that_renders_too_long_is_stopped(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Two nested loops over range(100000) would run for hours: the render is stopped at the
    time limit (lowered here from 30 s), in one located line, and the previous SIGALRM handler
    is back afterwards."""
    (tmp_path / "slow.md.j2").write_text(
        "{% for i in range(100000) %}\n{% for j in range(100000) %}{% endfor %}{% endfor %}\n")
    monkeypatch.setattr(bounds, "TIME_LIMIT_S", 1.0)

    def previous(signum: int, frame: object) -> None:
        raise AssertionError("the previous handler must not fire")

    old = signal.signal(signal.SIGALRM, previous)
    try:
        with pytest.raises(RenderError) as exc:
            render_template(make_environment(tmp_path), "slow.md.j2")
        assert signal.getsignal(signal.SIGALRM) is previous
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    finally:
        signal.signal(signal.SIGALRM, old)
    assert str(exc.value) == (f"{tmp_path / 'slow.md.j2'}:2: rendering slow.md.j2 took longer "
                              "than 1 s, the bound for one page; make the template compute less")
