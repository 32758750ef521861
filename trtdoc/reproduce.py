"""How to reproduce an engine: its recorded builder calls rendered as Python and as a command.

``builder_config.applied_settings`` turns a spec into an ordered list of :class:`Applied` builder
calls; the build replays exactly that list and the record keeps it. This module renders the
same list twice: as a plain TensorRT Python script and as a ``trtexec`` / ``tensorrt_rtx`` line.
Nothing here reads the spec, so the snippet cannot say something the build did not do.

Both renderings parse the model the builder actually parsed: for an fp16/int8 engine that is
the model trtdoc's precision step wrote, named with its sha256 and the command that writes it.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trtdoc import parameters
from trtdoc.backends.base import Applied
from trtdoc.record import EngineRecord

_TRTEXEC_DOCS = ("https://docs.nvidia.com/deeplearning/tensorrt/latest/reference/"
                 "command-line-programs.html")
_RTX_CLI_DOCS = ("https://docs.nvidia.com/deeplearning/tensorrt-rtx/latest/inference-library/"
                 "cpu-engines.html")
_RTX_BENCH_DOCS = ("https://docs.nvidia.com/deeplearning/tensorrt-rtx/latest/performance/"
                   "benchmarking.html")

# BuilderFlag members with a documented trtexec switch.
_TRTEXEC_FLAGS = {
    "VERSION_COMPATIBLE": "--versionCompatible", "FP16": "--fp16", "BF16": "--bf16",
    "INT8": "--int8", "FP8": "--fp8", "REFIT": "--refit", "WEIGHT_STREAMING": "--weightStreaming",
    "SPARSE_WEIGHTS": "--sparsity=enable", "DIRECT_IO": "--directIO",
}
_TRTEXEC_POOLS = {"WORKSPACE": "workspace", "TACTIC_SHARED_MEMORY": "tacticSharedMem"}
_TRTEXEC_HARDWARE = {"AMPERE_PLUS": "ampere+", "SAME_COMPUTE_CAPABILITY": "sameComputeCapability"}


@dataclass(frozen=True)
class BuiltModel:
    """The ONNX file the builder parsed, and where it came from."""

    path: str
    sha256: str
    converted: bool  # True: written by the precision step, not the exported model
    calls: tuple[str, ...] = ()  # the converter calls that wrote it, with their options


def built_model(record: EngineRecord) -> BuiltModel:
    """The model that was built: the precision step's output where one ran, else the model."""
    info = record.precision or {}
    if info.get("model"):
        return BuiltModel(str(info["model"]), str(info.get("model_sha256") or ""), True,
                          tuple(str(c) for c in info.get("calls") or ()))
    return BuiltModel(record.model_path or "model.onnx", record.model_sha256, False)


def trtdoc_command(record: EngineRecord) -> str | None:
    """``trtdoc build <spec> --only <name>``, or None for an imported record."""
    spec = record.spec or {}
    if "imported_from" in spec or not spec.get("source"):
        return None
    return f"trtdoc build {shlex.quote(str(spec['source']))} --only {shlex.quote(record.name)}"


def convert_command(record: EngineRecord) -> str | None:
    """``trtdoc convert <spec> --only <name>``: runs the precision step alone."""
    spec = record.spec or {}
    if "imported_from" in spec or not spec.get("source") or not built_model(record).converted:
        return None
    return (f"trtdoc convert {shlex.quote(str(spec['source']))} "
            f"--only {shlex.quote(record.name)}")


# --------------------------------------------------------------------------------------------
# Python
# --------------------------------------------------------------------------------------------
def _python_call(a: Applied) -> list[str]:
    if a.call == "profiling_verbosity":
        return [f"config.profiling_verbosity = trt.ProfilingVerbosity.{a.name}"]
    if a.call == "profile":
        lines = ["profile = builder.create_optimization_profile()"]
        lines += [f"profile.set_shape({name!r}, {tuple(lo)!r}, {tuple(opt)!r}, {tuple(hi)!r})"
                  for name, lo, opt, hi in a.value]
        return [*lines, "config.add_optimization_profile(profile)"]
    if a.call == "memory_pool":
        return [f"config.set_memory_pool_limit(trt.MemoryPoolType.{a.name}, {int(a.value)})"
                f"  # {parameters.format_bytes(a.value)}"]
    if a.call == "optimization_level":
        return [f"config.builder_optimization_level = {int(a.value)}"]
    if a.call == "compute_capabilities":
        return [f"config.num_compute_capabilities = {len(a.value)}"] + [
            f"config.set_compute_capability(trt.ComputeCapability.{str(t).upper()}, {i})"
            for i, t in enumerate(a.value)]
    if a.call == "hardware_compatibility":
        return [f"config.hardware_compatibility_level = trt.HardwareCompatibilityLevel.{a.name}"]
    if a.call == "flag":
        return [f"config.set_flag(trt.BuilderFlag.{a.name})"]
    return []  # network_flag: part of create_network


