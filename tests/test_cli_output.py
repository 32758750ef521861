"""How ``trtdoc`` writes, as a user sees it in a terminal and in a pipe: results on stdout and
progress on stderr, an overall "N of M engines" line on a terminal, plain lines in a pipe, the
help of a bare ``trtdoc``, shell completion and ``--version``."""

from __future__ import annotations

import os
import platform
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, relu_model, write

from trtdoc import __version__
from trtdoc.versions import dist_version

TRTDOC = Path(sys.executable).with_name("trtdoc")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# An engine name longer than a terminal is wide: in a pipe its line is not wrapped.
LONG = "b-" + "-".join(["resnet50"] * 11)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("FORCE_COLOR", "NO_COLOR", "COLUMNS", "LINES", "TERM")}
    # The subprocess imports this checkout, whichever trtdoc the venv has installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env | extra


@pytest.fixture
def two_engines(tmp_path: Path) -> Path:
    """A project of two one-Relu engines (about a second each to build)."""
    relu_model(tmp_path / "models" / "relu.onnx")
    for name in ("a", "b"):
        write(tmp_path, f"specs/{name}.yaml", f"name: {name}\nmodel: ../models/relu.onnx\n"
              "backend: tensorrt-rtx\ntargets: [sm86]\n")
    return tmp_path


def _in_a_terminal(args: list[str], cwd: Path, columns: int = 100) -> tuple[int, str]:
    """Run ``args`` with stdin, stdout and stderr on a pseudo-terminal; its exit code and all
    it wrote there, as the terminal received it."""
    leader, follower = pty.openpty()
    import fcntl
    import struct
    import termios

    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    proc = subprocess.Popen(args, cwd=cwd, stdin=follower, stdout=follower, stderr=follower,
                            env=_env(TERM="xterm-256color"), close_fds=True)
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(leader)
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


def test_a_bare_trtdoc_prints_the_help_and_exits_0(tmp_path: Path) -> None:
    proc = subprocess.run([str(TRTDOC)], cwd=tmp_path, capture_output=True, text=True,
                          env=_env(), timeout=60)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.startswith("Usage: trtdoc [OPTIONS] [COMMAND] [ARGS]...\n")
    assert "  build " in proc.stdout and "  completion " in proc.stdout


def test_version_names_what_trtdoc_drives(tmp_path: Path) -> None:
    proc = subprocess.run([str(TRTDOC), "--version"], cwd=tmp_path, capture_output=True,
                          text=True, env=_env(), timeout=60)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.splitlines() == [
        f"trtdoc {__version__}",
        f"tensorrt-rtx {dist_version('tensorrt_rtx') or 'not installed'}",
        f"tensorrt {dist_version('tensorrt') or 'not installed'}",
        f"onnxruntime {dist_version('onnxruntime') or 'not installed'}",
        f"Python {platform.python_version()}",
    ]
    assert dist_version("tensorrt_rtx") is not None  # this machine builds with TensorRT-RTX


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_script_click_generates(shell: str, tmp_path: Path) -> None:
    ours = subprocess.run([str(TRTDOC), "completion", shell], cwd=tmp_path,
                          capture_output=True, text=True, env=_env(), timeout=60)
    clicks = subprocess.run([str(TRTDOC)], cwd=tmp_path, capture_output=True, text=True,
                            env=_env(_TRTDOC_COMPLETE=f"{shell}_source"), timeout=60)
    assert (ours.returncode, ours.stderr) == (0, "")
    assert ours.stdout == clicks.stdout
    assert "_TRTDOC_COMPLETE" in ours.stdout


def test_sourcing_the_bash_script_completes_trtdoc(tmp_path: Path) -> None:
    env = _env(PATH=os.pathsep.join([str(TRTDOC.parent), os.environ["PATH"]]))
    proc = subprocess.run(
        ["bash", "-c", "source <(trtdoc completion bash); complete -p trtdoc; "
         "COMP_WORDS=(trtdoc comp); COMP_CWORD=1; _trtdoc_completion trtdoc; "
         'echo "${COMPREPLY[@]}"'],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.splitlines() == ["complete -o nosort -F _trtdoc_completion trtdoc",
                                        "compat completion"]


def test_completion_of_an_unknown_shell_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run([str(TRTDOC), "completion", "tcsh"], cwd=tmp_path,
                          capture_output=True, text=True, env=_env(), timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == (
        "Error: Invalid value for '{bash|zsh|fish}': 'tcsh' is not one of 'bash', 'zsh', "
        "'fish'.")


def test_in_a_pipe_results_are_plain_lines_on_stdout(two_engines: Path) -> None:
    b = two_engines / "specs" / "b.yaml"
    b.write_text(b.read_text().replace("name: b", f"name: {LONG}"))
    proc = subprocess.run([str(TRTDOC), "build", "specs"], cwd=two_engines,
                          capture_output=True, text=True, env=_env(), timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    # One line per engine, columns aligned with spaces: no box drawing, no colour, no wrapping.
    assert [line.split()[:2] for line in lines] == [
        ["engine", "status"], ["a", "built"], [LONG, "built"]]
    assert not re.search(r"[\x1b│┃━─]", proc.stdout)
    assert len({line.index(line.split()[1]) for line in lines}) == 1  # the status column
    assert re.fullmatch(r"a +built +\d+\.\d s  [\d,]+ bytes in \d+\.\d+ s", lines[1]), lines
    # Progress and logs are stderr's: nothing of the table, nor of the count of engines.
    assert "built" not in proc.stderr and "engines" not in proc.stderr

    again = subprocess.run([str(TRTDOC), "build", "specs"], cwd=two_engines,
                           capture_output=True, text=True, env=_env(), timeout=600)
    assert (again.returncode, again.stderr) == (0, "")
    assert again.stdout.splitlines()[-1] == "nothing to build: 2 engine(s) up to date"


def test_in_a_terminal_the_build_counts_engines_and_marks_each_done(two_engines: Path) -> None:
    code, screen = _in_a_terminal([str(TRTDOC), "build", "specs"], two_engines)
    assert code == 0, screen
    text = ANSI.sub("", screen)
    assert "0 of 2 engines" in text and "1 of 2 engines" in text and "2 of 2 engines" in text
    # While b builds, a's line says it is done (not the last phase it went through).
    assert re.search(r"\ba\s+━+\s+done\b", text), text
    assert re.search(r"\bb\s+━+\s+done\b", text), text
    # The summary is a table, in colour.
    assert re.search(r"\ba\s+│ built\s+│", text), text
    assert "\x1b[32mbuilt" in screen or "\x1b[32m" in screen


def test_in_a_terminal_one_engine_has_no_count(two_engines: Path) -> None:
    (two_engines / "specs" / "b.yaml").unlink()
    code, screen = _in_a_terminal([str(TRTDOC), "build", "specs"], two_engines)
    assert code == 0, screen
    assert "of 1 engines" not in ANSI.sub("", screen)
