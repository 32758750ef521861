"""How to reproduce an engine: its recorded builder calls rendered as Python and as a command.

``builder_config.applied_settings`` turns a spec into an ordered list of :class:`Applied` builder
calls; the build replays exactly that list and the record keeps it. This module renders the
same list twice: as a plain TensorRT Python script and as a ``trtexec`` / ``tensorrt_rtx`` line.
Nothing here reads the spec, so the snippet cannot say something the build did not do.

Both renderings parse the model the builder actually parsed: for an fp16/int8 engine that is
the model trtdoc's precision step wrote, named with its sha256 and the command that writes it.

Records are decoded strictly, but these renderings are total anyway: a value of the wrong type
(a string where a pool size belongs, a name with a newline) is quoted or shown as text, never
a crash, and can never turn into code in the snippet a reader copies: names that are not
identifiers are looked up with ``getattr``, values are Python literals or ``repr``s, comments
are one line, and every command-line argument is shell-quoted.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trtdoc import parameters
from trtdoc.backends.base import Applied
from trtdoc.escape import is_number, one_line, plain, shown
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


def _spec(record: EngineRecord) -> Mapping[str, Any]:
    return record.spec if isinstance(record.spec, Mapping) else {}


def _seq(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _applied(record: EngineRecord) -> tuple[Applied, ...]:
    return tuple(a for a in _seq(record.applied) if isinstance(a, Applied))


def _name(a: Applied) -> str:
    return plain(a.name)


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _member(enum: str, name: Any) -> str:
    """``trt.Enum.NAME``, or ``getattr(trt.Enum, '...')`` for a name that is not one."""
    text = plain(name)
    return f"{enum}.{text}" if _IDENT.fullmatch(text) else f"getattr({enum}, {_literal(text)})"


def _literal(value: Any) -> str:
    """A Python literal for ``value`` (``repr`` of plain data is one line and re-parses)."""
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, (str, bool, float)) or value is None:
        return repr(value)
    if isinstance(value, int):
        return plain(value) if len(plain(value)) < 4300 else "None  # too long to print"
    return repr(plain(value))


def _int_literal(value: Any) -> str:
    return _literal(int(value) if is_number(value) and float(value).is_integer() else value)


def built_model(record: EngineRecord) -> BuiltModel:
    """The model that was built: the precision step's output where one ran, else the model."""
    info = record.precision if isinstance(record.precision, Mapping) else {}
    if info.get("model"):
        return BuiltModel(plain(info["model"]), plain(info.get("model_sha256") or ""), True,
                          tuple(plain(c) for c in _seq(info.get("calls"))))
    return BuiltModel(plain(record.model_path or "model.onnx"), plain(record.model_sha256),
                      False)


def trtdoc_command(record: EngineRecord) -> str | None:
    """``trtdoc build <spec> --only <name>``, or None for an imported record."""
    spec = _spec(record)
    if "imported_from" in spec or not spec.get("source"):
        return None
    return (f"trtdoc build {shlex.quote(plain(spec['source']))} "
            f"--only {shlex.quote(plain(record.name))}")


def convert_command(record: EngineRecord) -> str | None:
    """``trtdoc convert <spec> --only <name>``: runs the precision step alone."""
    spec = _spec(record)
    if "imported_from" in spec or not spec.get("source") or not built_model(record).converted:
        return None
    return (f"trtdoc convert {shlex.quote(plain(spec['source']))} "
            f"--only {shlex.quote(plain(record.name))}")


# --------------------------------------------------------------------------------------------
# Python
# --------------------------------------------------------------------------------------------
def _shapes(value: Any) -> list[tuple[Any, Any, Any, Any]]:
    """``(input, min, opt, max)`` entries of a profile call; malformed ones are left out."""
    return [tuple(e) for e in _seq(value)  # type: ignore[misc]
            if isinstance(e, (list, tuple)) and len(e) == 4]


def _python_call(a: Applied) -> list[str]:
    if a.call == "profiling_verbosity":
        return [f"config.profiling_verbosity = {_member('trt.ProfilingVerbosity', a.name)}"]
    if a.call == "profile":
        lines = ["profile = builder.create_optimization_profile()"]
        lines += [f"profile.set_shape({_literal(name)}, {_literal(_seq(lo))}, "
                  f"{_literal(_seq(opt))}, {_literal(_seq(hi))})"
                  for name, lo, opt, hi in _shapes(a.value)]
        return [*lines, "config.add_optimization_profile(profile)"]
    if a.call == "memory_pool":
        return [f"config.set_memory_pool_limit({_member('trt.MemoryPoolType', a.name)}, "
                f"{_int_literal(a.value)})  # {one_line(shown(parameters.format_bytes, a.value))}"]
    if a.call == "optimization_level":
        return [f"config.builder_optimization_level = {_int_literal(a.value)}"]
    if a.call == "compute_capabilities":
        targets = _seq(a.value)
        return [f"config.num_compute_capabilities = {len(targets)}"] + [
            f"config.set_compute_capability("
            f"{_member('trt.ComputeCapability', plain(t).upper())}, {i})"
            for i, t in enumerate(targets)]
    if a.call == "hardware_compatibility":
        level = _member("trt.HardwareCompatibilityLevel", a.name)
        return [f"config.hardware_compatibility_level = {level}"]
    if a.call == "flag":
        return [f"config.set_flag({_member('trt.BuilderFlag', a.name)})"]
    return []  # network_flag: part of create_network


