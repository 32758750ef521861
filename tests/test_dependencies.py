"""Every trtdoc module imports without TensorRT: backends are chosen lazily, at call time.

Modeled on Polygraphy's tests/mod/test_dependencies.py. The package is walked, so a module added
later is covered without touching this file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

# Ray is the optional extra trtdoc[ray]: only `build --ray` with something to build loads it.
FORBIDDEN = ("tensorrt", "tensorrt_rtx", "onnxruntime", "ray")

# Runs in a fresh interpreter: this pytest process may already hold any of FORBIDDEN.
_PROBE = textwrap.dedent("""
    import importlib, importlib.abc, json, pkgutil, sys

    FORBIDDEN = {forbidden!r}
    attempts = []

    class Block(importlib.abc.MetaPathFinder):
        # Behave like a machine without these packages, and remember who asked for them.
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in FORBIDDEN:
                attempts.append(name)
                raise ImportError(f"{{name}} is blocked by test_dependencies")
            return None

    sys.meta_path.insert(0, Block())

    import trtdoc

    imported, failed = [], {{}}
    for info in pkgutil.walk_packages(trtdoc.__path__, "trtdoc."):
        try:
            importlib.import_module(info.name)
            imported.append(info.name)
        except Exception as exc:
            failed[info.name] = f"{{type(exc).__name__}}: {{exc}}"
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in FORBIDDEN)
    print(json.dumps({{"imported": imported, "failed": failed, "attempts": attempts,
                      "loaded": loaded}}))
""").format(forbidden=FORBIDDEN)


@pytest.fixture(scope="module")
def probe() -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_every_module_imports_without_tensorrt(probe: dict[str, object]) -> None:
    assert probe["failed"] == {}
    # The walk found the package: these are the modules the foundation shipped with.
    assert {"trtdoc.check", "trtdoc.cli", "trtdoc.errors", "trtdoc.model",
            "trtdoc.spec"} <= set(probe["imported"])  # type: ignore[arg-type]


def test_no_module_imports_tensorrt_or_onnxruntime_at_import_time(
        probe: dict[str, object]) -> None:
    assert probe["attempts"] == []
    assert probe["loaded"] == []


def test_trtdoc_help_does_not_import_ray() -> None:
    probe = textwrap.dedent("""
        import sys
        from trtdoc.cli.group import cli
        for args in (["--help"], ["build", "--help"]):
            try:
                cli.main(args, standalone_mode=False)
            except SystemExit:
                pass
        print(sorted(m for m in sys.modules if m.split(".")[0] == "ray"))
    """)
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "--ray ADDRESS" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "[]"
