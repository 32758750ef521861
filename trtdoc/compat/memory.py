"""Will it fit? An engine's device-memory budget against a deployment target's memory.

One instance of an engine needs its weights, its activation memory (the build log's total,
the largest over its optimisation profiles), its device-persistent memory, and the rest of the
plan (the engine file beyond its weights: kernels and metadata, loaded onto the device with
it). Each instance counts in full (an execution context per engine copy, as a Triton
``instance_group`` of N gives N). The target's memory is its ``memory:`` in deploy.yaml where
given (what the engine may use there), else the GPU's memory from its datasheet row
(:mod:`trtdoc.cost.gpus`); without either, nothing is said.
"""

from __future__ import annotations

from dataclasses import dataclass

from trtdoc.record.types import EngineRecord

MIB = 1 << 20


@dataclass(frozen=True)
class Budget:
    """One instance's device memory, in bytes, part by part."""

    weights: int
    activation: int
    persistent: int
    rest: int  # the plan beyond its weights

    @property
    def total(self) -> int:
        return self.weights + self.activation + self.persistent + self.rest

    def parts(self) -> str:
        """``weights 3.2 MiB + activation 20.6 MiB + persistent 0 B + rest of the plan ...``"""
        return (f"weights {size_text(self.weights)} + activation {size_text(self.activation)}"
                f" + persistent {size_text(self.persistent)} + rest of the plan "
                f"{size_text(self.rest)}")


def size_text(n: int) -> str:
    """Bytes in words a reader checks against nvidia-smi: ``45.2 MiB``, ``1,024 B``."""
    for unit, size in (("GiB", 1 << 30), ("MiB", MIB), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,} B"


def budget_from_record(record: EngineRecord) -> Budget | None:
    """The budget of one instance; None when the record lacks the weights or activation
    totals (an import without a build log)."""
    memory = record.inspection.memory
    weights = memory.weights
    if weights is None and record.header is not None:
        weights = record.header.weights_bytes
    if weights is None or memory.activation is None:
        return None
    plan = record.engine_bytes
    rest = max(plan - weights, 0) if isinstance(plan, int) else 0
    return Budget(weights=weights, activation=memory.activation,
                  persistent=memory.device_persistent or 0, rest=rest)


def instances_that_fit(budget: Budget, capacity: int) -> int:
    """How many instances of ``budget`` fit in ``capacity`` bytes."""
    return capacity // budget.total if budget.total > 0 else 0
