"""The build stage: spec → (precision step) → TensorRT build → inspection → record.

One failing spec never stops the others and never overwrites its last good engine, log or
record: everything is written atomically, and only after the whole engine succeeded. A lock
keeps two builds of one output folder apart. Nothing here prints; progress goes to ``on_event``.

Where things are: :mod:`.engine` (the TensorRT call), :mod:`.key` (the build key),
:mod:`.plan` (what a run does with each engine), :mod:`.make` (one engine made, not
published), :mod:`.store` (the content-addressed engine store), :mod:`.publish` (the record as
the commit point), :mod:`.one_engine` (made and published, failures its own), :mod:`.workers`
(``--jobs``), :mod:`.run` (``build_all``), :mod:`.check` (``build --check``), with
:mod:`.precision_step`, :mod:`.state`, :mod:`.orphans`, :mod:`.deferred` and :mod:`.outcome`.
A Ray build (:mod:`trtdoc.ray_build`) plans and publishes through the same functions.
"""

from __future__ import annotations

from trtdoc.build.check import check_records
from trtdoc.build.deferred import Background, Done, Failing, KeyPair, Keys
from trtdoc.build.engine import BuiltEngine, blame, engine_from_spec, workspace_hint
from trtdoc.build.key import build_key
from trtdoc.build.make import REPRODUCE_ATTEMPTS, Made, build_engine_record, make_engine
from trtdoc.build.one_engine import build_and_publish
from trtdoc.build.orphans import orphans
from trtdoc.build.outcome import PUBLISHED, Event, OnEvent, Outcome, RunResult, notify_published
from trtdoc.build.plan import Plan, longest_first, plan_build
from trtdoc.build.precision_step import convert_for_spec, recheck_accuracy
from trtdoc.build.run import build_all, build_lock
from trtdoc.build.state import names_its_engine, record_state
from trtdoc.build.store import Store, store_engine
from trtdoc.paths import OutputPaths

__all__ = [
    "PUBLISHED",
    "REPRODUCE_ATTEMPTS",
    "Background",
    "BuiltEngine",
    "Done",
    "Event",
    "Failing",
    "KeyPair",
    "Keys",
    "Made",
    "OnEvent",
    "Outcome",
    "OutputPaths",
    "Plan",
    "RunResult",
    "Store",
    "blame",
    "build_all",
    "build_and_publish",
    "build_engine_record",
    "build_key",
    "build_lock",
    "check_records",
    "convert_for_spec",
    "engine_from_spec",
    "longest_first",
    "make_engine",
    "names_its_engine",
    "notify_published",
    "orphans",
    "plan_build",
    "recheck_accuracy",
    "record_state",
    "store_engine",
    "workspace_hint",
]
