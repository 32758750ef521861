"""Where a spec value becomes a TensorRT builder setting, and how it is read back.

Both TensorRT flavours share this code; what differs is asked of the ``Backend``. Features are
detected by presence (``hasattr``), never by version number, and a missing one is reported as
"X is not available in <flavour> <version>". What each kind of call does to the builder, and
how it reads as Python and as a command line, is in ``builder_calls.py``; how each setting
reads on a page is in ``parameters.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from trtdoc.backends.base import Backend
from trtdoc.builder.calls import Applied, replay
from trtdoc.errors import BackendUnavailableError
from trtdoc.spec.types import EngineSpec
from trtdoc.values import QUANTIZED

# Rows of the parameter table, in page order. Each is a spec key as the user writes it.
SETTING_KEYS = (
    "backend", "precision", "precision_method", "profiles", "memory.workspace",
    "memory.tactic_shared_memory", "optimization_level", "targets", "hardware_compatibility",
    "version_compatible", "flags", "profiling_verbosity",
)

# What a spec key holds when the spec does not set it ("none", "model", ...).
_SPEC_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(EngineSpec)}


@dataclass(frozen=True)
class Setting:
    """One builder setting: what the config held after trtdoc set it, and before."""

    __pydantic_config__ = {"extra": "forbid"}  # records are decoded strictly: see record.py

    key: str
    effective: Any  # decoded from a record, any JSON value
    default: Any


def _unavailable(what: str, backend: Backend, version: str, hint: str = "", *,
                 setting: str) -> BackendUnavailableError:
    text = f"{what} is not available in {backend.display} {version}"
    return BackendUnavailableError(f"{text}; {hint}" if hint else text, setting=setting)


def _pool(trt: Any, name: str) -> Any:
    return getattr(trt.MemoryPoolType, name, None)


def read_settings(trt: Any, backend: Backend, config: Any) -> dict[str, Any]:
    """Read every setting of ``config`` that a page shows, as JSON-ready values."""
    out: dict[str, Any] = {}
    workspace = _pool(trt, "WORKSPACE")
    out["memory.workspace"] = (int(config.get_memory_pool_limit(workspace))
                               if workspace is not None else None)
    shared = _pool(trt, "TACTIC_SHARED_MEMORY")
    out["memory.tactic_shared_memory"] = (int(config.get_memory_pool_limit(shared))
                                          if shared is not None else None)
    out["optimization_level"] = int(getattr(config, "builder_optimization_level", -1))
    out["targets"] = list(backend.read_targets(trt, config))
    out["hardware_compatibility"] = backend.read_compatibility(trt, config)
    flag = getattr(trt.BuilderFlag, "VERSION_COMPATIBLE", None)
    out["version_compatible"] = bool(config.get_flag(flag)) if flag is not None else None
    out["flags"] = sorted(
        name.lower() for name in dir(trt.BuilderFlag)
        if name.isupper() and config.get_flag(getattr(trt.BuilderFlag, name))
    )
    out["profiling_verbosity"] = config.profiling_verbosity.name
    out["profiles"] = int(config.num_optimization_profiles)
    return out


def applied_settings(trt: Any, backend: Backend, version: str,
                     spec: EngineSpec) -> tuple[Applied, ...]:
    """The ordered builder calls ``spec`` becomes with this TensorRT, checked for presence.

    Raises :class:`BackendUnavailableError` naming the setting and the backend version when the
    installed TensorRT lacks something the spec asks for.
    """
    for key, why in backend.unsupported.items():
        value = getattr(spec, key)
        if value and value != _SPEC_DEFAULTS[key]:  # set, and not to its default
            raise BackendUnavailableError(why, setting=key)

    out: list[Applied] = [Applied("precision_method", "network_flag", name)
                          for name in backend.network_flag_names(trt, spec)]
    # Always DETAILED: the per-layer information on every page comes from it.
    out.append(Applied("profiling_verbosity", "profiling_verbosity", "DETAILED"))

    for i, profile in enumerate(spec.profiles):
        out.append(Applied(f"profiles[{i}]", "profile", value=[
            [name, list(rng.min), list(rng.opt), list(rng.max)] for name, rng in profile.shapes]))

    for key, pool_name, value in (("memory.workspace", "WORKSPACE", spec.workspace),
                                  ("memory.tactic_shared_memory", "TACTIC_SHARED_MEMORY",
                                   spec.tactic_shared_memory)):
        if value is None:
            continue
        if _pool(trt, pool_name) is None:
            raise _unavailable(f"{key} (MemoryPoolType.{pool_name})", backend, version,
                               setting=key)
        out.append(Applied(key, "memory_pool", pool_name, int(value)))

    if spec.optimization_level is not None:
        if not hasattr(trt.IBuilderConfig, "builder_optimization_level"):
            raise _unavailable("optimization_level", backend, version,
                               setting="optimization_level")
        out.append(Applied("optimization_level", "optimization_level",
                           "builder_optimization_level", spec.optimization_level))

    if spec.targets:
        out.extend(backend.target_settings(trt, spec, version))

    out.extend(backend.compatibility_settings(trt, spec))

    if spec.version_compatible:
        if not hasattr(trt.BuilderFlag, "VERSION_COMPATIBLE"):
            raise _unavailable("version_compatible", backend, version,
                               setting="version_compatible")
        out.append(Applied("version_compatible", "flag", "VERSION_COMPATIBLE"))

    for name in spec.flags:
        if getattr(trt.BuilderFlag, name.upper(), None) is None:
            raise _unavailable(f"BuilderFlag.{name.upper()}", backend, version,
                               "remove it from `flags`", setting="flags")
        out.append(Applied("flags", "flag", name.upper()))

    if spec.precision_method == "builder_flags" and spec.precision in QUANTIZED:
        raise BackendUnavailableError(
            f"precision_method builder_flags: implicit {spec.precision} calibration "
            "(IInt8Calibrator) is deprecated since TensorRT 10.1 and gone in 11; use "
            "`precision_method: model`, which inserts calibrated Q/DQ nodes",
            setting="precision_method")
    out.extend(backend.precision_flag_settings(trt, spec, version))
    return tuple(out)


def apply_spec(trt: Any, backend: Backend, version: str, builder: Any, network: Any,
               config: Any, spec: EngineSpec) -> tuple[Applied, ...]:
    """Plan the calls for ``spec`` and make them on ``config``; returns what was applied."""
    applied = applied_settings(trt, backend, version, spec)
    replay(trt, builder, config, applied)
    return applied


def settings_table(spec: EngineSpec, backend_name: str, effective: dict[str, Any],
                   defaults: dict[str, Any]) -> tuple[Setting, ...]:
    """Pair the read-back values with the defaults, one ``Setting`` per row key."""
    effective = {**effective, "backend": backend_name, "precision": spec.precision,
                 "precision_method": spec.precision_method}
    # backend and precision_method are trtdoc's choices, not TensorRT settings: no default.
    # Without a precision step or flags TensorRT builds the model's own (fp32) types.
    defaults = {**defaults, "backend": None, "precision": "fp32",
                "precision_method": None, "profiles": 0}
    return tuple(Setting(k, effective.get(k), defaults.get(k)) for k in SETTING_KEYS)

