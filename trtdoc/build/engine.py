"""The TensorRT call: parse the ONNX model, replay the spec's settings, build one serialised
engine, and turn the builder's complaints into an error that names the spec setting at fault."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtdoc.backends import BackendChoice, import_backend
from trtdoc.backends.base import Applied
from trtdoc.build.outcome import OnEvent
from trtdoc.builder.calls import network_creation_flags, replay
from trtdoc.builder.settings import applied_settings, read_settings
from trtdoc.errors import BackendUnavailableError, BuildError
from trtdoc.refusals import builder_next_step, parser_errors_text
from trtdoc.spec.types import EngineSpec


@dataclass(frozen=True)
class BuiltEngine:
    """One engine as the builder made it: the plan, the build log, the settings read back."""

    plan: memoryview  # read-only bytes of TensorRT's own buffer: a plan can be GBs, never copied
    messages: tuple[tuple[str, str], ...]  # (severity, message)
    seconds: float
    effective: dict[str, Any] = field(hash=False)
    defaults: dict[str, Any] = field(hash=False)
    applied: tuple[Applied, ...] = ()


def _make_logger(trt: Any, sink: list[tuple[str, str]]) -> Any:
    class Logger(trt.ILogger):
        def __init__(self) -> None:
            trt.ILogger.__init__(self)

        def log(self, severity: Any, msg: str) -> None:
            sink.append((severity.name, msg))

    return Logger()


def _make_monitor(trt: Any, name: str, on_event: OnEvent | None) -> Any:
    class Monitor(trt.IProgressMonitor):
        def __init__(self) -> None:
            trt.IProgressMonitor.__init__(self)

        def phase_start(self, phase: str, parent: str | None, steps: int) -> None:
            if on_event is not None and parent is not None:
                on_event((name, "phase", phase, 0, steps))

        def step_complete(self, phase: str, step: int) -> bool:
            if on_event is not None:
                on_event((name, "step", phase, step + 1, 0))
            return True

        def phase_finish(self, phase: str) -> None:
            pass

    return Monitor()


# Builder errors name symptoms; these patterns point at the spec setting most likely at fault.
_BLAME = (
    ((r"\bsm ?\d{2,3}\b", "turing", "ampere", "hopper", "blackwell", "compute capability"),
     ("targets",)),
    (("workspace", "memory pool", "insufficient memory", r"out ?of ?memory", "scratch",
      "requested size was"), ("memory", "workspace")),
    (("profile", "optimization profile", "shape", "dimension", "reshape", "volume"),
     ("profiles",)),
    (("plugin", "importer", "custom", "domain", "unsupported operator"), ("model",)),
)


def blame(errors: Sequence[str]) -> tuple[str | int, ...]:
    """The spec key most likely at fault for builder error messages."""
    text = " ".join(errors).lower()
    for patterns, key in _BLAME:
        if any(re.search(p, text) for p in patterns):
            return key
    return ("model",)


_REQUESTED = re.compile(r"Requested size was (\d+) bytes", re.IGNORECASE)


def workspace_hint(messages: Sequence[tuple[str, str]]) -> str:
    """For a build that ran out of workspace (``OutOfMemory (Requested size was N bytes)``):
    the size to raise ``memory.workspace`` to; empty otherwise."""
    sizes = [int(m.group(1)) for _, text in messages for m in _REQUESTED.finditer(text)]
    if not sizes:
        # Measured on mobilenet-v2 (fp16, batch 32): 1 MiB fails so, 1 GiB builds.
        if any("within workspace limit" in text for _, text in messages):
            return (". No tactic fits in memory.workspace: raise it (for example "
                    "`memory: {workspace: 1GiB}`)")
        return ""
    need = max(sizes)
    mib = -(-need // 2**20)  # rounded up, so that the hint is enough
    # Measured on mobilenet-v2 (batch 32): 8 MiB → asked 15,053,984 bytes; 15 MiB → asked
    # 22,394,016. Each limit lets the builder try tactics that may want more, so "at least".
    return (f". The builder asked for {need:,} bytes in one workspace request, more than "
            f"memory.workspace allows: raise it to at least {mib} MiB "
            f"(`memory: {{workspace: {mib}MiB}}`); with more room it may try tactics that "
            "ask for more, so leave headroom (for example 1GiB)")


# Whether a TensorRT call of this process failed (see builder_state_clean).
_BUILDER_FAILED = False


def builder_state_clean() -> bool:
    """Whether no ``build_serialized_network`` call of this process has failed.

    After a failed build, TensorRT-RTX 1.7.1 builds the next engine of the same process
    differently, even with a new logger, builder, network, parser and config (measured:
    mobilenet_v2 for sm75 refused with "FP32 GEMM is not supported", then the same model for
    sm86 is 74 layers and about 8,462,640 bytes, against 56 layers and 7,067,276 bytes in a
    fresh process or after a successful build; a bare script of the same calls does the same:
    bench/after_failure.py; a model the parser refuses changes nothing). Only the next build
    was seen to change, but nothing says what else a failed build leaves behind, so every
    later build of such a process runs in a fresh one (:mod:`trtdoc.build.workers`).
    """
    return not _BUILDER_FAILED


def engine_from_spec(spec: EngineSpec, choice: BackendChoice, model_path: Path,
                     on_event: OnEvent | None = None,
                     custom_domains: Sequence[str] = (),
                     op_histogram: Sequence[tuple[str, int]] = ()) -> BuiltEngine:
    """Parse ``model_path``, apply every spec setting and build one serialised engine.

    ``op_histogram`` (the model's, from :class:`~trtdoc.model.ModelFacts`) lets a builder
    failure trtdoc recognises say what to do next (:func:`trtdoc.refusals.builder_next_step`).
    """
    trt = import_backend(choice.backend)
    messages: list[tuple[str, str]] = []
    try:
        applied = applied_settings(trt, choice.backend, choice.version, spec)
    except BackendUnavailableError as exc:
        raise _build_error(spec, str(exc), (exc.setting or "backend",), messages) from exc
    logger = _make_logger(trt, messages)
    builder = trt.Builder(logger)
    network = builder.create_network(network_creation_flags(trt, applied))
    parser = trt.OnnxParser(network, logger)
    if on_event:
        on_event((spec.name, "phase", "Parsing ONNX", 0, 0))
    # parse_from_file resolves external-data files relative to the model's folder.
    if not parser.parse_from_file(str(model_path)):
        refused = [(e.desc(), e.node_name() or "", e.node_operator() or "")
                   for e in map(parser.get_error, range(parser.num_errors))]
        text = "the ONNX parser failed: " + parser_errors_text(refused)
        if custom_domains:
            text += (f". The model uses ops from custom domain(s) {', '.join(custom_domains)}: "
                     "load a TensorRT plugin for them, or export the model without custom ops")
        raise _build_error(spec, text, ("model",), messages)
    config = builder.create_builder_config()
    defaults = read_settings(trt, choice.backend, config)
    try:
        replay(trt, builder, config, applied)
    except BackendUnavailableError as exc:
        raise _build_error(spec, str(exc), (exc.setting or "backend",), messages) from exc
    if on_event is not None and hasattr(config, "progress_monitor"):
        # Only for someone watching: the monitor calls into Python at every step, and each
        # call waits for the GIL.
        config.progress_monitor = _make_monitor(trt, spec.name, on_event)
    started = time.perf_counter()
    # Nothing Python-heavy may run beside this call: the builder calls the Python logger
    # thousands of times, and each call waits for the GIL (a template-compiling thread made a
    # bert_tiny build 2 s slower).
    global _BUILDER_FAILED
    try:
        plan = builder.build_serialized_network(network, config)
    except BaseException:
        _BUILDER_FAILED = True
        raise
    seconds = time.perf_counter() - started
    if plan is None:
        _BUILDER_FAILED = True
        errors = [m for sev, m in messages if sev in ("ERROR", "INTERNAL_ERROR")]
        text = errors[-1] if errors else "build_serialized_network returned nothing"
        raise _build_error(spec, f"the builder failed: {text}{workspace_hint(messages)}"
                           f"{builder_next_step(errors, op_histogram)}",
                           blame(errors), messages)
    # TensorRT only warns when min or max cannot pass the model's reshapes, yet the engine would
    # then reject exactly the shapes the spec promises; a docs tool must not publish that range.
    inconsistent = [m for sev, m in messages if sev == "WARNING" and "not self-consistent" in m]
    if inconsistent:
        raise _build_error(spec, "the builder says this profile cannot run: "
                           f"{inconsistent[0].strip()}. Narrow min/max to shapes the model "
                           "accepts", ("profiles",), messages)
    effective = read_settings(trt, choice.backend, config)
    return BuiltEngine(memoryview(plan).cast("B").toreadonly(), tuple(messages), seconds,
                       effective, defaults, applied)


def _build_error(spec: EngineSpec, message: str, key: tuple[str | int, ...],
                 messages: Sequence[tuple[str, str]]) -> BuildError:
    from trtdoc.spec.locations import format_key

    return BuildError(message.strip(), engine=spec.name, spec_path=spec.source,
                      setting=format_key(key),
                      details=tuple(f"[{s}] {m}" for s, m in messages))
