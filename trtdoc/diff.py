"""What changed between two records of one engine: the one comparison behind ``trtdoc diff``
and the site's "What changed" page.

The build keeps the record it is about to replace as ``records/.history/<name>.json`` (see
:func:`history_path`); the page compares each engine's record with that one, and
``trtdoc diff`` compares two record files, or the records folder with the same folder at a git
ref (:func:`records_at_ref`, read with ``git show``, no checkout).

Layers are aligned by the ONNX nodes they implement (``Layer.fused``), not by name: Myelin
names its generated layers with running numbers (``__myl_Tran_myl1_12``, ``__mye9813_0``),
so one extra node renames every layer after it although none of them changed. Layers that
implement no node (reformats, shape calls, generated copies) are aligned by type and by the
aligned layer they follow. An aligned pair is a change only when its type, precision, tactic
or nodes differ; a new name alone is counted as a rename, not a change. Build time and the
engine's sha256 are shown but are not changes: the time varies from run to run and the bytes
may too, while everything the record describes stays the same.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from trtdoc.errors import RecordError, TrtdocError, display_path
from trtdoc.inspect import IOTensor, Layer
from trtdoc.parameters import (
    format_bytes_exact,
    format_seconds,
    format_shape,
    format_value,
)
from trtdoc.record import MAX_RECORD_BYTES, EngineRecord, read_record, record_from_json

HISTORY_DIR = ".history"

Status = Literal["changed", "unchanged", "new", "removed"]


@dataclass(frozen=True)
class Change:
    """One quantity that differs: what, before, after (as page text), and by how much.

    ``counts`` is False for a difference that is not a change of the build: the build time
    (it varies from run to run) and the engine's sha256 (a rebuild may write other bytes for
    the same layers).
    """

    what: str
    old: str
    new: str
    delta: str = ""
    counts: bool = True


@dataclass(frozen=True)
class LayerChange:
    """One engine layer that changed, appeared or went, with what differs.

    ``name`` is the layer's name in the new build (the old one for a removed layer), and
    ``nodes`` the ONNX nodes it implements there. ``changes`` has one :class:`Change` per
    attribute that differs: ``type``, ``precision``, ``tactic``, ``kernel`` (a Myelin kernel
    generated again for the same fusion, with a new code hash) and ``nodes``.
    """

    status: Literal["changed", "added", "removed"]
    name: str
    type: str
    nodes: tuple[str, ...]
    profile: int
    changes: tuple[Change, ...] = ()
    old_name: str = ""

    @property
    def first_node(self) -> str:
        return self.nodes[0] if self.nodes else ""

    @property
    def more_nodes(self) -> int:
        """How many nodes besides :attr:`first_node`."""
        return max(len(self.nodes) - 1, 0)


@dataclass(frozen=True)
class Changes:
    """Everything that differs between ``old`` and ``new`` records of one engine.

    ``status`` is ``new`` (no old record) or ``removed`` (no new one) for an engine on one
    side only; every tuple is empty then.
    """

    engine: str
    old_key: str
    new_key: str
    summary: tuple[Change, ...]  # size, memory, layer count, backend, model; build time, sha256
    settings: tuple[Change, ...]
    precision_mix: tuple[Change, ...]
    layer_types: tuple[Change, ...]
    profiles: tuple[Change, ...] = ()  # min/opt/max per input and profile, I/O types and shapes
    accuracy: tuple[Change, ...] = ()
    findings_added: tuple[str, ...] = ()
    findings_removed: tuple[str, ...] = ()
    layers: tuple[LayerChange, ...] = ()
    renamed: int = 0  # aligned layers with a new name and nothing else new
    status_override: Status | None = field(default=None, repr=False)

    @property
    def empty(self) -> bool:
        """Nothing changed (build time and the engine's sha256 aside: see :class:`Change`)."""
        return not (any(c.counts for c in self.summary) or self.settings or self.profiles
                    or self.precision_mix or self.layer_types or self.accuracy
                    or self.findings_added or self.findings_removed or self.layers)

    @property
    def status(self) -> Status:
        if self.status_override is not None:
            return self.status_override
        return "unchanged" if self.empty else "changed"

    @property
    def notes(self) -> tuple[Change, ...]:
        """The differences that are not changes (build time, engine sha256)."""
        return tuple(c for c in self.summary if not c.counts)

    @property
    def headline(self) -> tuple[str, ...]:
        """What changed in a few phrases (see :func:`headline`)."""
        return headline(self)

    @property
    def layer_summary(self) -> str:
        """``"54 precision, 1 tactic, 2 removed"``: :meth:`layer_counts` as words."""
        return ", ".join(f"{n} {_LAYER_WORDS[k]}" for k, n in self.layer_counts())

    def layer_counts(self) -> tuple[tuple[str, int], ...]:
        """``(kind, layers)``: how many layers changed each attribute, and were added/removed,
        in a fixed order, kinds with no layer left out."""
        counts: Counter[str] = Counter()
        for layer in self.layers:
            if layer.status != "changed":
                counts[layer.status] += 1
            for c in layer.changes:
                counts[c.what] += 1
        return tuple((k, counts[k]) for k in _LAYER_KINDS if counts[k])


_LAYER_KINDS = ("precision", "type", "tactic", "kernel", "nodes", "added", "removed")


# --------------------------------------------------------------------------------------------
# Record-level comparison
# --------------------------------------------------------------------------------------------
def _pct(old: float, new: float) -> str:
    if old == 0:
        return ""
    return f"{(new - old) / old * 100:+.1f}%"


def _number_change(what: str, old: float | int | None, new: float | int | None,
                   fmt: Callable[[Any], str], *, counts: bool = True) -> Change | None:
    if old == new:
        return None
    delta = ""
    if old is not None and new is not None:
        delta = _pct(float(old), float(new))
    return Change(what, fmt(old), fmt(new), delta, counts)


def _counter_changes(old: Counter[str], new: Counter[str]) -> tuple[Change, ...]:
    out = []
    for key in sorted(set(old) | set(new)):
        if old[key] != new[key]:
            out.append(Change(key, str(old[key]), str(new[key]), f"{new[key] - old[key]:+d}"))
    return tuple(out)


def _summary(old: EngineRecord, new: EngineRecord) -> tuple[Change, ...]:
    rows = [
        _number_change("engine size", old.engine_bytes, new.engine_bytes, format_bytes_exact),
        _number_change("engine layers", len(old.inspection.layers), len(new.inspection.layers),
                       lambda n: f"{n:,}"),
    ]
    for name in ("weights", "activation", "scratch", "host_persistent", "device_persistent"):
        rows.append(_number_change(
            f"{name.replace('_', ' ')} memory", getattr(old.inspection.memory, name),
            getattr(new.inspection.memory, name), format_bytes_exact))
    if ((old.backend, old.backend_version, old.backend_cuda)
            != (new.backend, new.backend_version, new.backend_cuda)):
        rows.append(Change("backend", _backend(old), _backend(new)))
    if old.model_sha256 != new.model_sha256:
        rows.append(Change("model sha256", old.model_sha256[:12], new.model_sha256[:12]))
    if old.model is not None and new.model is not None:
        rows.append(_number_change("model nodes", old.model.nodes, new.model.nodes,
                                   lambda n: f"{n:,}"))
        rows.extend(Change(f"model {c.what} nodes", c.old, c.new, c.delta) for c in
                    _counter_changes(Counter(dict(old.model.op_histogram)),
                                     Counter(dict(new.model.op_histogram))))
        rows.append(_number_change("model parameters", old.model.parameters,
                                   new.model.parameters, lambda n: f"{n:,}"))
    # Not changes of the build (see Change.counts), shown after the ones that are.
    rows.append(_number_change("build time", old.build_seconds, new.build_seconds,
                               format_seconds, counts=False))
    if old.engine_sha256 != new.engine_sha256:
        rows.append(Change("engine sha256", (old.engine_sha256 or "")[:12],
                           (new.engine_sha256 or "")[:12], counts=False))
    return tuple(c for c in rows if c is not None)


def _backend(record: EngineRecord) -> str:
    cuda = f" (CUDA {record.backend_cuda})" if record.backend_cuda else ""
    return f"{record.backend} {record.backend_version}{cuda}"


def _settings(old: EngineRecord, new: EngineRecord) -> tuple[Change, ...]:
    """The read-back settings by key, then any builder call whose key no setting has."""
    old_settings = {s.key: s.effective for s in old.settings}
    new_settings = {s.key: s.effective for s in new.settings}
    out = [Change(key, format_value(key, old_settings.get(key)),
                  format_value(key, new_settings.get(key)))
           for key in sorted(set(old_settings) | set(new_settings))
           if old_settings.get(key) != new_settings.get(key)]
    # Profiles are compared input by input (_profiles); every other call has a setting row.
    known = set(old_settings) | set(new_settings)

    def calls(record: EngineRecord) -> dict[str, list[str]]:
        by_key: dict[str, list[str]] = defaultdict(list)
        for a in record.applied:
            if a.key not in known and not a.key.startswith("profiles["):
                by_key[a.key].append(f"{a.call} {a.name} {a.value}".strip()
                                     if a.value is not None else f"{a.call} {a.name}".strip())
        return by_key

    old_calls, new_calls = calls(old), calls(new)
    for key in sorted(set(old_calls) | set(new_calls)):
        if old_calls.get(key) != new_calls.get(key):
            out.append(Change(key, "; ".join(old_calls.get(key, [])) or "not set",
                              "; ".join(new_calls.get(key, [])) or "not set"))
    return tuple(out)


def _profiles(old: EngineRecord, new: EngineRecord) -> tuple[Change, ...]:
    """min/opt/max of each input in each profile, then each I/O tensor's type and shape."""
    def ranges(io: Iterable[IOTensor]) -> dict[tuple[int, str], str]:
        return {(i, t.name): " / ".join(format_shape(d) for d in (p.min, p.opt, p.max))
                for t in io if t.mode == "Input" for i, p in enumerate(t.profiles)}

    def tensors(io: Iterable[IOTensor]) -> dict[tuple[str, str], str]:
        return {(t.mode.lower(), t.name): f"{t.dtype} {format_shape(t.dims)}" for t in io}

    out = []
    a, b = ranges(old.inspection.io), ranges(new.inspection.io)
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            out.append(Change(f"profile {key[0]} {key[1]} (min / opt / max)",
                              a.get(key, "none"), b.get(key, "none")))
    c, d = tensors(old.inspection.io), tensors(new.inspection.io)
    for mode, name in sorted(set(c) | set(d)):
        if c.get((mode, name)) != d.get((mode, name)):
            out.append(Change(f"{mode} {name}", c.get((mode, name), "none"),
                              d.get((mode, name), "none")))
    return tuple(out)


# Figures of one output as the page shows them (precision.accuracy writes them); compared
# as printed to four significant digits, so a last-bit difference is not a change.
_ACCURACY_FIGURES = ("max_abs", "mean_abs", "cosine", "top1_agreement", "nonfinite")


def _figure(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "none" if value is None else str(value)


def _accuracy(old: EngineRecord, new: EngineRecord) -> tuple[Change, ...]:
    def figures(record: EngineRecord) -> dict[str, str]:
        acc = record.accuracy or {}
        out = {k: _figure(acc.get(k)) for k in ("samples", "runtime") if k in acc}
        for o in acc.get("outputs") or ():
            if isinstance(o, Mapping):
                for k in _ACCURACY_FIGURES:
                    if k in o:
                        out[f"{o.get('name')} {k}"] = _figure(o[k])
        return out

    a, b = figures(old), figures(new)
    return tuple(Change(f"accuracy {key}", a.get(key, "none"), b.get(key, "none"))
                 for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key))


def _finding_changes(old: EngineRecord, new: EngineRecord
                     ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Findings added and removed, compared by (kind, what): the list the page and
    ``trtdoc lint`` show (``findings.current_findings``: the stored one, or for a record from
    before findings, the one computed from the record)."""
    from trtdoc.findings import current_findings

    def keyed(record: EngineRecord) -> dict[tuple[str, str], str]:
        found, _ = current_findings(record)
        return {(f.kind, f.what): f"{f.severity} {f.kind}: {f.what}" for f in found}

    a, b = keyed(old), keyed(new)
    return (tuple(b[k] for k in sorted(set(b) - set(a))),
            tuple(a[k] for k in sorted(set(a) - set(b))))


# --------------------------------------------------------------------------------------------
# Layer alignment
# --------------------------------------------------------------------------------------------
# A Myelin kernel's tactic is its fused op list and a hash of its generated code
# (``__myl_AddReshTran_0x4eb74cacd81e8fa84bd187033837affe_vec``). The hash changes when the
# same fusion is compiled for other shapes; the rest names which kernel was chosen.
_MYELIN_HASH = re.compile(r"_0x[0-9a-f]{16,}")


_DIGITS = re.compile(r"[0-9]+")


def _masked(name: str) -> str:
    """A layer name without its numbers: ``__myl_Tran_myl1_12`` → ``__myl_Tran_myl#_#``."""
    return _DIGITS.sub("#", name)


def kernel_family(tactic: str) -> str:
    """A tactic without the code hash of a Myelin generated kernel (other tactics as they are)."""
    return _MYELIN_HASH.sub("", tactic) if tactic.startswith("__myl") else tactic


Pair = tuple[int, int]


def align_layers(old: Sequence[Layer], new: Sequence[Layer]
                 ) -> tuple[list[Pair], list[int], list[int]]:
    """Pair the layers of two builds: ``(pairs of indices, old left over, new left over)``.

    1. Layers that implement the same set of ONNX nodes, in the same profile, pair up; where
       several do (Myelin splits one MatMul into a copy, a move and a gemm), by type first,
       then in order. When neither build has node names at all (a trtexec export without
       DETAILED metadata) the layer name stands in for the nodes.
    2. Left-over layers whose node sets overlap pair up, largest overlap first: a fusion that
       took in or gave up nodes (a model edit, another precision).
    3. Layers with no nodes pair by type and name with its numbers masked, beside the same
       aligned layer first, then anywhere, in order.
    """
    named = not any(layer.fused for layer in (*old, *new))

    def identity(layer: Layer) -> Any:
        if layer.fused:
            return (layer.profile, frozenset(layer.fused))
        return (layer.profile, layer.name) if named else None

    pair_of_old: dict[int, int] = {}
    pair_of_new: dict[int, int] = {}

    def join(i: int, j: int) -> None:
        pair_of_old[i] = j
        pair_of_new[j] = i

    groups_old: dict[Any, list[int]] = defaultdict(list)
    groups_new: dict[Any, list[int]] = defaultdict(list)
    for i, layer in enumerate(old):
        if identity(layer) is not None:
            groups_old[identity(layer)].append(i)
    for j, layer in enumerate(new):
        if identity(layer) is not None:
            groups_new[identity(layer)].append(j)
    for key, js in groups_new.items():
        _pair_in_order(groups_old.get(key, []), js, old, new, join)

    # 2. Overlapping node sets: for each left-over new layer in order, the left-over old
    # layer of its profile that shares the most nodes (the first of equals).
    left_old = [i for i, layer in enumerate(old) if i not in pair_of_old and layer.fused]
    for j, layer in enumerate(new):
        if j in pair_of_new or not layer.fused:
            continue
        nodes = set(layer.fused)
        best, shared = None, 0
        for i in left_old:
            if old[i].profile == layer.profile and i not in pair_of_old:
                n = len(nodes.intersection(old[i].fused))
                if n > shared:
                    best, shared = i, n
        if best is not None:
            join(best, j)

    # 3. Layers without nodes: by type and name with its numbers masked (Myelin's running
    # numbers change; the kernel's op list and a reformat's target do not), first beside the
    # same aligned layer, then anywhere, in order. A nodeless layer of another name is a
    # layer added or removed, not a changed one (a Tran kernel does not become a Cumsum).
    def anchored(layers: Sequence[Layer], pairs: Mapping[int, int], side: int,
                 anchors: bool) -> dict[Any, list[int]]:
        out: dict[Any, list[int]] = defaultdict(list)
        anchor: Any = None
        for k, layer in enumerate(layers):
            if k in pairs:
                anchor = (k, pairs[k]) if side == 0 else (pairs[k], k)
            elif identity(layer) is None:
                out[(layer.profile, layer.type, _masked(layer.name),
                     anchor if anchors else None)].append(k)
        return out

    for anchors in (True, False):
        a_old = anchored(old, pair_of_old, 0, anchors)
        a_new = anchored(new, pair_of_new, 1, anchors)
        for key, js in a_new.items():
            _pair_in_order(a_old.get(key, []), js, old, new, join)

    pairs = sorted(pair_of_new.items(), key=lambda p: p[0])
    return ([(i, j) for j, i in pairs],
            [i for i in range(len(old)) if i not in pair_of_old],
            [j for j in range(len(new)) if j not in pair_of_new])


def _pair_in_order(olds: Sequence[int], news: Sequence[int], old: Sequence[Layer],
                   new: Sequence[Layer], join: Callable[[int, int], None]) -> None:
    """Pair two lists of candidates: the same type first (in order), then what is left."""
    free = list(olds)
    rest = []
    for j in news:
        i = next((i for i in free if old[i].type == new[j].type), None)
        if i is None:
            rest.append(j)
        else:
            free.remove(i)
            join(i, j)
    # zip stops at the shorter: the others are added or removed
    for i, j in zip(free, rest, strict=False):
        join(i, j)


_NODES_SHOWN = 4  # node names a "nodes" change lists before "and N more"


def _nodes_change(old: Layer, new: Layer) -> Change | None:
    if set(old.fused) == set(new.fused) or not (old.fused and new.fused):
        return None
    gone = sorted(set(old.fused) - set(new.fused))
    came = sorted(set(new.fused) - set(old.fused))
    names = [*(f"+{n}" for n in came), *(f"-{n}" for n in gone)]
    more = f" and {len(names) - _NODES_SHOWN} more" if len(names) > _NODES_SHOWN else ""
    delta = ", ".join(names[:_NODES_SHOWN]) + more
    return Change("nodes", f"{len(old.fused)} nodes", f"{len(new.fused)} nodes", delta)


def layer_changes(old: Sequence[Layer], new: Sequence[Layer]
                  ) -> tuple[tuple[LayerChange, ...], int]:
    """The layers that changed, were added or were removed, and how many were only renamed."""
    pairs, removed, added = align_layers(old, new)
    out: list[LayerChange] = []
    renamed = 0
    for i, j in pairs:
        a, b = old[i], new[j]
        diffs = []
        if a.type != b.type:
            diffs.append(Change("type", a.type, b.type))
        if a.precision != b.precision:
            diffs.append(Change("precision", a.precision or "none", b.precision or "none"))
        if kernel_family(a.tactic) != kernel_family(b.tactic):
            diffs.append(Change("tactic", a.tactic or "none", b.tactic or "none"))
        elif a.tactic != b.tactic:
            diffs.append(Change("kernel", a.tactic, b.tactic))
        nodes = _nodes_change(a, b)
        if nodes is not None:
            diffs.append(nodes)
        if diffs:
            out.append(LayerChange("changed", b.name, b.type, b.fused, b.profile, tuple(diffs),
                                   a.name if a.name != b.name else ""))
        elif a.name != b.name:
            renamed += 1
    out.extend(LayerChange("added", new[j].name, new[j].type, new[j].fused, new[j].profile)
               for j in added)
    out.extend(LayerChange("removed", old[i].name, old[i].type, old[i].fused, old[i].profile)
               for i in removed)
    return tuple(out), renamed


def changes_between(old: EngineRecord, new: EngineRecord) -> Changes:
    """Compare two records of one engine (see the module docstring for how)."""
    old_types = Counter(layer.type for layer in old.inspection.layers)
    new_types = Counter(layer.type for layer in new.inspection.layers)
    layers, renamed = layer_changes(old.inspection.layers, new.inspection.layers)
    added, removed = _finding_changes(old, new)
    return Changes(
        engine=new.name,
        old_key=old.build_key,
        new_key=new.build_key,
        summary=_summary(old, new),
        settings=_settings(old, new),
        precision_mix=_counter_changes(Counter(dict(old.inspection.precision_mix())),
                                       Counter(dict(new.inspection.precision_mix()))),
        layer_types=_counter_changes(old_types, new_types),
        profiles=_profiles(old, new),
        accuracy=_accuracy(old, new),
        findings_added=added,
        findings_removed=removed,
        layers=layers,
        renamed=renamed,
    )


def one_side(name: str, status: Literal["new", "removed"], key: str) -> Changes:
    """An engine with a record on one side only."""
    return Changes(engine=name, old_key=key if status == "removed" else "",
                   new_key=key if status == "new" else "", summary=(), settings=(),
                   precision_mix=(), layer_types=(), status_override=status)


# --------------------------------------------------------------------------------------------
# Many engines: a records folder against another one, or against a git ref
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Diff:
    """Every engine of two sets of records, sorted by name (``old`` and ``new`` say where
    each set came from: a ref, a folder or a file)."""

    old: str
    new: str
    engines: tuple[Changes, ...]

    @property
    def changed(self) -> tuple[Changes, ...]:
        return tuple(c for c in self.engines if c.status != "unchanged")

    @property
    def unchanged(self) -> tuple[str, ...]:
        return tuple(c.engine for c in self.engines if c.status == "unchanged")


def diff_records(old: Mapping[str, EngineRecord], new: Mapping[str, EngineRecord], *,
                 old_label: str, new_label: str) -> Diff:
    """Compare two sets of records by engine name."""
    engines = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            engines.append(one_side(name, "new", new[name].build_key))
        elif name not in new:
            engines.append(one_side(name, "removed", old[name].build_key))
        else:
            engines.append(changes_between(old[name], new[name]))
    return Diff(old_label, new_label, tuple(engines))


def diff_files(old: Path, new: Path) -> Diff:
    """Compare two record files (of one engine, or of two: ``trtdoc diff OLD.json NEW.json``)."""
    a, b = _read_file(old), _read_file(new)
    return Diff(str(old), str(new), (changes_between(a, b),))


def _read_file(path: Path) -> EngineRecord:
    if not path.is_file():
        raise RecordError("no such record file; give the path of a records/<name>.json",
                          path=path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordError(f"cannot read record ({exc.strerror or exc})", path=path) from None
    return record_from_json(data, path=path)


def records_in_folder(folder: Path) -> dict[str, EngineRecord]:
    """Every record in ``folder`` by engine name (``read_record``: strict, one line a problem)."""
    if not folder.is_dir():
        raise TrtdocError(f"{display_path(folder)}: no such records folder; pass --records to "
                          "the folder "
                          "that holds the records/<name>.json files")
    return {p.stem: read_record(p) for p in sorted(folder.glob("*.json"))}


def _git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise TrtdocError("--base needs git, which is not installed here; install git, or "
                          "compare two record files: trtdoc diff OLD.json NEW.json") from None


def _git_says(result: subprocess.CompletedProcess[bytes]) -> str:
    text = result.stderr.decode("utf-8", "replace").strip().splitlines()
    return text[0] if text else f"exit code {result.returncode}"


def records_at_ref(folder: Path, ref: str) -> dict[str, EngineRecord]:
    """The records that ``folder`` held at git ``ref``, by engine name, without a checkout.

    Each is ``git show <ref>:<folder relative to the repository root>/<name>.json``, decoded as
    strictly as a file (a record at a ref is as untrusted as one on disk). A folder missing
    at ``ref`` holds no records there: every engine is new.
    """
    folder = folder.resolve() if folder.is_dir() else folder.absolute()
    cwd = folder if folder.is_dir() else Path.cwd()
    if ref.startswith("-"):
        raise TrtdocError(f"--base {ref}: not a git ref (it starts with '-'); name a branch, "
                          "tag or commit")
    top = _git(["rev-parse", "--show-toplevel"], cwd)
    if top.returncode != 0:
        raise TrtdocError(f"--base {ref}: {display_path(folder)} is not in a git repository "
                          f"({_git_says(top)})"
                          "; run it inside the repository, or compare two record files")
    root = Path(top.stdout.decode().strip()).resolve()
    try:
        rel = folder.relative_to(root).as_posix()
    except ValueError:
        raise TrtdocError(f"--base {ref}: {display_path(folder)} is not inside the repository "
                          f"{root}"
                          ) from None
    commit = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
                  root)
    if commit.returncode != 0:
        raise TrtdocError(f"--base {ref}: no such commit in {root}; name a branch, tag or "
                          "commit that exists (in CI, fetch it first: git fetch origin main)")
    sha = commit.stdout.decode().strip()
    prefix = "" if rel == "." else f"{rel}/"
    listing = _git(["ls-tree", "-z", "-l", sha, "--", prefix or "."], root)
    if listing.returncode != 0:
        raise TrtdocError(f"--base {ref}: cannot list {prefix or '.'} ({_git_says(listing)})")
    out: dict[str, EngineRecord] = {}
    for line in sorted(listing.stdout.decode("utf-8", "replace").split("\0")):
        # "<mode> <type> <object> <size>\t<path>"
        info, _, entry = line.partition("\t")
        name = entry[len(prefix):] if entry.startswith(prefix) else entry
        fields = info.split()
        if not name.endswith(".json") or "/" in name or len(fields) != 4 or fields[1] != "blob":
            continue
        where = Path(f"{ref}:{prefix}{name}")
        if fields[0] == "120000":
            raise RecordError("a symbolic link, not a record; commit the record file itself",
                              path=where)
        if fields[3].isdigit() and int(fields[3]) > MAX_RECORD_BYTES:
            raise RecordError(f"{int(fields[3]) / 2**20:.1f} MiB is larger than any record "
                              f"trtdoc writes (the limit is {MAX_RECORD_BYTES // 2**20} MiB), "
                              "so it is not read", path=where)
        shown = _git(["cat-file", "blob", f"{sha}:{prefix}{name}"], root)
        if shown.returncode != 0:
            raise RecordError(f"cannot read it from git ({_git_says(shown)})", path=where)
        record = record_from_json(shown.stdout, path=where)
        stem = name[: -len(".json")]
        if record.name != stem:
            raise RecordError(f"name: {record.name!r} is not this file's engine {stem!r} (was "
                              "the record edited?)", path=where)
        out[stem] = record
    return out


def diff_against_ref(folder: Path, ref: str) -> Diff:
    """The records in ``folder`` (the working tree) against the same folder at ``ref``."""
    old = records_at_ref(folder, ref)
    new = records_in_folder(folder)
    return diff_records(old, new, old_label=ref, new_label="working tree")


# --------------------------------------------------------------------------------------------
# Output: a few phrases per engine, text for a terminal, JSON for tools (Markdown: render.py)
# --------------------------------------------------------------------------------------------
HEADLINE_ITEMS = 8  # phrases per engine before "and N more": a pull-request comment stays short
_LAYER_WORDS = {"precision": "precision", "type": "type", "tactic": "tactic",
                "kernel": "kernels regenerated", "nodes": "fused nodes", "added": "added",
                "removed": "removed"}


def _arrow(c: Change) -> str:
    delta = f" ({c.delta})" if c.delta else ""
    return f"{c.what} {c.old} → {c.new}{delta}"


def headline(c: Changes) -> tuple[str, ...]:
    """What changed in a few phrases, the most telling first, at most ``HEADLINE_ITEMS``.

    Settings and profiles first (usually the cause), then the model, the backend, the size,
    memory, layers, accuracy and findings (usually the effect).
    """
    if c.status == "new":
        return ("new engine (no record at the base)",)
    if c.status == "removed":
        return ("removed (no record any more)",)
    items = [_arrow(s) for s in c.settings]
    items += [_arrow(p) for p in c.profiles]
    summary = {s.what: s for s in c.summary if s.counts}
    if "model sha256" in summary:
        ops = [f"{s.what.removeprefix('model ').removesuffix(' nodes')} {s.delta}"
               for s in c.summary if s.what.startswith("model ") and s.what.endswith(" nodes")
               and s.what != "model nodes"]
        nodes = summary.get("model nodes")
        detail = ", ".join(([f"nodes {nodes.old} → {nodes.new}"] if nodes else []) + ops)
        items.append(f"model changed ({detail})" if detail else "model changed")
    if "backend" in summary:
        items.append(_arrow(summary["backend"]))
    if "engine size" in summary:
        items.append(_arrow(summary["engine size"]))
    memory = [f"{s.what.removesuffix(' memory')} {s.delta or f'{s.old} → {s.new}'}"
              for s in c.summary if s.counts and s.what.endswith(" memory")]
    if memory:
        items.append("memory: " + ", ".join(memory))
    counts = c.layer_counts()
    if counts:
        items.append(f"layers: {c.layer_summary}")
    elif c.layer_types or c.precision_mix or "engine layers" in summary:
        parts = [f"{t.what} {t.delta}" for t in c.layer_types] or [
            f"{p.what} {p.delta}" for p in c.precision_mix]
        items.append("layers: " + ", ".join(parts))
    if c.accuracy:
        items.append("accuracy: " + ", ".join(
            f"{a.what.removeprefix('accuracy ')} {a.old} → {a.new}" for a in c.accuracy[:3])
            + (f" and {len(c.accuracy) - 3} more" if len(c.accuracy) > 3 else ""))
    if c.findings_added or c.findings_removed:
        items.append(f"findings: {len(c.findings_added)} new, {len(c.findings_removed)} gone")
    if len(items) > HEADLINE_ITEMS:
        items = [*items[:HEADLINE_ITEMS - 1], f"and {len(items) - HEADLINE_ITEMS + 1} more"]
    return tuple(items)


def _nodes_text(nodes: Sequence[str]) -> str:
    if not nodes:
        return "no ONNX node"
    more = f" + {len(nodes) - 1} more" if len(nodes) > 1 else ""
    return f"{nodes[0]}{more}"


def layer_line(layer: LayerChange) -> str:
    """One layer change as text: ``~ name [nodes] (profile 1): precision Float → Half``."""
    from trtdoc.escape import one_line

    mark = {"changed": "~", "added": "+", "removed": "-"}[layer.status]
    profile = f" (profile {layer.profile})" if layer.profile else ""
    nodes = f" [{_nodes_text(layer.nodes)}]" if layer.nodes else ""
    head = f"{mark} {layer.name}{nodes}{profile}"
    if layer.status != "changed":
        return one_line(f"{head}: {layer.type} layer {layer.status}")
    return one_line(f"{head}: " + "; ".join(_arrow(d) for d in layer.changes))


def diff_text(diff: Diff) -> str:
    """The whole comparison as plain text for a terminal (every value on one line)."""
    from trtdoc.escape import one_line

    out = [one_line(f"{diff.old} → {diff.new}: {len(diff.changed)} of {len(diff.engines)} "
                    "engine(s) changed")]
    for c in diff.changed:
        out.append("")
        out.append(one_line(f"{c.engine}: {c.status}"))
        if c.status != "changed":
            continue
        rows = [*c.settings, *c.profiles, *(s for s in c.summary if s.counts),
                *(Change(f"{p.what} layers", p.old, p.new, p.delta) for p in c.precision_mix),
                *(Change(f"{t.what} layers", t.old, t.new, t.delta) for t in c.layer_types),
                *c.accuracy]
        out += [one_line(f"  {_arrow(r)}") for r in rows]
        out += [one_line(f"  finding new: {f}") for f in c.findings_added]
        out += [one_line(f"  finding gone: {f}") for f in c.findings_removed]
        if c.layers:
            out.append(f"  layers ({c.layer_summary}):")
            out += [f"    {layer_line(layer)}" for layer in c.layers]
        notes = [_arrow(n) for n in c.notes]
        if c.renamed:
            notes.append(f"{c.renamed} layer(s) renamed with the same ONNX nodes")
        if notes:
            out.append(one_line("  not changes: " + "; ".join(notes)))
    if diff.unchanged:
        out += ["", one_line("unchanged: " + ", ".join(diff.unchanged))]
    return "\n".join(out) + "\n"


def diff_to_dict(diff: Diff) -> dict[str, Any]:
    """JSON-ready data: every field of each engine's :class:`Changes`, with its status."""
    from pydantic import TypeAdapter

    adapter = TypeAdapter(Changes)
    engines = []
    for c in diff.engines:
        data = adapter.dump_python(c, mode="json", exclude={"status_override"})
        engines.append({"engine": data.pop("engine"), "status": c.status,
                        "headline": list(c.headline),
                        "layer_counts": dict(c.layer_counts()), **data})
    return {"old": diff.old, "new": diff.new, "engines": engines}


# --------------------------------------------------------------------------------------------
# The previous record of each engine (the site's "What changed")
# --------------------------------------------------------------------------------------------
def history_path(records_dir: Path, name: str) -> Path:
    """Where the build keeps the previous record of ``name``."""
    return records_dir / HISTORY_DIR / f"{name}.json"


def read_previous(records_dir: Path) -> Mapping[str, EngineRecord]:
    """Every kept previous record under ``records_dir/.history``, by engine name.

    An unreadable file is skipped: a missing comparison is better than a failed render.
    """
    folder = records_dir / HISTORY_DIR
    out: dict[str, EngineRecord] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        try:
            record = read_record(path)
        except RecordError:
            continue
        out[record.name] = record
    return out
