"""``build --ray ADDRESS`` where no Ray cluster answers (issue 26 item 4): a closed port, an HTTP
server, a port that accepts connections and never answers. Each is one line naming the address
as given, exit 1, and nothing left running; real sockets, a real ``trtdoc build``."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, relu_model, write

from trtdoc.build.ray_address import ANSWER_S, CONNECT_S, host_and_port
from trtdoc.errors import TrtdocError

pytest.importorskip("ray")

# The bound the CLI must keep to (issue 26: within 30 s); the subprocess is killed after twice
# that, so a hang fails the test instead of stalling the suite.
BOUND_S = 30
assert CONNECT_S + ANSWER_S < BOUND_S


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rayaddr")
    relu_model(root / "models" / "relu.onnx")
    write(root, "specs/relu.yaml", "name: relu\nmodel: ../models/relu.onnx\n"
          "backend: tensorrt-rtx\ntargets: [sm86]\n")
    return root


def _build(root: Path, address: str) -> subprocess.CompletedProcess[str]:
    """``trtdoc build specs/ --ray ADDRESS`` in a session of its own; fails the test if any
    process of that session (a Ray retry loop, a raylet) outlives it."""
    env = dict(os.environ, NO_COLOR="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen([sys.executable, "-m", "trtdoc.cli", "build", "specs/", "--ray",
                             address], cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=2 * BOUND_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.communicate()
        pytest.fail(f"--ray {address} still running after {2 * BOUND_S} s")
    left = [p for p in os.listdir("/proc") if p.isdigit() and _session(int(p)) == proc.pid]
    assert left == [], f"processes left behind: {left}"
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _session(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed when the with ends: nothing listens


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A listening socket that never accepts: the kernel completes connections, no one answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield int(s.getsockname()[1])


@pytest.fixture
def http_port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


FIX = ("; start one with `ray start --head`, or pass its address (host:port, or auto for the "
       "one running here)")


@pytest.mark.parametrize("kind, why", [
    ("closed_port", "connection refused: nothing listens on that port"),
    ("silent_port", f"the port accepts a connection but gives no answer within {ANSWER_S:g} s"),
    ("http_port", "the port answers, but not as a Ray cluster's GCS does"),
])
def test_no_cluster_at_the_address_is_one_line(project: Path, kind: str, why: str,
                                               request: pytest.FixtureRequest) -> None:
    address = f"localhost:{request.getfixturevalue(kind)}"
    result = _build(project, address)
    assert result.returncode == 1, result.stdout + result.stderr
    # The address as given ("localhost", not the address Ray rewrites it to).
    assert result.stderr.splitlines() == [
        f"error: --ray {address}: no Ray cluster answers there ({why})" + FIX]
    assert not list(project.glob("records/*.json"))  # nothing built, nothing recorded


def test_addresses_are_read_as_ray_reads_them() -> None:
    assert host_and_port("10.0.0.5:6380") == ("10.0.0.5", 6380)
    assert host_and_port("head") == ("head", 6379)
    assert host_and_port("[::1]:6379") == ("::1", 6379)
    assert host_and_port("ray://head:10001") == ("head", 10001)
    assert host_and_port("auto") is None and host_and_port("local") is None
    with pytest.raises(TrtdocError) as exc:
        host_and_port("head:http")
    assert str(exc.value) == ("--ray head:http: 'http' is not a port; pass host:port (e.g. "
                              "127.0.0.1:6379), or auto for the cluster running here")
