"""The kinds of builder call trtdoc makes: each applies itself and renders itself two ways.

A build is an ordered tuple of :class:`Applied` calls (``builder_config.applied_settings``). Each
kind of call (:data:`Call`) is one :class:`CallKind` object that makes the call on a TensorRT
builder config, writes it as lines of a plain-API Python script and as a ``trtexec`` /
``tensorrt_rtx`` switch (or says that no documented switch sets it). :data:`CALL_KINDS` holds
one per kind, checked at import, so a new kind cannot miss one of the three.

Renderings are total: a value of the wrong type (from a hand-edited record) is quoted or shown
as text, never a crash, and never code in the script a reader copies: names that are not
identifiers are looked up with ``getattr``, values are Python literals or ``repr``s, comments
are one line.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, get_args

from trtdoc.errors import BackendUnavailableError
from trtdoc.render.escape import is_number, one_line, plain, shown


@dataclass(frozen=True)
class Applied:
    """One builder call trtdoc makes, as data.

    The build replays a list of these (:func:`replay`), the record keeps it, and
    ``reproduce.py`` renders the same list as a Python script and as a command line, so the
    three cannot drift apart. ``call`` is one of :data:`CALLS`; ``name`` is the TensorRT enum
    member or attribute it names; ``value`` is JSON-ready.
    """

    __pydantic_config__ = {"extra": "forbid"}  # records are decoded strictly: see record.py

    key: str  # the spec key it comes from
    call: Call
    name: str = ""
    value: Any = None  # decoded from a record, any JSON value


# Every kind of call, in the order the build makes them. The order is also the record schema's.
Call = Literal["network_flag", "profiling_verbosity", "profile", "memory_pool",
               "optimization_level", "compute_capabilities", "hardware_compatibility", "flag"]
CALLS: tuple[Call, ...] = get_args(Call)


@dataclass(frozen=True)
class Rendering:
    """What the calls are rendered for: which tool's command line, and how sizes read."""

    rtx: bool  # tensorrt_rtx rather than trtexec
    size: Callable[[Any], str]  # bytes as a reader sees them (the pages' format_bytes)
    # The first ``profile`` call: a command line carries one profile only.
    first_profile: Applied | None = None


@dataclass(frozen=True)
class Switches:
    """One call on a command line: the switches that make it, or what no switch can set."""

    args: tuple[str, ...] = ()
    unmatched: tuple[str, ...] = ()  # shown in a note that sends the reader to the snippet


# --------------------------------------------------------------------------------------------
# Python literals that are safe to print into a script
# --------------------------------------------------------------------------------------------
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def as_tuple(value: Any) -> tuple[Any, ...]:
    """A list or tuple as a tuple, None as ``()``, anything else as a one-item tuple."""
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def python_literal(value: Any) -> str:
    """A Python literal for ``value`` (``repr`` of plain data is one line and re-parses)."""
    if isinstance(value, (list, tuple)):
        inner = ", ".join(python_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, (str, bool, float)) or value is None:
        return repr(value)
    if isinstance(value, int):
        return plain(value) if len(plain(value)) < 4300 else "None  # too long to print"
    return repr(plain(value))


def python_member(enum: str, name: Any) -> str:
    """``trt.Enum.NAME``, or ``getattr(trt.Enum, '...')`` for a name that is not one."""
    text = plain(name)
    return (f"{enum}.{text}" if _IDENT.fullmatch(text)
            else f"getattr({enum}, {python_literal(text)})")


def _int_literal(value: Any) -> str:
    return python_literal(int(value) if is_number(value) and float(value).is_integer()
                          else value)


def _shapes(value: Any) -> list[tuple[Any, Any, Any, Any]]:
    """``(input, min, opt, max)`` entries of a profile call; malformed ones are left out."""
    return [(e[0], e[1], e[2], e[3]) for e in as_tuple(value)
            if isinstance(e, (list, tuple)) and len(e) == 4]


# --------------------------------------------------------------------------------------------
# The kinds
# --------------------------------------------------------------------------------------------
class CallKind(ABC):
    """One kind of builder call: how it is made, and how it reads as Python and as a switch."""

    call: Call

    @abstractmethod
    def apply(self, trt: Any, builder: Any, config: Any, a: Applied) -> None:
        """Make the call on ``config`` (``builder`` makes what the config is given)."""

    @abstractmethod
    def python(self, a: Applied, how: Rendering) -> tuple[str, ...]:
        """The lines of the build script that make the call on ``config``."""

    @abstractmethod
    def cli(self, a: Applied, how: Rendering) -> Switches:
        """The call on a ``trtexec`` / ``tensorrt_rtx`` line."""

    def creation_flag(self, trt: Any, a: Applied) -> int:
        """Its bits of the ``builder.create_network`` argument (0: it is a config call)."""
        return 0

    def creation_term(self, a: Applied) -> str | None:
        """Its term of ``create_network``'s argument in the script (None: a config call)."""
        return None


