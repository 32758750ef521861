from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# CI clones the repository beside ../shared; TRTDOC_SHARED points elsewhere when needed.
SHARED = Path(os.environ.get("TRTDOC_SHARED", REPO.parent / "shared"))
MODELS = SHARED / "models"
TREX = SHARED / "fixtures" / "trex"
# tests/data holds the fixture generators (capture_build_logs.py) that tests import helpers from.
sys.path.insert(0, str(REPO / "tests" / "data"))


def write(folder: Path, name: str, text: str) -> Path:
    """Write a dedented file (a spec, usually) below ``folder``, making folders as needed."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} is missing: clone the repository beside shared/ "
                    "or set TRTDOC_SHARED")
    return SHARED


@pytest.fixture(scope="session")
def mobilenet_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One real TensorRT-RTX build of mobilenet_v2 for sm86 and sm120: (record, engine)."""
    pytest.importorskip("tensorrt_rtx")
    from trtdoc.build.run import build_all
    from trtdoc.paths import OutputPaths

    root = tmp_path_factory.mktemp("mobilenet")
    (root / "mobilenet.yaml").write_text(
        f"name: mobilenet\nmodel: {MODELS / 'mobilenet_v2_035.onnx'}\nbackend: tensorrt-rtx\n"
        "profiles:\n  - input: {min: [1, 3, 224, 224], opt: [2, 3, 224, 224], "
        "max: [4, 3, 224, 224]}\ntargets: [sm86, sm120]\n")
    paths = OutputPaths(out=root / "build", records=root / "records")
    result = build_all([root / "mobilenet.yaml"], paths)
    assert [o.status for o in result.outcomes] == ["built"], result.outcomes
    return paths.record("mobilenet"), paths.engine("mobilenet")


def relu_model(path: Path) -> Path:
    """A one-Relu ONNX model with a fixed [1, 3, 8, 8] input: builds in about a second."""
    import onnx
    from onnx import TensorProto
    from onnx import helper as oh

    x = oh.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = oh.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])
    graph = oh.make_graph([oh.make_node("Relu", ["x"], ["y"])], "relu", [x], [y])
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)]), path)
    return path