def python_snippet(record: EngineRecord) -> str | None:
    """A plain-API Python script that builds the same engine, or None where nothing was
    recorded (an imported engine)."""
    applied = _applied(record)
    if not applied:
        return None
    module = "tensorrt_rtx" if record.backend == "tensorrt-rtx" else "tensorrt"
    model = built_model(record)
    lines = [f"import {module} as trt", "",
             "# Run from the repository root (paths are relative to it)."]
    if model.converted:
        # Comments are kept to one line each: a newline in a path must not start code.
        lines.append(one_line(f"# {model.path} is the {plain(_spec(record).get('precision', ''))}"
                              " model trtdoc's precision step wrote"))
        lines.append(one_line(f"# from {plain(record.model_path)}; "
                              f"`{convert_command(record)}` writes it."))
    if model.sha256:
        lines.append(one_line(f"# Its sha256: {model.sha256}"))
    flags = [a.name for a in applied if a.call == "network_flag"]
    network_arg = " | ".join(f"1 << int({_member('trt.NetworkDefinitionCreationFlag', f)})"
                             for f in flags) or "0"
    lines += [
        "logger = trt.Logger(trt.Logger.WARNING)",
        "builder = trt.Builder(logger)",
        f"network = builder.create_network({network_arg})",
        "parser = trt.OnnxParser(network, logger)",
        f"if not parser.parse_from_file({_literal(model.path)}):",
        "    raise SystemExit(parser.get_error(0).desc())",
        "config = builder.create_builder_config()",
    ]
    for a in applied:
        lines += _python_call(a)
    lines += [
        "plan = builder.build_serialized_network(network, config)",
        f"with open({_literal(plain(record.name) + '.engine')}, 'wb') as f:",
        "    f.write(plan)",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------
def _shape_arg(name: Any, dims: Sequence[int]) -> str:
    # trtexec splits the spec on ":" and ","; it accepts a name wrapped in single quotes.
    name = plain(name)
    quoted = f"'{name}'" if any(c in name for c in ":,") and "'" not in name else name
    return f"{quoted}:{'x'.join(plain(d) for d in _seq(dims))}"


def _mem_arg(pool: str, value: int) -> str:
    mib, rest = divmod(int(value), 1 << 20)
    size = f"{mib}M" if not rest else f"{int(value) // 1024}K"
    return f"--memPoolSize={_TRTEXEC_POOLS[pool]}:{size}"


def cli_command(record: EngineRecord) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    """The equivalent ``trtexec`` or ``tensorrt_rtx`` command, notes on it, and its sources.

    Each recorded builder call becomes the switch its tool documents; a call with no documented
    switch becomes a note that sends the reader to the Python snippet.
    """
    applied = _applied(record)
    if not applied:
        return None, (), ()
    rtx = record.backend == "tensorrt-rtx"
    tool = "tensorrt_rtx" if rtx else "trtexec"
    model = built_model(record)
    args = [tool, f"--onnx={model.path}", f"--saveEngine={plain(record.name)}.engine"]
    notes: list[str] = []
    unmatched: list[str] = []
    profiles = [a for a in applied if a.call == "profile"]
    for a in applied:
        name = _name(a)
        if a.call == "network_flag":
            if not rtx and name == "STRONGLY_TYPED":
                args.append("--stronglyTyped")
        elif a.call == "profiling_verbosity":
            args.append(f"--profilingVerbosity={name.lower()}")
        elif a.call == "profile":
            if a is not profiles[0]:
                continue
            for flag, i in (("--minShapes", 1), ("--optShapes", 2), ("--maxShapes", 3)):
                args.append(f"{flag}=" + ",".join(_shape_arg(s[0], s[i])
                                                  for s in _shapes(a.value)))
        elif a.call == "memory_pool":
            if rtx or name not in _TRTEXEC_POOLS or not isinstance(a.value, int) \
                    or isinstance(a.value, bool):
                unmatched.append(f"{plain(a.key)} ({shown(parameters.format_bytes, a.value)})")
            else:
                args.append(_mem_arg(name, a.value))
        elif a.call == "optimization_level":
            if rtx:
                unmatched.append(f"optimization level ({plain(a.value)})")
            else:
                args.append(f"--builderOptimizationLevel={_int_literal(a.value)}")
        elif a.call == "compute_capabilities":
            args.append("--computeCapabilities=" + ",".join(plain(t)[2:] for t in _seq(a.value)))
        elif a.call == "hardware_compatibility":
            level = _TRTEXEC_HARDWARE.get(name)
            if level is None:
                unmatched.append(f"HardwareCompatibilityLevel.{name}")
            else:
                args.append(f"--hardwareCompatibilityLevel={level}")
        elif a.call == "flag":
            switch = None if rtx else _TRTEXEC_FLAGS.get(name)
            if switch is None:
                unmatched.append(f"BuilderFlag.{name}")
            else:
                args.append(switch)
    args.append("--skipInference")
    if model.converted:
        notes.append(f"--onnx is the {plain(_spec(record).get('precision', ''))} model from "
                     f"trtdoc's precision step; {convert_command(record)} writes it")
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