class NetworkFlag(CallKind):
    """A ``NetworkDefinitionCreationFlag``: set when the network is made, not on the config."""

    call = "network_flag"

    def apply(self, trt: Any, builder: Any, config: Any, a: Applied) -> None:
        return None  # made by create_network, before the config exists: see creation_flag

    def python(self, a: Applied, how: Rendering) -> tuple[str, ...]:
        return ()  # a term of create_network's argument: see creation_term

    def cli(self, a: Applied, how: Rendering) -> Switches:
        # tensorrt_rtx is always strongly typed: it has no switch for it, and needs none.
        if not how.rtx and plain(a.name) == "STRONGLY_TYPED":
            return Switches(("--stronglyTyped",))
        return Switches()

    def creation_flag(self, trt: Any, a: Applied) -> int:
        return 1 << int(getattr(trt.NetworkDefinitionCreationFlag, a.name))

    def creation_term(self, a: Applied) -> str | None:
        return f"1 << int({python_member('trt.NetworkDefinitionCreationFlag', a.name)})"


class ProfilingVerbosity(CallKind):
    """``config.profiling_verbosity``."""

    call = "profiling_verbosity"

    def apply(self, trt: Any, builder: Any, config: Any, a: Applied) -> None:
        config.profiling_verbosity = getattr(trt.ProfilingVerbosity, a.name)

    def python(self, a: Applied, how: Rendering) -> tuple[str, ...]:
        return (f"config.profiling_verbosity = "
                f"{python_member('trt.ProfilingVerbosity', a.name)}",)

    def cli(self, a: Applied, how: Rendering) -> Switches:
        return Switches((f"--profilingVerbosity={plain(a.name).lower()}",))


class Profile(CallKind):
    """One optimisation profile: ``(input, min, opt, max)`` shapes."""

    call = "profile"

    def apply(self, trt: Any, builder: Any, config: Any, a: Applied) -> None:
        """Raises :class:`BackendUnavailableError` naming the profile the builder rejects."""
        profile = builder.create_optimization_profile()
        for name, lo, opt, hi in a.value:
            profile.set_shape(name, lo, opt, hi)
        if config.add_optimization_profile(profile) < 0:
            raise BackendUnavailableError("this profile was rejected by the builder",
                                          setting=a.key)

    def python(self, a: Applied, how: Rendering) -> tuple[str, ...]:
        lines = ["profile = builder.create_optimization_profile()"]
        lines += [f"profile.set_shape({python_literal(name)}, {python_literal(as_tuple(lo))}, "
                  f"{python_literal(as_tuple(opt))}, {python_literal(as_tuple(hi))})"
                  for name, lo, opt, hi in _shapes(a.value)]
        return (*lines, "config.add_optimization_profile(profile)")

    def cli(self, a: Applied, how: Rendering) -> Switches:
        if a is not how.first_profile:
            return Switches()  # the command's notes say only profile 0 is shown
        return Switches(tuple(
            f"{flag}=" + ",".join(_shape_arg(s[0], s[i]) for s in _shapes(a.value))
            for flag, i in (("--minShapes", 1), ("--optShapes", 2), ("--maxShapes", 3))))


def _shape_arg(name: Any, dims: Sequence[int]) -> str:
    # trtexec splits the spec on ":" and ","; it accepts a name wrapped in single quotes.
    name = plain(name)
    quoted = f"'{name}'" if any(c in name for c in ":,") and "'" not in name else name
    return f"{quoted}:{'x'.join(plain(d) for d in as_tuple(dims))}"


_TRTEXEC_POOLS = {"WORKSPACE": "workspace", "TACTIC_SHARED_MEMORY": "tacticSharedMem"}


class MemoryPool(CallKind):
    """``config.set_memory_pool_limit(MemoryPoolType.<name>, bytes)``."""

    call = "memory_pool"

    def apply(self, trt: Any, builder: Any, config: Any, a: Applied) -> None:
        config.set_memory_pool_limit(getattr(trt.MemoryPoolType, a.name), a.value)

    def python(self, a: Applied, how: Rendering) -> tuple[str, ...]:
        return (f"config.set_memory_pool_limit({python_member('trt.MemoryPoolType', a.name)}, "
                f"{_int_literal(a.value)})  # {one_line(shown(how.size, a.value))}",)

    def cli(self, a: Applied, how: Rendering) -> Switches:
        name = plain(a.name)
        if how.rtx or name not in _TRTEXEC_POOLS or not isinstance(a.value, int) \
                or isinstance(a.value, bool):
            return Switches(unmatched=(f"{plain(a.key)} ({shown(how.size, a.value)})",))
        mib, rest = divmod(int(a.value), 1 << 20)
        size = f"{mib}M" if not rest else f"{int(a.value) // 1024}K"
        return Switches((f"--memPoolSize={_TRTEXEC_POOLS[name]}:{size}",))


class OptimizationLevel(CallKind):
    """``config.builder_optimization_level``."""

    call = "optimization_level"

    def apply(self, trt: Any, builder: Any, config: Any, a: Applied) -> None:
        config.builder_optimization_level = a.value

    def python(self, a: Applied, how: Rendering) -> tuple[str, ...]:
        return (f"config.builder_optimization_level = {_int_literal(a.value)}",)

    def cli(self, a: Applied, how: Rendering) -> Switches:
        if how.rtx:
            return Switches(unmatched=(f"optimization level ({plain(a.value)})",))
        return Switches((f"--builderOptimizationLevel={_int_literal(a.value)}",))


