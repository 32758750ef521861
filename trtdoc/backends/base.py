"""What differs between TensorRT flavours, behind one small interface.

Everything the two flavours share (network, parser, profiles, memory pools, optimisation
level, flags, progress monitor) is in ``trtdoc/builder_config.py`` and ``trtdoc/build.py``.
"""

from __future__ import annotations

from typing import Any

from trtdoc.spec import EngineSpec


class Backend:
    """One TensorRT flavour. Subclasses override only what their API lacks or adds."""

    name = ""
    display = ""
    module_name = ""
    distributions: tuple[str, ...] = ()
    install_hint = ""
    # Spec keys this flavour cannot honour, with the reason shown to the user.
    unsupported: dict[str, str] = {}

    def network_flags(self, trt: Any, spec: EngineSpec) -> int:
        """Creation flags for ``builder.create_network``."""
        return 0

    def apply_targets(self, trt: Any, config: Any, spec: EngineSpec) -> None:
        """Set which GPUs the engine is compiled for."""

    def read_targets(self, trt: Any, config: Any) -> tuple[str, ...]:
        """The compute capabilities the config will compile for, read back."""
        return ()

    def apply_compatibility(self, trt: Any, config: Any, spec: EngineSpec) -> None:
        """Set hardware compatibility (full TensorRT only)."""

    def read_compatibility(self, trt: Any, config: Any) -> str | None:
        """Hardware compatibility level as read back, or None where the flavour has none."""
        return None

    def apply_precision_flags(self, trt: Any, config: Any, spec: EngineSpec,
                              version: str) -> None:
        """Weakly-typed precision flags (TensorRT <= 10 only)."""