def python_snippet(record: EngineRecord) -> str | None:
    """A plain-API Python script that builds the same engine, or None where nothing was
    recorded (an imported engine)."""
    if not record.applied:
        return None
    module = "tensorrt_rtx" if record.backend == "tensorrt-rtx" else "tensorrt"
    model = built_model(record)
    lines = [f"import {module} as trt", "",
             "# Run from the repository root (paths are relative to it)."]
    if model.converted:
        lines.append(f"# {model.path} is the {record.spec.get('precision', '')} model trtdoc's "
                     "precision step wrote")
        lines.append(f"# from {record.model_path}; `{convert_command(record)}` writes it.")
    if model.sha256:
        lines.append(f"# Its sha256: {model.sha256}")
    flags = [a.name for a in record.applied if a.call == "network_flag"]
    network_arg = " | ".join(f"1 << int(trt.NetworkDefinitionCreationFlag.{f})"
                             for f in flags) or "0"
    lines += [
        "logger = trt.Logger(trt.Logger.WARNING)",
        "builder = trt.Builder(logger)",
        f"network = builder.create_network({network_arg})",
        "parser = trt.OnnxParser(network, logger)",
        f"if not parser.parse_from_file({model.path!r}):",
        "    raise SystemExit(parser.get_error(0).desc())",
        "config = builder.create_builder_config()",
    ]
    for a in record.applied:
        lines += _python_call(a)
    lines += [
        "plan = builder.build_serialized_network(network, config)",
        f"with open({record.name + '.engine'!r}, 'wb') as f:",
        "    f.write(plan)",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------
def _shape_arg(name: str, dims: Sequence[int]) -> str:
    # trtexec splits the spec on ":" and ","; it accepts a name wrapped in single quotes.
    shown = f"'{name}'" if any(c in name for c in ":,") and "'" not in name else name
    return f"{shown}:{'x'.join(str(d) for d in dims)}"


def _mem_arg(pool: str, value: int) -> str:
    mib, rest = divmod(int(value), 1 << 20)
    size = f"{mib}M" if not rest else f"{int(value) // 1024}K"
    return f"--memPoolSize={_TRTEXEC_POOLS[pool]}:{size}"


def cli_command(record: EngineRecord) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    """The equivalent ``trtexec`` or ``tensorrt_rtx`` command, notes on it, and its sources.

    Each recorded builder call becomes the switch its tool documents; a call with no documented
    switch becomes a note that sends the reader to the Python snippet.
    """
    if not record.applied:
        return None, (), ()
    rtx = record.backend == "tensorrt-rtx"
    tool = "tensorrt_rtx" if rtx else "trtexec"
    model = built_model(record)
    args = [tool, f"--onnx={model.path}", f"--saveEngine={record.name}.engine"]
    notes: list[str] = []
    unmatched: list[str] = []
    profiles = [a for a in record.applied if a.call == "profile"]
    for a in record.applied:
        if a.call == "network_flag":
            if not rtx and a.name == "STRONGLY_TYPED":
                args.append("--stronglyTyped")
        elif a.call == "profiling_verbosity":
            args.append(f"--profilingVerbosity={a.name.lower()}")
        elif a.call == "profile":
            if a is not profiles[0]:
                continue
            for flag, i in (("--minShapes", 1), ("--optShapes", 2), ("--maxShapes", 3)):
                args.append(f"{flag}=" + ",".join(_shape_arg(s[0], s[i]) for s in a.value))
        elif a.call == "memory_pool":
            if rtx or a.name not in _TRTEXEC_POOLS:
                unmatched.append(f"{a.key} ({parameters.format_bytes(a.value)})")
            else:
                args.append(_mem_arg(a.name, a.value))
        elif a.call == "optimization_level":
            if rtx:
                unmatched.append(f"optimization level ({a.value})")
            else:
                args.append(f"--builderOptimizationLevel={int(a.value)}")
        elif a.call == "compute_capabilities":
            args.append("--computeCapabilities=" + ",".join(str(t)[2:] for t in a.value))
        elif a.call == "hardware_compatibility":
            args.append(f"--hardwareCompatibilityLevel={_TRTEXEC_HARDWARE[a.name]}")
        elif a.call == "flag":
            switch = None if rtx else _TRTEXEC_FLAGS.get(a.name)
            if switch is None:
                unmatched.append(f"BuilderFlag.{a.name}")
            else:
                args.append(switch)
    args.append("--skipInference")
    if model.converted:
        notes.append(f"--onnx is the {record.spec.get('precision', '')} model from trtdoc's "
                     f"precision step; {convert_command(record)} writes it")
    if len(profiles) > 1:
        notes.append(f"only profile 0 of {len(profiles)} is shown; add the others with the "
                     "Python snippet")
    if unmatched:
        pages = "the cited TensorRT-RTX pages" if rtx else "the cited trtexec page"
        notes.append(f"{pages} document no {tool} flag for {' or '.join(unmatched)}; set "
                     "them with the Python snippet")
    sources = (_RTX_CLI_DOCS, _RTX_BENCH_DOCS) if rtx else (_TRTEXEC_DOCS,)
    quoted = [shlex.quote(a) for a in args]
    command = " \\\n    ".join([" ".join(quoted[:1])] + quoted[1:])
    return command, tuple(notes), sources


def reproduce_context(record: EngineRecord) -> dict[str, Any]:
    """What the Reproduce section of an engine page shows."""
    command, notes, sources = cli_command(record)
    return {"cli_command": command, "cli_notes": notes, "cli_sources": sources,
            "python": python_snippet(record), "trtdoc_command": trtdoc_command(record),
            "convert_command": convert_command(record), "built_model": built_model(record)}