class ComputeCapabilities(CallKind):
    """The GPUs a TensorRT-RTX engine is compiled for (``ComputeCapability.SM89``, ...)."""

    call = "compute_capabilities"

    def apply(self, trt: Any, builder: Any, config: Any, a: Applied) -> None:
        config.num_compute_capabilities = len(a.value)
        for i, target in enumerate(a.value):
            config.set_compute_capability(getattr(trt.ComputeCapability, target.upper()), i)

    def python(self, a: Applied, how: Rendering) -> tuple[str, ...]:
        targets = as_tuple(a.value)
        return (f"config.num_compute_capabilities = {len(targets)}", *(
            f"config.set_compute_capability("
            f"{python_member('trt.ComputeCapability', plain(t).upper())}, {i})"
            for i, t in enumerate(targets)))

    def cli(self, a: Applied, how: Rendering) -> Switches:
        return Switches(("--computeCapabilities="
                         + ",".join(plain(t)[2:] for t in as_tuple(a.value)),))


_TRTEXEC_HARDWARE = {"AMPERE_PLUS": "ampere+", "SAME_COMPUTE_CAPABILITY": "sameComputeCapability"}


class HardwareCompatibility(CallKind):
    """``config.hardware_compatibility_level`` (full TensorRT)."""

    call = "hardware_compatibility"

    def apply(self, trt: Any, builder: Any, config: Any, a: Applied) -> None:
        config.hardware_compatibility_level = getattr(trt.HardwareCompatibilityLevel, a.name)

    def python(self, a: Applied, how: Rendering) -> tuple[str, ...]:
        level = python_member("trt.HardwareCompatibilityLevel", a.name)
        return (f"config.hardware_compatibility_level = {level}",)

    def cli(self, a: Applied, how: Rendering) -> Switches:
        name = plain(a.name)
        level = _TRTEXEC_HARDWARE.get(name)
        if level is None:
            return Switches(unmatched=(f"HardwareCompatibilityLevel.{name}",))
        return Switches((f"--hardwareCompatibilityLevel={level}",))


# BuilderFlag members with a documented trtexec switch.
_TRTEXEC_FLAGS = {
    "VERSION_COMPATIBLE": "--versionCompatible", "FP16": "--fp16", "BF16": "--bf16",
    "INT8": "--int8", "FP8": "--fp8", "REFIT": "--refit", "WEIGHT_STREAMING": "--weightStreaming",
    "SPARSE_WEIGHTS": "--sparsity=enable", "DIRECT_IO": "--directIO",
}


class Flag(CallKind):
    """``config.set_flag(BuilderFlag.<name>)``."""

    call = "flag"

    def apply(self, trt: Any, builder: Any, config: Any, a: Applied) -> None:
        config.set_flag(getattr(trt.BuilderFlag, a.name))

    def python(self, a: Applied, how: Rendering) -> tuple[str, ...]:
        return (f"config.set_flag({python_member('trt.BuilderFlag', a.name)})",)

    def cli(self, a: Applied, how: Rendering) -> Switches:
        name = plain(a.name)
        switch = None if how.rtx else _TRTEXEC_FLAGS.get(name)
        if switch is None:
            return Switches(unmatched=(f"BuilderFlag.{name}",))
        return Switches((switch,))


CALL_KINDS: Mapping[Call, CallKind] = MappingProxyType({k.call: k for k in (
    NetworkFlag(), ProfilingVerbosity(), Profile(), MemoryPool(), OptimizationLevel(),
    ComputeCapabilities(), HardwareCompatibility(), Flag())})
if tuple(CALL_KINDS) != CALLS:  # a kind added to Call needs its object, in the same order
    raise AssertionError(f"CALL_KINDS {tuple(CALL_KINDS)} does not match Call {CALLS}")


def kind_of(a: Applied) -> CallKind | None:
    """The kind of ``a``, or None for a call no kind knows (never in a strictly read record,
    but renderings stay total on a hand-made one: its ``call`` may even be a list)."""
    return CALL_KINDS.get(a.call) if isinstance(a.call, str) else None


def network_creation_flags(trt: Any, applied: tuple[Applied, ...]) -> int:
    """The ``builder.create_network`` argument the ``network_flag`` entries make."""
    flags = 0
    for a in applied:
        kind = kind_of(a)
        if kind is not None:
            flags |= kind.creation_flag(trt, a)
    return flags


def replay(trt: Any, builder: Any, config: Any, applied: tuple[Applied, ...]) -> None:
    """Make every config call in ``applied`` (network flags are set when the network is made).

    Raises :class:`BackendUnavailableError` naming the profile the builder rejects.
    """
    for a in applied:
        kind = kind_of(a)
        if kind is not None:
            kind.apply(trt, builder, config, a)


__all__ = ["CALLS", "CALL_KINDS", "Applied", "Call", "CallKind", "Rendering", "Switches",
           "as_tuple", "kind_of", "network_creation_flags", "python_literal", "python_member",
           "replay"]
