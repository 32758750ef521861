"""What differs between TensorRT flavours, behind one small interface.

Everything the two flavours share (network, parser, profiles, memory pools, optimisation
level, flags, progress monitor) is in ``trtdoc/builder_config.py`` and ``trtdoc/build.py``;
the builder calls themselves, as data, are in ``trtdoc/builder_calls.py``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from trtdoc.builder.calls import Applied
from trtdoc.spec.types import EngineSpec
from trtdoc.values import EngineBackend, HardwareCompatibility


class Backend:
    """One TensorRT flavour. Subclasses override only what their API lacks or adds."""

    name: ClassVar[EngineBackend]  # each subclass names its flavour
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

    def read_compatibility(self, trt: Any, config: Any) -> HardwareCompatibility | None:
        """Hardware compatibility level as read back, or None where the flavour has none."""
        return None

    def precision_flag_settings(self, trt: Any, spec: EngineSpec,
                                version: str) -> tuple[Applied, ...]:
        """Weakly-typed precision flags (TensorRT <= 10 only)."""
        return ()
