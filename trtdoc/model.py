"""Facts about an ONNX model, read without loading its weights.

``onnx.load(..., load_external_data=False)`` leaves external tensors on disk, so a model of
several GB stays cheap to check. Weights stored inside the protobuf are read once, as part of
the file, and never copied.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtdoc.errors import TrtdocError, display_path

# ONNX TensorProto element types as words a reader knows.
_DTYPES = {
    1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
    8: "string", 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64",
    16: "bfloat16", 17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2",
    20: "float8e5m2fnuz", 21: "uint4", 22: "int4", 23: "float4e2m1",
}
_ITEMSIZE = {
    "float32": 4, "uint8": 1, "int8": 1, "uint16": 2, "int16": 2, "int32": 4, "int64": 8,
    "bool": 1, "float16": 2, "float64": 8, "uint32": 4, "uint64": 8, "bfloat16": 2,
    "float8e4m3fn": 1, "float8e4m3fnuz": 1, "float8e5m2": 1, "float8e5m2fnuz": 1,
}


class ModelError(TrtdocError):
    """A model file that is missing or is not ONNX."""

    def __init__(self, message: str, *, path: Path, missing: bool = False) -> None:
        self.path = path
        self.reason = message
        self.missing = missing
        super().__init__(f"{display_path(path)}: {message}")


@dataclass(frozen=True)
class ModelTensor:
    """An ONNX graph input or output. Dimensions are ints, or names for dynamic axes."""

    name: str
    dtype: str
    dims: tuple[int | str, ...]

    @property
    def is_dynamic(self) -> bool:
        return any(not isinstance(d, int) or d < 0 for d in self.dims)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "dims": list(self.dims)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelTensor:
        return cls(d["name"], d["dtype"], tuple(d["dims"]))


@dataclass(frozen=True)
class ModelFacts:
    """What a page shows about the ONNX model."""

    ir_version: int
    opset: tuple[tuple[str, int], ...]  # (domain, version); "" is the default ONNX domain
    producer: str
    producer_version: str
    nodes: int
    op_histogram: tuple[tuple[str, int], ...]  # sorted by count, then name
    parameters: int
    parameter_bytes: int
    external_data: bool
    inputs: tuple[ModelTensor, ...]
    outputs: tuple[ModelTensor, ...]
    custom_domains: tuple[str, ...] = ()
    # Not stored in records: only the log parser needs them, to split hostile node names.
    node_names: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    @property
    def default_opset(self) -> int | None:
        return dict(self.opset).get("")

    def to_dict(self) -> dict[str, Any]:
        return {
            "ir_version": self.ir_version,
            "opset": [[d, v] for d, v in self.opset],
            "producer": self.producer,
            "producer_version": self.producer_version,
            "nodes": self.nodes,
            "op_histogram": [[op, n] for op, n in self.op_histogram],
            "parameters": self.parameters,
            "parameter_bytes": self.parameter_bytes,
            "external_data": self.external_data,
            "inputs": [t.to_dict() for t in self.inputs],
            "outputs": [t.to_dict() for t in self.outputs],
            "custom_domains": list(self.custom_domains),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelFacts:
        return cls(
            ir_version=d["ir_version"],
            opset=tuple((a, b) for a, b in d["opset"]),
            producer=d["producer"],
            producer_version=d["producer_version"],
            nodes=d["nodes"],
            op_histogram=tuple((a, b) for a, b in d["op_histogram"]),
            parameters=d["parameters"],
            parameter_bytes=d["parameter_bytes"],
            external_data=d["external_data"],
            inputs=tuple(ModelTensor.from_dict(t) for t in d["inputs"]),
            outputs=tuple(ModelTensor.from_dict(t) for t in d["outputs"]),
            custom_domains=tuple(d.get("custom_domains", ())),
        )


def _load_proto(path: Path) -> Any:
    import onnx  # deferred: importing trtdoc stays cheap

    if not path.is_file():
        raise ModelError("model file not found", path=path, missing=True)
    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises DecodeError and friends for non-ONNX bytes
        raise ModelError("not a readable ONNX model (truncated, or not ONNX at all)",
                         path=path) from exc
    # An empty file (or a few stray bytes) parses as an empty ModelProto without complaint.
    if proto.ir_version <= 0 or not proto.HasField("graph"):
        raise ModelError("not a readable ONNX model (truncated, or not ONNX at all)", path=path)
    return proto


def _tensor(value_info: Any) -> ModelTensor:
    t = value_info.type.tensor_type
    dims: list[int | str] = []
    for d in t.shape.dim:
        if d.HasField("dim_value"):
            dims.append(int(d.dim_value))
        else:
            dims.append(d.dim_param or "?")
    return ModelTensor(value_info.name, _DTYPES.get(t.elem_type, f"type{t.elem_type}"),
                       tuple(dims))


def model_facts_from_onnx(path: Path) -> ModelFacts:
    """Read opset, producer, node and parameter counts, op histogram and I/O of ``path``."""
    proto = _load_proto(path)
    graph = proto.graph
    initializer_names = {i.name for i in graph.initializer}
    params = 0
    param_bytes = 0
    external = False
    for init in graph.initializer:
        n = 1
        for d in init.dims:
            n *= int(d)
        params += n
        param_bytes += n * _ITEMSIZE.get(_DTYPES.get(init.data_type, ""), 0)
        external = external or init.data_location == 1  # TensorProto.EXTERNAL

    ops: Counter[str] = Counter()
    domains: set[str] = set()
    names: set[str] = set()

    def count(g: Any) -> None:
        for node in g.node:
            names.add(node.name)
            key = f"{node.domain}::{node.op_type}" if node.domain not in ("", "ai.onnx") \
                else node.op_type
            ops[key] += 1
            if node.domain not in ("", "ai.onnx", "ai.onnx.ml", "com.microsoft", "trt",
                                   "trt.plugins"):
                domains.add(node.domain)
            for attr in node.attribute:
                if attr.g and attr.g.node:
                    count(attr.g)

    count(graph)
    return ModelFacts(
        ir_version=int(proto.ir_version),
        opset=tuple(sorted((o.domain, int(o.version)) for o in proto.opset_import)),
        producer=proto.producer_name,
        producer_version=proto.producer_version,
        nodes=sum(ops.values()),
        op_histogram=tuple(sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))),
        parameters=params,
        parameter_bytes=param_bytes,
        external_data=external,
        inputs=tuple(_tensor(i) for i in graph.input if i.name not in initializer_names),
        outputs=tuple(_tensor(o) for o in graph.output),
        custom_domains=tuple(sorted(domains)),
        node_names=frozenset(names),
    )


def model_files(path: Path) -> list[Path]:
    """The model file and every external-data file it references, in a fixed order."""
    proto = _load_proto(path)
    extra: set[str] = set()
    for init in proto.graph.initializer:
        if init.data_location == 1:
            for entry in init.external_data:
                if entry.key == "location":
                    extra.add(entry.value)
    return [path, *(path.parent / e for e in sorted(extra))]


def model_digest(path: Path) -> str:
    """sha256 over the model bytes and its external data, so a weight change is noticed."""
    h = hashlib.sha256()
    for p in model_files(path):
        h.update(p.name.encode())
        try:
            with p.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        except FileNotFoundError as exc:
            raise ModelError(f"external data file {p.name} is missing", path=path) from exc
    return h.hexdigest()
