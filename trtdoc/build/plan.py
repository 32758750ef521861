"""Deciding what a run does with each engine: the plan of one build (backend, build key, the
record it would replace), and the decision that an engine is up to date, only needs its record
updated or its accuracy re-checked, failed already, or must be built."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from trtdoc.backends import BackendChoice, choose_backend
from trtdoc.build.deferred import Background, Done, KeyPair
from trtdoc.build.key import build_key
from trtdoc.build.outcome import Outcome
from trtdoc.build.precision_step import gate_failed, recheck_accuracy
from trtdoc.build.publish import commit_record
from trtdoc.build.state import names_its_engine, previous_record, record_state, spec_view
from trtdoc.build.store import engine_intact
from trtdoc.check import check_specs
from trtdoc.errors import GateError, SpecError, TrtdocError, display_path, os_error_message
from trtdoc.model import model_digest
from trtdoc.paths import OutputPaths
from trtdoc.record.text import dumps
from trtdoc.record.types import EngineRecord
from trtdoc.spec.keys import spec_accuracy_key
from trtdoc.spec.load import LoadedSpec
from trtdoc.spec.section import changed_fields
from trtdoc.values import EngineBackend


@dataclass(frozen=True)
class Plan:
    """One engine to build: its spec, the backend that builds it, its build key and model
    digest (``keys``: known, or being hashed beside the build), and the record it replaces."""

    item: LoadedSpec
    keys: Done[KeyPair] | Background[KeyPair]  # (build key, model digest)
    choice: BackendChoice
    previous: EngineRecord | None

    @property
    def key(self) -> str:
        """The build key (waits for the hashing, and raises its error)."""
        return self.keys.result()[0]

    @property
    def model_sha(self) -> str:
        """The model's digest (waits for the hashing, and raises its error)."""
        return self.keys.result()[1]


def plan_build(item: LoadedSpec, paths: OutputPaths, *, later: bool = False) -> Plan:
    """The plan of one build. With ``later`` (``--force``: the key decides nothing, the record
    only stores it), the model is hashed in a thread while the builder reads the same bytes:
    a 2 GiB model's hash took 1.3 s of a 7.5 s build, in line before it."""
    spec = item.spec
    choice = choose_backend(spec.backend)

    def keys() -> tuple[str, str]:
        model_sha = model_digest(spec.model)
        return build_key(spec, model_sha, choice), model_sha

    # The precision step reads the model too (and hashes it for its cache): no overlap then.
    overlap = later and (spec.precision == "fp32" or spec.precision_method != "model")
    return Plan(item, Background(keys) if overlap else Done(keys()), choice,
                previous_record(paths, spec.name))


def failed_outcome(item: LoadedSpec, message: str) -> Outcome:
    """``item`` failed before building: ``message`` prefixed with its spec file."""
    return Outcome(item.spec.name, "failed", 0.0, f"{display_path(item.spec.source)}: {message}",
                   item.spec.source, stage="build")


