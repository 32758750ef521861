"""How to reproduce an engine: its recorded builder calls rendered as Python and as a command.

``builder_config.applied_settings`` turns a spec into an ordered list of :class:`Applied` builder
calls; the build replays exactly that list and the record keeps it. This module renders the
same list twice: as a plain TensorRT Python script and as a ``trtexec`` / ``tensorrt_rtx`` line,
asking each call's kind in ``builder_calls.py`` for its lines and switches. Nothing here reads
the spec, so the snippet cannot say something the build did not do.

Both renderings parse the model the builder actually parsed: for an fp16/int8 engine that is
the model trtdoc's precision step wrote, named with its sha256 and the command that writes it.

Records are decoded strictly, but these renderings are total anyway: a value of the wrong type
(a string where a pool size belongs, a name with a newline) is quoted or shown as text, never
a crash, and can never turn into code in the snippet a reader copies: names that are not
identifiers are looked up with ``getattr``, values are Python literals or ``repr``s, comments
are one line, and every command-line argument is shell-quoted.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from trtdoc.builder.calls import Applied, Rendering, as_tuple, kind_of, python_literal
from trtdoc.record.types import EngineRecord
from trtdoc.render import parameters
from trtdoc.render.escape import one_line, plain
from trtdoc.spec.section import SpecSection

_TRTEXEC_DOCS = ("https://docs.nvidia.com/deeplearning/tensorrt/latest/reference/"
                 "command-line-programs.html")
_RTX_CLI_DOCS = ("https://docs.nvidia.com/deeplearning/tensorrt-rtx/latest/inference-library/"
                 "cpu-engines.html")
_RTX_BENCH_DOCS = ("https://docs.nvidia.com/deeplearning/tensorrt-rtx/latest/performance/"
                   "benchmarking.html")


@dataclass(frozen=True)
class BuiltModel:
    """The ONNX file the builder parsed, and where it came from."""

    path: str
    sha256: str
    converted: bool  # True: written by the precision step, not the exported model
    calls: tuple[str, ...] = ()  # the converter calls that wrote it, with their options


def _precision(record: EngineRecord) -> str:
    """The spec's precision; empty for an imported record, which has no spec."""
    return record.spec.precision if isinstance(record.spec, SpecSection) else ""


def _applied(record: EngineRecord) -> tuple[Applied, ...]:
    return tuple(a for a in as_tuple(record.applied) if isinstance(a, Applied))


def built_model(record: EngineRecord) -> BuiltModel:
    """The model that was built: the precision step's output where one ran, else the model."""
    info = record.precision
    if info is not None:
        return BuiltModel(info.model.as_posix(), info.model_sha256 or "", True, info.calls)
    return BuiltModel(plain(record.model_path or "model.onnx"), plain(record.model_sha256),
                      False)


def trtdoc_command(record: EngineRecord) -> str | None:
    """``trtdoc build <spec> --only <name>``, or None for an imported record."""
    spec = record.spec
    if not isinstance(spec, SpecSection) or not spec.source:
        return None
    return (f"trtdoc build {shlex.quote(spec.source)} "
            f"--only {shlex.quote(plain(record.name))}")


def convert_command(record: EngineRecord) -> str | None:
    """``trtdoc convert <spec> --only <name>``: runs the precision step alone."""
    spec = record.spec
    if not isinstance(spec, SpecSection) or not spec.source or not built_model(record).converted:
        return None
    return (f"trtdoc convert {shlex.quote(spec.source)} "
            f"--only {shlex.quote(plain(record.name))}")


def _rendering(record: EngineRecord, applied: tuple[Applied, ...]) -> Rendering:
    """How this record's calls render: its tool, the pages' sizes, its first profile."""
    return Rendering(rtx=record.backend == "tensorrt-rtx", size=parameters.format_bytes,
                     first_profile=next((a for a in applied if a.call == "profile"), None))


# --------------------------------------------------------------------------------------------
# Python
# --------------------------------------------------------------------------------------------
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
        lines.append(one_line(f"# {model.path} is the {_precision(record)}"
                              " model trtdoc's precision step wrote"))
        lines.append(one_line(f"# from {plain(record.model_path)}; "
                              f"`{convert_command(record)}` writes it."))
    if model.sha256:
        lines.append(one_line(f"# Its sha256: {model.sha256}"))
    how = _rendering(record, applied)
    kinds = [(a, kind) for a in applied if (kind := kind_of(a)) is not None]
    network_arg = " | ".join(term for a, kind in kinds
                             if (term := kind.creation_term(a)) is not None) or "0"
    lines += [
        "logger = trt.Logger(trt.Logger.WARNING)",
        "builder = trt.Builder(logger)",
        f"network = builder.create_network({network_arg})",
        "parser = trt.OnnxParser(network, logger)",
        f"if not parser.parse_from_file({python_literal(model.path)}):",
        "    raise SystemExit(parser.get_error(0).desc())",
        "config = builder.create_builder_config()",
    ]
    for a, kind in kinds:
        lines += kind.python(a, how)
    lines += [
        "plan = builder.build_serialized_network(network, config)",
        f"with open({python_literal(plain(record.name) + '.engine')}, 'wb') as f:",
        "    f.write(plan)",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------
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
    how = _rendering(record, applied)
    for a in applied:
        kind = kind_of(a)
        if kind is not None:
            switches = kind.cli(a, how)
            args += switches.args
            unmatched += switches.unmatched
    args.append("--skipInference")
    if model.converted:
        notes.append(f"--onnx is the {_precision(record)} model from "
                     f"trtdoc's precision step; {convert_command(record)} writes it")
    profiles = sum(a.call == "profile" for a in applied)
    if profiles > 1:
        notes.append(f"only profile 0 of {profiles} is shown; add the others with the "
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
