"""Deployment verdicts as pages show them (``--deploy deploy.yaml``): every deployed (engine,
target) pair through ``compat.verdicts``, numbered for the notes under the compatibility table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from trtdoc.compat import verdicts
from trtdoc.compat.data import RULES
from trtdoc.compat.deploy import Deployment, Target
from trtdoc.record.types import EngineRecord
from trtdoc.render.escape import one_line
from trtdoc.render.tolerant import BAD_VALUE, name_key
from trtdoc.triton import remake_advice


@dataclass(frozen=True)
class DeployedPair:
    """One (engine, target) pair the deployment file deploys, with its numbered note."""

    target: Target
    verdict: verdicts.Verdict
    note: int  # its number in the notes under the compatibility table (1, 2...)

    @property
    def hover(self) -> str:
        """The cell's hover text: the verdict, why, and the fix (escaped by ``attr``)."""
        fix = f" Fix: {self.verdict.fix}." if self.verdict.fix else ""
        return f"{self.verdict.verdict}: {self.verdict.reason}.{fix}"

    @property
    def others(self) -> tuple[verdicts.Check, ...]:
        """The other checks that fail or cannot tell: the "(and N more)" of the reason."""
        deciding = next((c for c in self.verdict.checks if c.rule == self.verdict.rule
                         and c.outcome == self.verdict.verdict), None)
        return tuple(c for c in self.verdict.checks
                     if c is not deciding and c.outcome != verdicts.RUNS)

    @property
    def rules(self) -> tuple[str, ...]:
        """The deciding rule; for a pair that runs (rule ``all``), every rule that was checked."""
        if self.verdict.rule == "all":
            return tuple(dict.fromkeys(c.rule for c in self.verdict.checks)) or ("all",)
        return (self.verdict.rule,)

    @property
    def rule_says(self) -> str:
        """What the deciding rule says; "" for a pair that runs or a rule ``data.py`` lacks."""
        rule = RULES.get(self.verdict.rule)
        return rule.says if rule is not None else ""


@dataclass(frozen=True)
class DeploymentView:
    """The deployment as the pages show it: targets in file order, engines by name."""

    file: str  # the deployment file's name, not its path: pages do not depend on the checkout
    targets: tuple[Target, ...]
    rows: tuple[tuple[str, tuple[DeployedPair | None, ...]], ...]  # engine, one per target
    notes: tuple[DeployedPair, ...]  # in table order: row by row, left to right
    counts: tuple[tuple[str, str, int], ...]  # (outcome, glyph, pairs), every outcome

    def of(self, engine: str) -> tuple[DeployedPair, ...]:
        """The pairs of one engine, in target order."""
        for name, cells in self.rows:
            if name == engine:
                return tuple(c for c in cells if c is not None)
        return ()


def _unknown_verdict(record: EngineRecord, target: Target) -> verdicts.Verdict:
    why = "not known: the record holds a value of the wrong type"
    return verdicts.Verdict(target.name, name_key(record), verdicts.UNKNOWN, "record", why,
                            remake_advice(record), ())


def _record_verdicts(record: EngineRecord, targets: Sequence[Target]
                     ) -> dict[str, verdicts.Verdict]:
    """Target name → verdict, for the targets that deploy ``record``.

    A record whose facts have the wrong type (built or edited around the decoder) gets
    ``unknown`` on every target whose patterns name it, rather than no row or a crash.
    """
    name = name_key(record)
    try:
        plan = verdicts.Plan.from_record(record)
        pairs = verdicts.deployed_pairs([plan], targets)
    except BAD_VALUE:
        return {t.name: _unknown_verdict(record, t) for t in targets if t.deploys(name)}
    out = {}
    for p, t in pairs:
        try:
            out[t.name] = verdicts.evaluate(p, t)
        except BAD_VALUE:
            out[t.name] = _unknown_verdict(record, t)
    return out


def deployment_view(records: Sequence[EngineRecord], deployment: Deployment) -> DeploymentView:
    """Every deployed (engine, target) pair through ``verdicts.evaluate``, ready to show."""
    targets = tuple(deployment.targets)
    rows: list[tuple[str, tuple[DeployedPair | None, ...]]] = []
    notes: list[DeployedPair] = []
    for record in sorted(records, key=name_key):
        found = _record_verdicts(record, targets)
        cells: list[DeployedPair | None] = []
        for t in targets:
            v = found.get(t.name)
            if v is None:
                cells.append(None)
                continue
            pair = DeployedPair(t, v, len(notes) + 1)
            notes.append(pair)
            cells.append(pair)
        rows.append((name_key(record), tuple(cells)))
    counted = Counter(p.verdict.verdict for p in notes)
    counts = tuple((o, g, counted.get(o, 0)) for o, g in verdicts.GLYPHS.items())
    return DeploymentView(one_line(Path(deployment.path).name), targets, tuple(rows),
                          tuple(notes), counts)
