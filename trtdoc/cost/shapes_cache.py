"""The model's shapes at the opt shape, kept between builds in ``build/cache/model-shapes/``.

Pricing Myelin fusions needs every ONNX node's FLOPs at the opt shape
(:func:`trtdoc.cost.onnx_nodes.model_shapes`): importing onnx, reading the graph and inferring
its shapes, 0.2 to 0.3 s of CPU on every build of resnet18, a quarter of trtdoc's own time
there. They depend only on the model file's graph, the opt shape, trtdoc's rules and onnx's
version, so a build of a model built before (``--force``, other settings, another target)
reads them back instead. The model file is known by its identity
(:func:`trtdoc.model.file_identity`: device, inode, size, mtime and ctime, as the model
digests are); a file changed in the last two seconds is never taken from the cache.

The cache is a build product: a file that is missing, damaged, from another trtdoc or onnx,
or not one this module wrote is ignored and written again; one that cannot be written only
costs the next build the inference again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trtdoc.cost import onnx_nodes, rules
from trtdoc.cost.onnx_nodes import ModelShapes, NodeFacts, model_shapes
from trtdoc.model import file_identity
from trtdoc.paths import write_cache_file

FORMAT = "trtdoc-model-shapes-1"
MAX_CACHE_BYTES = 64 * 1024 * 1024  # a larger file is not read (no graph this module keeps is)


def cached_model_shapes(model: Path, opt: Mapping[str, tuple[int, ...]],
                        folder: Path | None) -> ModelShapes:
    """:func:`~trtdoc.cost.onnx_nodes.model_shapes` of ``model`` at ``opt``, read from
    ``folder`` when this model file was priced at this opt shape before (else inferred and
    kept there). Raises what ``model_shapes`` raises."""
    key = _key(model, opt) if folder is not None else None
    if folder is None or key is None:
        return model_shapes(model, opt)
    file = folder / (hashlib.sha256(json.dumps(key).encode()).hexdigest()[:32] + ".json")
    found = _read(file, key)
    if found is not None:
        return found
    shapes = model_shapes(model, opt)
    _write(file, key, shapes)
    return shapes


def _key(model: Path, opt: Mapping[str, tuple[int, ...]]) -> list[Any] | None:
    """What the shapes depend on, or None when the model file is too fresh to be known by
    its identity."""
    from trtdoc.versions import dist_version

    try:
        identity = file_identity(model)
        code = [(Path(m.__file__ or "").name, os.stat(m.__file__ or "").st_size,
                 os.stat(m.__file__ or "").st_mtime_ns) for m in (onnx_nodes, rules)]
    except OSError:
        return None
    if identity is None:
        return None
    return [FORMAT, list(identity), sorted([name, list(dims)] for name, dims in opt.items()),
            code, dist_version("onnx")]


def _read(file: Path, key: list[Any]) -> ModelShapes | None:
    import stat

    try:
        # O_NONBLOCK, and regular files only: a FIFO put in its place must not hang the build.
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_CACHE_BYTES:
                return None
            data = json.loads(f.read(MAX_CACHE_BYTES + 1))
        if json.loads(json.dumps(key)) != data["key"]:
            return None
        nodes = {_text(name): NodeFacts(_text(op), _texts(ins), _texts(outs), _count(flops))
                 for name, op, ins, outs, flops in data["nodes"]}
        tensors = {_text(name): (tuple(_count(d, none=False) for d in dims),
                                 _count(size, none=False))
                   for name, dims, size in data["tensors"]}
        return ModelShapes(nodes, tensors, frozenset(_texts(data["weights"])))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # missing or not this module's: inferred again


def _write(file: Path, key: list[Any], shapes: ModelShapes) -> None:
    text = json.dumps({
        "key": key,
        "nodes": [[name, n.op, list(n.inputs), list(n.outputs), n.flops]
                  for name, n in shapes.nodes.items()],
        "tensors": [[name, list(dims), size] for name, (dims, size) in shapes.tensors.items()],
        "weights": sorted(shapes.weights),
    })
    write_cache_file(file, text)  # if it fails, the next build infers them again


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a name")
    return value


def _texts(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list):
        raise TypeError("not a list of names")
    return tuple(_text(v) for v in values)


def _count(value: Any, none: bool = True) -> Any:
    if value is None and none:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("not a count")
    return value
