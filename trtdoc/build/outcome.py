"""What a build run reports: progress events, one :class:`Outcome` per engine, the run's result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from trtdoc.errors import SpecError
from trtdoc.precision.accuracy import AccuracyReport
from trtdoc.record.types import EngineRecord

# (engine, kind, text, step, total). Kinds: "phase" and "step" of one engine's build;
# "planned" ("", "planned", "", 0, engines to build) once a run knows how many engines it
# builds; "done" (engine, "done", status, 0, 0) when an engine's outcome is known.
Event = tuple[str, str, str, int, int]
OnEvent = Callable[[Event], None]

# The statuses of an outcome that published a new record (the pages may follow it).
PUBLISHED = ("built", "reproduced")


@dataclass(frozen=True)
class Outcome:
    """What happened to one engine in a run."""

    name: str
    status: str  # built | up-to-date | updated | failed
    seconds: float = 0.0
    message: str = ""
    spec_path: Path | None = None
    # Stored engines this run wrote or replaced that this engine's record does not name (any
    # other record may still): deleted at the end of the run if none does.
    released: tuple[str, ...] = ()
    # Times the build was run again because the machine building it failed (``--ray``).
    node_retries: int = 0
    # A failed spec's stage (check | conversion | accuracy | build); empty for an outcome that
    # is no spec's failure (``--only`` naming no engine, an orphaned record).
    stage: str = ""
    # Accuracy figures measured before a later stage failed (the builder, after the gate).
    figures: AccuracyReport | None = None

    @property
    def published(self) -> bool:
        """Whether this engine's record was replaced by a build (see :data:`PUBLISHED`)."""
        return self.status in PUBLISHED


@dataclass(frozen=True)
class RunResult:
    """What ``build`` or ``build --check`` found: every engine's outcome and the spec errors."""

    outcomes: tuple[Outcome, ...]
    spec_errors: tuple[SpecError, ...] = ()
    would_change: tuple[Path, ...] = ()
    # ``build --check``: the records as a build would leave them, where that is known without
    # building (documentation edits applied, removed records left out); None for a build.
    expected: tuple[EngineRecord, ...] | None = None
    # ``build --check``: engines whose record a build would replace with one not known yet.
    rebuilt: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return bool(self.spec_errors) or any(o.status == "failed" for o in self.outcomes)


def notify_published(on_published: Callable[[], None] | None, outcome: Outcome) -> Outcome:
    """Call ``on_published`` if ``outcome`` published its engine; return ``outcome``."""
    if on_published is not None and outcome.published:
        on_published()
    return outcome


def notify_done(on_event: OnEvent | None, outcome: Outcome) -> Outcome:
    """Send ``on_event`` the "done" event of ``outcome``'s engine; return ``outcome``."""
    if on_event is not None:
        on_event((outcome.name, "done", outcome.status, 0, 0))
    return outcome