def decide(item: LoadedSpec, paths: OutputPaths, force: bool
           ) -> tuple[Outcome | None, Plan | None]:
    """What this run does with one engine: an outcome now (up to date, updated, re-checked,
    failed), or a plan to build it."""
    name = item.spec.name
    try:
        state, why = record_state(paths, name)
        if state == "newer" and not force:
            return failed_outcome(item, f"{why}; or pass --force to rebuild it (the newer "
                                  "record is then kept as records/.history/<name>.<n>.kept)"
                                  ), None
        plan = plan_build(item, paths, later=force)
    except TrtdocError as exc:
        return failed_outcome(item, str(exc)), None
    except OSError as exc:
        folder = Path(exc.filename or paths.records).parent
        return failed_outcome(item, os_error_message(exc, folder, "read")), None
    except (MemoryError, RecursionError, ValueError, OverflowError) as exc:
        return failed_outcome(item, f"cannot plan this build ({type(exc).__name__}); check "
                              "the model file"), None
    prev = plan.previous
    if force or prev is None or prev.build_key != plan.key:
        return None, plan
    if not names_its_engine(prev, paths, item.spec.source):
        return None, plan  # the record names some other file (edited): it is not trusted
    try:
        intact = engine_intact(paths, prev)
    except OSError as exc:
        return failed_outcome(item, os_error_message(exc, paths.out / "engines")), None
    if not intact:
        return None, plan
    view = spec_view(item.spec, paths)
    try:
        if (prev.precision is not None and prev.accuracy is not None
                and prev.accuracy.gate_key != spec_accuracy_key(item.spec)):
            try:
                record, outcome = recheck_accuracy(item, paths, prev)
            except GateError as exc:
                return gate_failed(item, paths, exc, 0.0), None
            paths.gate(name).unlink(missing_ok=True)
            commit_record(paths, name, dumps(record))
            return outcome, None
        # The record's own check is the spec's again (say, a tolerance edit undone): a failed
        # gate of an edit in between no longer applies.
        paths.gate(name).unlink(missing_ok=True)
        if prev.spec != view:
            commit_record(paths, name, dumps(prev.with_spec(view)))
            changed = changed_fields(prev.spec, view)
            note = "; no precision step, so nothing to check" if "accuracy" in changed else ""
            return Outcome(name, "updated", 0.0, f"{', '.join(changed)} only{note}; engine "
                           "unchanged", item.spec.source), None
    except TrtdocError as exc:
        return failed_outcome(item, str(exc)), None
    except OSError as exc:
        return failed_outcome(item, os_error_message(exc, paths.records)), None
    return Outcome(name, "up-to-date", 0.0, "", item.spec.source), None


def likely_backend(good: Sequence[LoadedSpec]) -> EngineBackend:
    """The backend the first spec will most likely build with (for warming workers)."""
    requested = good[0].spec.backend if good else "auto"
    return "tensorrt-rtx" if requested == "auto" else requested


def longest_first(todo: Sequence[Plan]) -> list[Plan]:
    """``todo`` with the longest builds first (as long as they took last time; unknown ones
    count as long), so that no worker or node is left with a long build at the end while the
    others have nothing to do."""
    return sorted(todo, key=lambda p: -(p.previous.build_seconds or 1e9)
                  if p.previous is not None else -1e9)


def unknown_only(only: Sequence[str], good: Sequence[LoadedSpec],
                 spec_errors: Sequence[SpecError]) -> list[Outcome]:
    """``--only`` names no spec defines: an error, or with spec errors a failed outcome each
    (a spec with errors may be the one that defines it)."""
    unknown = sorted(set(only) - {g.spec.name for g in good})
    known = ", ".join(sorted(g.spec.name for g in good)) or "none"
    if unknown and not spec_errors:
        raise TrtdocError(f"--only {', '.join(unknown)}: no such engine in the specs; "
                          f"known: {known}")
    return [Outcome(n, "failed", 0.0, f"--only {n}: no spec that checks defines it (fix the "
                    f"spec problems above, or choose one of: {known})") for n in unknown]


@dataclass(frozen=True)
class Selection:
    """The specs a run covers: every one that checks (``every``, for orphans), the ones
    ``--only`` keeps (``chosen``), the spec errors, and a failed outcome per unknown name."""

    every: list[LoadedSpec]
    chosen: list[LoadedSpec]
    spec_errors: list[SpecError]
    outcomes: list[Outcome]


def select_specs(spec_paths: Sequence[Path], only: Sequence[str]) -> Selection:
    """Check the specs under ``spec_paths`` and keep the ones ``--only`` names (all without
    it); shared by ``build`` and ``build --check`` so both select alike."""
    good, spec_errors = check_specs(spec_paths)
    outcomes: list[Outcome] = []
    chosen = list(good)
    if only:
        outcomes.extend(unknown_only(only, good, spec_errors))
        chosen = [g for g in good if g.spec.name in only]
    return Selection(list(good), chosen, list(spec_errors), outcomes)
