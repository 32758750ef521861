"""Is a Ray cluster at ``--ray ADDRESS``? Asked with bounded waits before Ray is, because
``ray.init`` at an address where no cluster answers (a closed port, an HTTP server, a port that
never accepts) retries for minutes, and names the address as it rewrote it.

:func:`check_ray_address` opens a TCP connection (:data:`CONNECT_S`), then asks the cluster's
GCS for its id over gRPC, as ``ray.init`` does first (:data:`ANSWER_S`): at most
``CONNECT_S + ANSWER_S`` seconds per address it resolves to, then one line naming the address as
given. ``auto`` and ``local`` are Ray's own words (they fail at once where there is no cluster);
``ray://HOST:PORT`` (Ray Client) is checked for a connection and an HTTP/2 answer only, and so
is a GCS address where Python's ``grpc`` is not installed (plain ``ray`` does not need it): an
HTTP/2 handshake over a plain socket tells a gRPC server from an HTTP/1 one or silence.
"""

from __future__ import annotations

import socket
import time

from trtdoc.errors import TrtdocError

CONNECT_S = 5.0
ANSWER_S = 10.0
_DEFAULT_PORT = 6379  # Ray's GCS port when an address names none
_FIX = ("start one with `ray start --head`, or pass its address (host:port, or auto for the one "
        "running here)")


def host_and_port(address: str) -> tuple[str, int] | None:
    """``(host, port)`` of ``HOST[:PORT]``, ``[IPV6]:PORT`` or ``ray://HOST:PORT``; None for
    Ray's own words (auto, local) and anything that is not an address (Ray says what)."""
    rest = address.removeprefix("ray://").strip()
    if address.strip() in ("", "auto", "local") or "/" in rest or any(c.isspace() for c in rest):
        return None
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        port_text = tail.removeprefix(":") if tail.startswith(":") else ""
    elif rest.count(":") == 1:
        host, port_text = rest.split(":")
    elif ":" in rest:
        return None  # a bare IPv6 address; Ray says what it makes of it
    else:
        host, port_text = rest, ""
    if not host:
        return None
    if not port_text:
        return host, _DEFAULT_PORT
    if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise TrtdocError(f"--ray {_shown(address)}: {port_text[:20]!r} is not a port; pass "
                          "host:port (e.g. 127.0.0.1:6379), or auto for the cluster running here")
    return host, int(port_text)


def check_ray_address(address: str) -> None:
    """Nothing if a Ray cluster answers at ``address`` (or it is one of Ray's own words); else
    :class:`TrtdocError`, one line naming ``address`` as given, within a bounded time."""
    where = host_and_port(address)
    if where is None:
        return
    host, port = where
    problem = _connect(host, port)
    if problem is None:
        client = address.strip().startswith("ray://")
        problem = _http2_answer(host, port) if client else _gcs_answer(host, port)
    if problem is not None:
        raise TrtdocError(f"--ray {_shown(address)}: no Ray cluster answers there ({problem}); "
                          + _FIX)


def _shown(address: str) -> str:
    return address if len(address) <= 80 else address[:77] + "..."


def _connect(host: str, port: int) -> str | None:
    """Why no TCP connection to ``host:port`` opens within :data:`CONNECT_S`; None if one does."""
    try:
        with socket.create_connection((host, port), timeout=CONNECT_S):
            return None
    except socket.gaierror:
        return f"cannot resolve {host[:60]!r}"
    except TimeoutError:
        return f"no connection within {CONNECT_S:g} s"
    except ConnectionRefusedError:
        return "connection refused: nothing listens on that port"
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def _target(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _gcs_answer(host: str, port: int) -> str | None:
    """Why the GCS at ``host:port`` gives no cluster id within :data:`ANSWER_S`; None if it
    does (what ``ray.init`` asks first, and retries for minutes). Without Python's ``grpc``
    (plain ``ray`` does not install it), whether the port speaks HTTP/2 as gRPC does."""
    try:
        import grpc  # type: ignore[import-untyped]
        from ray.core.generated import gcs_service_pb2, gcs_service_pb2_grpc
    except ImportError:
        return _http2_answer(host, port)
    with grpc.insecure_channel(_target(host, port)) as channel:
        stub = gcs_service_pb2_grpc.NodeInfoGcsServiceStub(channel)
        try:
            request = gcs_service_pb2.GetClusterIdRequest()  # type: ignore[attr-defined]
            stub.GetClusterId(request, timeout=ANSWER_S)
        except grpc.RpcError as exc:
            code = exc.code() if callable(getattr(exc, "code", None)) else None
            if code == grpc.StatusCode.UNAUTHENTICATED:
                return None  # a cluster with token authentication: Ray's own login follows
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                return f"the port accepts a connection but gives no answer within {ANSWER_S:g} s"
            return "the port answers, but not as a Ray cluster's GCS does"
    return None


# The HTTP/2 client connection preface, then an empty SETTINGS frame (RFC 9113 3.4, 6.5).
_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
_FRAME_HEADER = 9
_SETTINGS = 4


def _http2_answer(host: str, port: int) -> str | None:
    """Why ``host:port`` does not answer as an HTTP/2 server (gRPC, as Ray's GCS and Ray
    Client server are) within :data:`ANSWER_S`; None if it does. Python's own sockets: the
    client preface and SETTINGS sent, the server's first frame must be its SETTINGS."""
    deadline = time.monotonic() + ANSWER_S
    silent = f"the port accepts a connection but gives no answer within {ANSWER_S:g} s"
    header = b""
    try:
        with socket.create_connection((host, port), timeout=CONNECT_S) as sock:
            sock.sendall(_PREFACE)
            while len(header) < _FRAME_HEADER:
                left = deadline - time.monotonic()
                if left <= 0:
                    return silent
                sock.settimeout(left)
                chunk = sock.recv(_FRAME_HEADER - len(header))
                if not chunk:
                    break
                header += chunk
    except TimeoutError:
        return silent
    except OSError as exc:
        return f"the connection failed ({exc.strerror or type(exc).__name__})"
    if len(header) == _FRAME_HEADER and header[3] == _SETTINGS and header[5:9] == bytes(4):
        return None
    return "the port answers, but not as a Ray cluster's GCS does"
