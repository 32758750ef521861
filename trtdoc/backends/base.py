"""What differs between TensorRT flavours, behind one small interface.

Everything the two flavours share (network, parser, profiles, memory pools, optimisation
level, flags, progress monitor) is in ``trtdoc/builder_config.py`` and ``trtdoc/build.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from trtdoc.spec import EngineSpec


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


# Every kind of call, in the order the build makes them.
Call = Literal["network_flag", "profiling_verbosity", "profile", "memory_pool",
               "optimization_level", "compute_capabilities", "hardware_compatibility", "flag"]
CALLS: tuple[str, ...] = get_args(Call)


class Backend:
    """One TensorRT flavour. Subclasses override only what their API lacks or adds."""

    name = ""
    display = ""
    module_name = ""
    distributions: tuple[str, ...] = ()
    install_hint = ""
    # Spec keys this flavour cannot honour, with the reason shown to the user.
    unsupported: dict[str, str] = {}

    def network_flag_names(self, trt: Any, spec: EngineSpec) -> tuple[str, ...]:
        """``NetworkDefinitionCreationFlag`` members for ``builder.create_network``."""
        return ()

    def target_settings(self, trt: Any, spec: EngineSpec, version: str) -> tuple[Applied, ...]:
        """Which GPUs the engine is compiled for."""
        return ()

    def read_targets(self, trt: Any, config: Any) -> tuple[str, ...]:
        """The compute capabilities the config will compile for, read back."""
        return ()

    def compatibility_settings(self, trt: Any, spec: EngineSpec) -> tuple[Applied, ...]:
        """Hardware compatibility (full TensorRT only)."""
        return ()

    def read_compatibility(self, trt: Any, config: Any) -> str | None:
        """Hardware compatibility level as read back, or None where the flavour has none."""
        return None

    def precision_flag_settings(self, trt: Any, spec: EngineSpec,
                                version: str) -> tuple[Applied, ...]:
        """Weakly-typed precision flags (TensorRT <= 10 only)."""
        return ()
