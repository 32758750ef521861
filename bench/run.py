"""trtdoc's own cost beside TensorRT's, measured as side-by-side ratios in one run.

    python bench/run.py                      # every figure, ~10 minutes on 2 cores
    python bench/run.py --quick              # fewer repetitions, smaller P3/P4 (~2 minutes)
    python bench/run.py --only P1,P3 --out /tmp/results.md

Every figure times whole commands (subprocess, interpreter start included), run interleaved
A, B, A, B... after one discarded warm-up of each, and reports medians and their ratio. Peak
RSS and CPU time come from ``os.wait4`` per child (they include the child's own children,
such as ``--jobs`` workers: CPU is summed, RSS is the largest single process). Inputs and
outputs live in a work folder outside the repository (``--work``, default
``$TMPDIR/trtdoc-bench``); the generated big model is cached there between runs.

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trtdoc.values import Target

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SHARED_MODELS = Path(os.environ.get("TRTDOC_SHARED", REPO.parent / "shared")) / "models"
PY = sys.executable
GiB = 1 << 30
MiB = 1 << 20
# The peer a user who only wants an engine runs instead (issue 27), pinned. It is installed
# into the work folder for this interpreter (pip --target), never into trtdoc's dependencies,
# so it drives the very tensorrt_rtx trtdoc and the bare script use.
POLYGRAPHY = "polygraphy==0.53.6"

# Every child runs with this environment: bytecode is written and reused, as it is for an
# installed package (PYTHONDONTWRITEBYTECODE in the caller's shell would make trtdoc, run from
# a checkout, compile its ~200 modules on every run, and polygraphy, installed by pip with its
# .pyc, would not).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


# The targets of issues 13 ("Speed at fleet scale") and 27 ("Faster than what users would
# pick instead"), one place.
TARGET_P1_PEER = 1.10  # trtdoc build ÷ `polygraphy convert` of the same model, per model (27)
TARGET_P1 = 1.10  # trtdoc build ÷ bare script, per model (27; 1.15 in 13)
TARGET_P1_LARGE = 1.10  # the same for the 320 MiB external-data MLP
TARGET_P1_2GIB = 1.05  # and for a 2 GiB one
TARGET_P4 = 1.2  # peak RSS ÷ bare
TARGET_P5 = 1.8  # --jobs 1 ÷ --jobs 2
TARGET_P3 = 2.0  # s, trtdoc render of 200 records × 1,000 layers (cold, and one changed)
TARGET_P3_SAME = 0.3  # s, the same render when no record changed
TARGET_SITE = 30.0  # s, mkdocs build (and zensical build) of that site
TARGET_IMPORT_S = 20.0  # s, trtdoc import of 10^6 layers
TARGET_IMPORT_MIB = 1024.0  # MiB peak RSS of it


class BenchError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Running and timing commands
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    wall: float  # seconds, whole command
    cpu: float  # user + system seconds of the child and its waited-for children
    rss_kib: int  # peak resident set of the largest process in the tree
    others: float  # cores kept busy by other processes on the machine meanwhile
    output: str = ""  # what the command printed


_HZ = os.sysconf("SC_CLK_TCK")


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _HZ


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def rss_mib(self) -> float:
        return statistics.median(s.rss_kib for s in self.samples) / 1024

    @property
    def cores(self) -> float:
        """Average cores busy over the command: CPU time ÷ wall time."""
        return statistics.median(s.cpu / s.wall for s in self.samples)

    @property
    def others(self) -> float:
        """Average cores other processes kept busy meanwhile (this benchmark's own
        bookkeeping included, which is small)."""
        return statistics.median(s.others for s in self.samples)

    def walls(self) -> str:
        return ", ".join(f"{s.wall:.2f}" for s in self.samples)


def run(argv: Sequence[str | Path], *, cwd: Path, log: Path,
        env: dict[str, str] | None = None) -> Sample:
    """Run one command to completion (with :data:`CHILD_ENV` and ``env`` on top); its output
    goes to ``log``."""
    args = [str(a) for a in argv]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"\n$ (cd {cwd} && {' '.join(args)})\n".encode())
        out.flush()
        start = out.tell()
        busy = _busy_seconds()
        started = time.perf_counter()
        proc = subprocess.Popen(args, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, env={**CHILD_ENV, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        busy = _busy_seconds() - busy
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        raise BenchError(f"`{' '.join(args)}` exited {proc.returncode} in {cwd}; last lines of "
                         f"{log}:\n" + "\n".join(tail))
    cpu = usage.ru_utime + usage.ru_stime
    with log.open("rb") as f:
        f.seek(start)
        output = f.read(64 * 1024).decode(errors="replace")
    return Sample(wall, cpu, usage.ru_maxrss, max(0.0, busy - cpu) / wall, output)


def interleave(cases: dict[str, Callable[[], Sample]], reps: int, *, warmup: bool = True
               ) -> dict[str, Series]:
    """Run the cases A, B, A, B... ``reps`` times after one discarded warm-up round."""
    series = {name: Series() for name in cases}
    if warmup:
        for case in cases.values():
            case()
    for _ in range(reps):
        for name, case in cases.items():
            series[name].samples.append(case())
    return series


def trtdoc_argv() -> list[str]:
    script = Path(PY).parent / "trtdoc"
    return [str(script)] if script.is_file() else [PY, "-m", "trtdoc.cli"]


# --------------------------------------------------------------------------------------------
# The specs and the matching bare-script arguments, from one description
# --------------------------------------------------------------------------------------------
Shape = tuple[int, ...]


@dataclass(frozen=True)
class Case:
    """One model with builder settings, as a trtdoc spec and as bare_build.py arguments."""

    model: Path
    profiles: tuple[dict[str, tuple[Shape, Shape, Shape]], ...]
    workspace: int | None = None
    opt_level: int | None = None
    targets: tuple[Target, ...] = ()

    def spec_yaml(self, name: str) -> str:
        def dims(s: Shape) -> str:
            return "[" + ", ".join(map(str, s)) + "]"

        lines = [f"name: {name}", f"model: {self.model}", "backend: tensorrt-rtx",
                 "precision: fp32", "profiles:"]
        for profile in self.profiles:
            first = True
            for inp, (lo, mid, hi) in profile.items():
                lead = "  - " if first else "    "
                lines.append(f"{lead}{inp}: {{min: {dims(lo)}, opt: {dims(mid)}, "
                             f"max: {dims(hi)}}}")
                first = False
        if self.workspace is not None:
            lines.append(f"memory: {{workspace: {self.workspace}}}")
        if self.opt_level is not None:
            lines.append(f"optimization_level: {self.opt_level}")
        if self.targets:
            lines.append(f"targets: [{', '.join(self.targets)}]")
        return "\n".join(lines) + "\n"

    def bare_argv(self, plan: Path) -> list[str]:
        def dims(s: Shape) -> str:
            return "x".join(map(str, s))

        argv = [PY, str(BENCH / "bare_build.py"), str(self.model), str(plan)]
        for profile in self.profiles:
            argv += ["--profile", ",".join(f"{inp}={dims(lo)}:{dims(mid)}:{dims(hi)}"
                                           for inp, (lo, mid, hi) in profile.items())]
        if self.workspace is not None:
            argv += ["--workspace", str(self.workspace)]
        if self.opt_level is not None:
            argv += ["--opt-level", str(self.opt_level)]
        if self.targets:
            argv += ["--targets", ",".join(self.targets)]
        return argv

    def polygraphy_argv(self, poly: Path, plan: Path) -> list[str]:
        """``polygraphy convert`` of the same model with the same profiles, workspace,
        optimisation level and compute capabilities (``sm89`` is ``8.9`` there); run it with
        :func:`polygraphy_env`. One ``--trt-{min,opt,max}-shapes`` triple per profile."""
        def dims(s: Shape) -> str:
            return "[" + ",".join(map(str, s)) + "]"

        argv = [PY, str(poly / "bin" / "polygraphy"), "convert", str(self.model), "-o",
                str(plan)]
        for profile in self.profiles:
            for i, which in enumerate(("min", "opt", "max")):
                argv += [f"--trt-{which}-shapes",
                         *(f"{inp}:{dims(shapes[i])}" for inp, shapes in profile.items())]
        if self.workspace is not None:
            argv += ["--pool-limit", f"workspace:{self.workspace}"]
        if self.opt_level is not None:
            argv += ["--builder-optimization-level", str(self.opt_level)]
        if self.targets:
            argv += ["--compute-capabilities",
                     *(f"{t[2:-1]}.{t[-1]}" for t in self.targets)]  # sm120 → 12.0
        return argv


def polygraphy_env(poly: Path) -> dict[str, str]:
    """What ``polygraphy convert`` needs: the TensorRT-RTX backend, and its own folder."""
    return {"POLYGRAPHY_USE_TENSORRT_RTX": "1", "PYTHONPATH": str(poly)}


def install_polygraphy(work: Path) -> Path:
    """:data:`POLYGRAPHY` in ``work/polygraphy`` (installed once, then reused): the bench's
    own copy, importable by this interpreter only when ``PYTHONPATH`` names it."""
    folder = work / "polygraphy"
    stamp = folder / f"{POLYGRAPHY}.installed"
    if not stamp.is_file():
        fresh(folder)
        # --no-deps: its one dependency, numpy, is here already (TensorRT-RTX and ONNX
        # Runtime need it), and nothing may change the environment trtdoc runs in.
        subprocess.run([PY, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                        str(folder), POLYGRAPHY], check=True, env=CHILD_ENV)
        stamp.write_text("")
    return folder


def _image(batch: int) -> Shape:
    return (batch, 3, 224, 224)


VISION_TARGETS: tuple[Target, ...] = ("sm86", "sm89", "sm120")  # as in specs/vision/_defaults.yaml
CASES = {
    "resnet18": Case(SHARED_MODELS / "resnet18.onnx",
                     ({"input": (_image(1), _image(4), _image(8))},), workspace=1 * GiB,
                     opt_level=3, targets=VISION_TARGETS),
    "mobilenet_v2": Case(SHARED_MODELS / "mobilenet_v2_035.onnx",
                         ({"input": (_image(1), _image(4), _image(8))},), workspace=1 * GiB,
                         opt_level=3, targets=VISION_TARGETS),
    # The repository's own bert-tiny spec: two profiles, short and long sequences.
    "bert_tiny": Case(SHARED_MODELS / "bert_tiny.onnx", (
        {"input_ids": ((1, 8), (4, 64), (8, 128)), "attention_mask": ((1, 8), (4, 64), (8, 128))},
        {"input_ids": ((1, 128), (1, 192), (1, 256)),
         "attention_mask": ((1, 128), (1, 192), (1, 256))},
    ), workspace=512 * MiB, targets=("sm80", "sm86", "sm89")),
}


def write_specs(folder: Path, specs: dict[str, Case]) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, case in specs.items():
        (folder / f"{name}.yaml").write_text(case.spec_yaml(name))


def fresh(folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------
@dataclass
class Row:
    figure: str
    measured: str
    ratio: float | None
    target: str
    ok: bool | None
    load: float | None = None  # cores other processes kept busy during the measurement


@dataclass
class Bench:
    work: Path
    quick: bool
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    # Shared between figures: P1's bare runs tell P5 how many cores one build keeps busy.
    single_build_cores: dict[str, float] = field(default_factory=dict)
    # model → (trtdoc MiB, bare MiB, other load) of P1's runs, for P4
    p1_rss: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    @property
    def log(self) -> Path:
        return self.work / "commands.log"

    def cmd(self, argv: Sequence[str | Path], cwd: Path,
            env: dict[str, str] | None = None) -> Callable[[], Sample]:
        """A case for :func:`interleave`: run ``argv`` in ``cwd`` (``env`` added)."""
        return lambda: run(argv, cwd=cwd, log=self.log, env=env)

    def say(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def detail(self, title: str, lines: Sequence[str]) -> None:
        self.details.append(f"### {title}\n\n" + "\n".join(lines) + "\n")


def _fmt_ratio(r: float | None) -> str:
    if r is None:
        return ""
    return f"{r:.3f}" if r < 0.1 else f"{r:.2f}"


def _verdict(ok: bool | None) -> str:
    return {True: "pass", False: "**miss**", None: "n/a"}[ok]


# --------------------------------------------------------------------------------------------
# P1: build overhead
# --------------------------------------------------------------------------------------------
def p1(b: Bench) -> None:
    reps = 3 if b.quick else 7
    poly = install_polygraphy(b.work)
    lines = ["| model | trtdoc build (s, each run) | polygraphy convert (s, each run) | "
             "bare script (s, each run) | CPU s: trtdoc / polygraphy / bare | "
             "bare cores busy | other load (cores) | load average before → after | "
             "trtdoc runs that built again |", "|---|---|---|---|---|---|---|---|---|"]
    for model, case in CASES.items():
        root = fresh(b.work / "p1" / model)
        write_specs(root / "specs", {model: case})
        b.say(f"P1 {model}: {reps} interleaved runs of trtdoc build, polygraphy convert and "
              "bare_build.py")
        before = os.getloadavg()[0]
        series = interleave({
            "trtdoc": b.cmd([*trtdoc_argv(), "build", f"specs/{model}.yaml", "--force"], root),
            "polygraphy": b.cmd(case.polygraphy_argv(poly, root / "polygraphy.plan"), root,
                                polygraphy_env(poly)),
            "bare": b.cmd(case.bare_argv(root / "bare.plan"), root),
        }, reps)
        after = os.getloadavg()[0]
        t, peer, bare = series["trtdoc"], series["polygraphy"], series["bare"]
        # A --force rebuild that makes other bytes than the record's builds again (up to
        # trtdoc.build.make.REPRODUCE_ATTEMPTS times): say how often that happened.
        said = [" ".join(s.output.split()) for s in t.samples]  # rich may wrap the line
        again = sum(("on attempt " in x or " builds: " in x) for x in said)
        load = max(t.others, peer.others, bare.others)
        ratio = t.wall / peer.wall
        b.rows.append(Row(
            f"P1 build ÷ polygraphy convert, {model}",
            f"trtdoc {t.wall:.2f} s, polygraphy {peer.wall:.2f} s (+{t.wall - peer.wall:.2f} s)",
            ratio, f"≤ {TARGET_P1_PEER}", ratio <= TARGET_P1_PEER, load))
        ratio = t.wall / bare.wall
        b.single_build_cores[model] = bare.cores
        b.rows.append(Row(
            f"P1 build overhead ÷ bare script, {model}",
            f"trtdoc {t.wall:.2f} s, bare {bare.wall:.2f} s (+{t.wall - bare.wall:.2f} s)",
            ratio, f"≤ {TARGET_P1}", ratio <= TARGET_P1, load))
        lines.append(f"| {model} | {t.wall:.2f} ({t.walls()}) | {peer.wall:.2f} "
                     f"({peer.walls()}) | {bare.wall:.2f} ({bare.walls()}) | {t.cpu:.2f} / "
                     f"{peer.cpu:.2f} / {bare.cpu:.2f} | {bare.cores:.2f} | {load:.2f} | "
                     f"{before:.2f} → {after:.2f} | {again} of {len(t.samples)} |")
        b.p1_rss[model] = (t.rss_mib, bare.rss_mib, load)
    b.detail("P1 build overhead", [
        "`trtdoc build specs/<model>.yaml --force` (check, hash, build, inspect, record, "
        f"render the site) against `{POLYGRAPHY}`'s `polygraphy convert` (installed into the "
        "work folder for this interpreter, so it drives the same tensorrt_rtx) and "
        "`bench/bare_build.py`, all with the same model, profiles, workspace, optimisation "
        "level and compute capabilities. Medians of interleaved runs (trtdoc, polygraphy, "
        "bare, trtdoc, ...) after one discarded warm-up round; each run in brackets. *Other "
        "load*: cores other processes kept busy meanwhile (the largest of the three medians). "
        "*Built again*: runs where TensorRT-RTX serialised other bytes than the record's, so "
        "trtdoc built again to reproduce them (see `REPRODUCE_ATTEMPTS` in "
        "trtdoc/build/make.py); each such run costs one more build.", "", *lines])


# --------------------------------------------------------------------------------------------
# P2: incremental
# --------------------------------------------------------------------------------------------
def p2(b: Bench) -> None:
    reps = 1 if b.quick else 2
    root = fresh(b.work / "p2")
    specs: dict[str, Case] = {}
    for i in range(20):
        model = ("mobilenet_v2", "bert_tiny")[i % 2]
        specs[f"{model.replace('_', '-')}-{i:02d}"] = CASES[model]
    write_specs(root / "specs", specs)
    build = trtdoc_argv() + ["build", "specs"]
    b.say(f"P2: {reps} interleaved full builds (--force) and no-op builds of 20 specs")
    # Warm-up builds everything once, so each no-op below follows a full build.
    # Without --quick, a discarded warm-up round comes first; with it, the first full build
    # builds from nothing, which is what a full build is.
    series = interleave({"full": b.cmd([*build, "--force"], root), "noop": b.cmd(build, root)},
                        reps, warmup=not b.quick)
    noops = interleave({"noop": b.cmd(build, root), "python": b.cmd([PY, "-c", "pass"], root)},
                       3 if b.quick else 5, warmup=False)
    series["noop"].samples += noops["noop"].samples
    full, noop, interp = series["full"], series["noop"], noops["python"]
    ratio = noop.wall / full.wall
    beyond = noop.wall - interp.wall
    b.rows.append(Row("P2 incremental: no-op ÷ full build of 20 specs",
                      f"no-op {noop.wall:.2f} s, full {full.wall:.1f} s", ratio, "≤ 0.05",
                      ratio <= 0.05, max(full.others, noop.others)))
    b.rows.append(Row("P2 no-op beyond interpreter start",
                      f"{noop.wall:.2f} s − {interp.wall:.3f} s (`python -c pass`) = "
                      f"{beyond:.2f} s", None, "< 1 s", beyond < 1.0, noop.others))
    b.detail("P2 incremental", [
        "20 specs (10 mobilenet_v2, 10 bert_tiny; the same settings as P1). Full: "
        "`trtdoc build specs --force`; no-op: `trtdoc build specs` right after it, with "
        "nothing changed (specs load and validate, models are hashed, records are compared, "
        "the site is re-rendered).", "",
        f"- full build: {full.wall:.2f} s median ({full.walls()})",
        f"- no-op build: {noop.wall:.2f} s median ({noop.walls()}), CPU {noop.cpu:.2f} s",
        f"- interpreter start (`python -c pass`): {interp.wall:.3f} s"])


# --------------------------------------------------------------------------------------------
# P3: rendering at scale
# --------------------------------------------------------------------------------------------
def _seed_records(b: Bench) -> list[dict[str, Any]]:
    """Real records of the three P1 models (built here if P1 did not run)."""
    root = b.work / "p3" / "seed"
    records = root / "records"
    if not all((records / f"{m}.json").is_file() for m in CASES):
        fresh(root)
        write_specs(root / "specs", CASES)
        b.say("P3: building the three seed records")
        run([*trtdoc_argv(), "build", "specs", "--site", "site"], cwd=root, log=b.log)
    return [json.loads((records / f"{m}.json").read_text()) for m in CASES]


def synthesise(seeds: Sequence[dict[str, Any]], count: int, layers: int, out: Path) -> int:
    """``count`` records of ``layers`` layers each, cloned from real ones with renamed layers."""
    fresh(out)
    total = 0
    for i in range(count):
        seed = json.loads(json.dumps(seeds[i % len(seeds)]))
        name = f"synth-{i:03d}"
        seed["name"] = name
        seed["spec"]["name"] = name
        seed["build_key"] = f"{i:064x}"
        src = seed["inspection"]["layers"]
        cloned: list[dict[str, Any]] = []
        for k in range(math.ceil(layers / len(src))):
            for layer in src:
                if len(cloned) == layers:
                    break
                copy = json.loads(json.dumps(layer))
                copy["name"] = f"{layer['name']}~{k}"
                copy["fused"] = [f"{n}~{k}" for n in layer.get("fused", [])]
                for key in ("inputs", "outputs"):
                    for t in copy.get(key, []):
                        t["name"] = f"{t['name']}~{k}"
                cloned.append(copy)
        seed["inspection"]["layers"] = cloned
        total += len(cloned)
        (out / f"{name}.json").write_text(json.dumps(seed, indent=1, ensure_ascii=False) + "\n")
    return total


def _site_template(root: Path) -> Path:
    """The repository's mkdocs.yml and hand-written site/ pages, in a folder of their own."""
    template = fresh(root / "site-template")
    shutil.copytree(REPO / "site", template / "site")
    sys.path.insert(0, str(REPO))
    from trtdoc.render.write import is_generated

    for page in (template / "site").rglob("*.md"):
        if is_generated(page):
            page.unlink()
    config = (REPO / "mkdocs.yml").read_text()
    # Speed is measured here, not validity: a missing Mermaid bundle must not stop the build.
    config = config.replace("strict: true", "strict: false")
    (template / "mkdocs.yml").write_text(config)
    return template


def p3(b: Bench) -> None:
    count = 20 if b.quick else 200
    reps = 1  # one render of 200 records takes tens of seconds; its spread is a few percent
    root = b.work / "p3"
    seeds = _seed_records(b)
    records = root / "records"
    total = synthesise(seeds, count, 1000, records)
    size = sum(p.stat().st_size for p in records.glob("*.json"))
    template = _site_template(root)
    site_root = root / "site-run"

    def reset() -> None:
        fresh(site_root)
        shutil.copytree(template / "site", site_root / "site")
        shutil.copy(template / "mkdocs.yml", site_root / "mkdocs.yml")

    def render() -> Sample:
        reset()
        return run([*trtdoc_argv(), "render", "--records", records, "--site", "site"],
                   cwd=site_root, log=b.log)

    b.say(f"P3: rendering {count} records ({total:,} layers, {size / MiB:.0f} MiB of JSON)")
    rendered = interleave({"render": render}, reps, warmup=False)["render"]
    # One in-process breakdown: where the render time goes.
    reset()
    out = subprocess.run([PY, str(BENCH / "render_timed.py"), str(records),
                          str(site_root / "site")], capture_output=True, text=True, check=True)
    phases = json.loads(out.stdout)
    pages = sum(1 for _ in (site_root / "site").rglob("*.md"))
    mkdocs = Path(PY).parent / "mkdocs"
    b.say(f"P3: mkdocs build of the same {pages} pages")
    built = interleave({"mkdocs": b.cmd([mkdocs, "build", "-q", "-d", site_root / "public"],
                                        site_root)}, 1, warmup=False)["mkdocs"]
    # The same render again with nothing changed, then with one record's description edited.
    again = [*trtdoc_argv(), "render", "--records", records, "--site", "site"]
    same = interleave({"same": b.cmd(again, site_root)}, 3, warmup=False)["same"]
    victim = sorted(records.glob("*.json"))[0]
    original = victim.read_bytes()
    data = json.loads(original)
    data["spec"]["description"] = f"edited at {time.time():.0f}"
    victim.write_text(json.dumps(data, indent=1) + "\n")
    try:
        one = interleave({"one": b.cmd(again, site_root)}, 1, warmup=False)["one"]
    finally:
        victim.write_bytes(original)
    zensical = Path(PY).parent / "zensical"
    zen = (interleave({"zensical": b.cmd([zensical, "build", "--clean"], site_root)}, 1,
                      warmup=False)["zensical"] if zensical.exists() else None)
    label = f"{count} records × 1,000 layers" + (" (--quick)" if b.quick else "")
    b.rows.append(Row(f"P3 rendering {label}", f"trtdoc render {rendered.wall:.2f} s",
                      None, f"≤ {TARGET_P3:g} s", rendered.wall <= TARGET_P3, rendered.others))
    b.rows.append(Row("P3 render, one record changed", f"trtdoc render {one.wall:.2f} s",
                      None, f"≤ {TARGET_P3:g} s", one.wall <= TARGET_P3, one.others))
    b.rows.append(Row("P3 render, no record changed", f"trtdoc render {same.wall:.2f} s",
                      None, f"≤ {TARGET_P3_SAME:g} s", same.wall <= TARGET_P3_SAME,
                      same.others))
    b.rows.append(Row(f"P3-site mkdocs build of that site ({pages} pages)",
                      f"mkdocs build {built.wall:.1f} s", None, f"≤ {TARGET_SITE:g} s",
                      built.wall <= TARGET_SITE, built.others))
    b.rows.append(Row(f"P3-site zensical build of that site ({pages} pages)",
                      f"zensical build {zen.wall:.1f} s" if zen else "zensical not installed",
                      None, f"≤ {TARGET_SITE:g} s", zen.wall <= TARGET_SITE if zen else None,
                      zen.others if zen else None))
    b.detail("P3 rendering at scale", [
        f"{count} records synthesised from the real P1 records (resnet18, mobilenet_v2, "
        f"bert_tiny), each with its layers cloned and renamed to 1,000 ({total:,} layers, "
        f"{size / MiB:.0f} MiB of record JSON). `trtdoc render --records ... --site site` into "
        "a copy of the repository's hand-written site/; then `mkdocs build` of that site with "
        "the repository's mkdocs.yml (strict off).", "",
        f"- trtdoc render (whole command): {rendered.wall:.2f} s median ({rendered.walls()}), "
        f"peak RSS {rendered.rss_mib:.0f} MiB",
        "- in-process breakdown: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()),
        f"- the same render with nothing changed: {same.wall:.2f} s median ({same.walls()}); "
        f"with one record's description edited: {one.wall:.2f} s",
        f"- mkdocs build: {built.wall:.1f} s ({pages} Markdown pages)"
        + (f"; zensical build: {zen.wall:.1f} s" if zen else "; zensical: not installed")])


# --------------------------------------------------------------------------------------------
# IMPORT: trtdoc import of a huge trtexec export
# --------------------------------------------------------------------------------------------
def p_import(b: Bench) -> None:
    layers = 100_000 if b.quick else 1_000_000
    b.say(f"IMPORT: generating and importing a {layers:,}-layer trtexec export")
    out = subprocess.run([PY, str(BENCH / "import_scale.py"), "--layers", str(layers)],
                         capture_output=True, text=True, check=True).stdout
    lines = [line for line in out.splitlines() if line.strip()]
    for line in lines:
        label, _, rest = line.partition(": ")
        if not label.startswith(("trtdoc import", "import without")):
            continue
        wall = float(rest.split(" s,", 1)[0])
        rss = float(rest.split("peak RSS ", 1)[1].split(" MiB", 1)[0].replace(",", ""))
        ok = wall <= TARGET_IMPORT_S and rss <= TARGET_IMPORT_MIB and "exit 0" in rest
        b.rows.append(Row(f"IMPORT {label}, {layers:,} layers", rest, None,
                          f"≤ {TARGET_IMPORT_S:g} s, ≤ {TARGET_IMPORT_MIB / 1024:g} GiB", ok))
    b.detail("IMPORT", ["`bench/import_scale.py`: a trtexec export generated from the real "
                        "ResNet-18 fixtures, imported as users run it (with the page render at "
                        "its end) and as the library call alone.", "",
                        *(f"- {line}" for line in lines)])


# --------------------------------------------------------------------------------------------
# P4: memory
# --------------------------------------------------------------------------------------------
def big_model(b: Bench, hidden: int, layers: int) -> Path:
    """An MLP of ``layers`` Gemm layers of hidden×hidden float32 weights, as external data."""
    folder = b.work / "models" / f"mlp_{hidden}x{layers}"
    path = folder / "mlp.onnx"
    if (folder / "done").is_file():
        return path
    fresh(folder)
    b.say(f"P4: generating {path} ({layers * hidden * hidden * 4 / MiB:.0f} MiB of weights)")
    subprocess.run([PY, str(BENCH / "make_mlp.py"), str(path), str(hidden), str(layers)],
                   check=True)
    (folder / "done").write_text("")
    return path


def _large(b: Bench, hidden: int, layers: int, reps: int, target: float
           ) -> tuple[str, Series, Series]:
    """P1-large: trtdoc build ÷ bare script for an external-data MLP (time and peak RSS)."""
    model = big_model(b, hidden, layers)
    data = sum(p.stat().st_size for p in model.parent.glob("*.data"))
    case = Case(model, ({"x": ((1, hidden), (4, hidden), (8, hidden))},), workspace=1 * GiB,
                targets=VISION_TARGETS)
    root = fresh(b.work / "p4" / f"build-{hidden}x{layers}")
    write_specs(root / "specs", {"mlp": case})
    size = f"{data / GiB:.1f} GiB" if data >= GiB else f"{data / MiB:.0f} MiB"
    b.say(f"P1-large: {reps} interleaved builds of the {size} external-data MLP")
    series = interleave({
        "trtdoc": b.cmd([*trtdoc_argv(), "build", "specs/mlp.yaml", "--force"], root),
        "bare": b.cmd(case.bare_argv(root / "bare.plan"), root),
    }, reps)
    t, bare = series["trtdoc"], series["bare"]
    ratio = t.wall / bare.wall
    b.rows.append(Row(f"P1-large build overhead, MLP with {size} external data",
                      f"trtdoc {t.wall:.2f} s, bare {bare.wall:.2f} s "
                      f"(+{t.wall - bare.wall:.2f} s)",
                      ratio, f"≤ {target}", ratio <= target, max(t.others, bare.others)))
    return size, t, bare


def p4(b: Bench) -> None:
    reps = 1 if b.quick else 3
    sizes = [(2048, 6, TARGET_P1_LARGE)] if b.quick else [(4096, 5, TARGET_P1_LARGE),
                                                           (8192, 8, TARGET_P1_2GIB)]
    lines = []
    for hidden, layers, target in sizes:
        size, t, bare = _large(b, hidden, layers, reps, target)
        ratio = t.rss_mib / bare.rss_mib
        b.rows.append(Row(f"P4 peak RSS, MLP with {size} external data",
                          f"trtdoc {t.rss_mib:.0f} MiB, bare {bare.rss_mib:.0f} MiB", ratio,
                          f"≤ {TARGET_P4}", ratio <= TARGET_P4, max(t.others, bare.others)))
        lines.append(f"- MLP {layers} × Gemm {hidden}×{hidden} float32, weights in {size} of "
                     f"external data: wall trtdoc {t.wall:.2f} s ({t.walls()}), bare "
                     f"{bare.wall:.2f} s ({bare.walls()}); peak RSS trtdoc {t.rss_mib:.0f} MiB, "
                     f"bare {bare.rss_mib:.0f} MiB")
    for name, (rt, rb, load) in b.p1_rss.items():
        b.rows.append(Row(f"P4 peak RSS, {name} (from P1)", f"trtdoc {rt:.0f} MiB, bare "
                          f"{rb:.0f} MiB", rt / rb, f"≤ {TARGET_P4}", rt / rb <= TARGET_P4,
                          load))
        lines.append(f"- {name} (P1 runs): trtdoc {rt:.0f} MiB, bare {rb:.0f} MiB")
    b.detail("P1-large and P4 memory", [
        "`trtdoc build specs/mlp.yaml --force` against `bench/bare_build.py` for MLPs whose "
        "weights are ONNX external data. Wall time medians of interleaved runs; peak RSS of "
        "the whole command (`ru_maxrss` from `wait4`).", "", *lines])


# --------------------------------------------------------------------------------------------
# P5: parallelism
# --------------------------------------------------------------------------------------------
def p5(b: Bench) -> None:
    reps = 1 if b.quick else 2
    root = fresh(b.work / "p5")
    order = ("resnet18", "mobilenet_v2", "bert_tiny", "resnet18") * 2
    specs = {f"{m.replace('_', '-')}-{i}": CASES[m] for i, m in enumerate(order)}
    write_specs(root / "specs", specs)
    build = [*trtdoc_argv(), "build", "specs", "--force"]
    b.say(f"P5: {reps} interleaved builds of 8 specs with --jobs 1 and --jobs 2")
    series = interleave({"jobs1": b.cmd([*build, "--jobs", "1"], root),
                         "jobs2": b.cmd([*build, "--jobs", "2"], root)}, reps,
                        warmup=not b.quick)
    one, two = series["jobs1"], series["jobs2"]
    speedup = one.wall / two.wall
    b.rows.append(Row("P5 parallelism: 8 specs, --jobs 1 ÷ --jobs 2",
                      f"--jobs 1 {one.wall:.1f} s, --jobs 2 {two.wall:.1f} s", speedup,
                      f"≥ {TARGET_P5}", speedup >= TARGET_P5, max(one.others, two.others)))
    cores = ", ".join(f"{m} {c:.2f}" for m, c in b.single_build_cores.items())
    b.detail("P5 parallelism", [
        "8 specs (resnet18 ×4, mobilenet_v2 ×2, bert_tiny ×2), `trtdoc build specs --force` "
        "with `--jobs 1` and `--jobs 2`.", "",
        f"- --jobs 1: {one.wall:.2f} s median ({one.walls()}), {one.cores:.2f} cores busy "
        f"(other processes: {one.others:.2f})",
        f"- --jobs 2: {two.wall:.2f} s median ({two.walls()}), {two.cores:.2f} cores busy "
        f"(other processes: {two.others:.2f}), CPU {two.cpu:.1f} s vs {one.cpu:.1f} s",
        f"- cores one bare build keeps busy (CPU ÷ wall, from P1): {cores or 'P1 not run'}"])


# --------------------------------------------------------------------------------------------
# RAY: the P5 specs as tasks of a local two-node Ray cluster, beside --jobs 2
# --------------------------------------------------------------------------------------------
def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _LocalRay:
    """A head node and a second node of one CPU each, on this machine. Each ``ray start``
    runs in a session of its own, so exactly these nodes' processes are ended (their process
    groups), not other Ray processes on the machine."""

    def __init__(self, temp: Path) -> None:
        self.temp, self.port, self.groups = temp, _free_port(), []

    def start(self, *args: str) -> None:
        common = ["--node-ip-address=127.0.0.1", "--num-cpus=1", f"--temp-dir={self.temp}",
                  "--disable-usage-stats", f"--dashboard-agent-listen-port={_free_port()}"]
        proc = subprocess.Popen([str(Path(PY).with_name("ray")), "start", *args, *common],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        self.groups.append(proc.pid)
        out, _ = proc.communicate(timeout=180)
        if proc.returncode != 0:
            raise BenchError(f"ray start {' '.join(args)} failed:\n{out[-2000:]}")

    def __enter__(self) -> str:
        self.start("--head", f"--port={self.port}", "--include-dashboard=false",
                   f"--dashboard-port={_free_port()}")
        self.start(f"--address=127.0.0.1:{self.port}", '--resources={"node2": 1}')
        return f"127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        import signal

        for group in self.groups:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        shutil.rmtree(self.temp, ignore_errors=True)


def p_ray(b: Bench) -> None:
    if not Path(PY).with_name("ray").is_file():
        b.rows.append(Row("RAY 8 specs on a 2-node local Ray cluster ÷ --jobs 2",
                          "Ray is not installed (pip install 'trtdoc[ray]')", None, "side by side",
                          None))
        return
    reps = 1 if b.quick else 2
    root = fresh(b.work / "ray")
    order = ("resnet18", "mobilenet_v2", "bert_tiny", "resnet18") * 2  # P5's specs
    specs = {f"{m.replace('_', '-')}-{i}": CASES[m] for i, m in enumerate(order)}
    write_specs(root / "specs", specs)
    build = [*trtdoc_argv(), "build", "specs", "--force"]
    with _LocalRay(Path(f"/tmp/trtdoc-bench-ray-{os.getpid()}")) as address:
        b.say(f"RAY: {reps} interleaved builds of 8 specs with --ray {address} and --jobs 2")
        series = interleave({"ray": b.cmd([*build, "--ray", address], root),
                             "jobs2": b.cmd([*build, "--jobs", "2"], root)}, reps,
                            warmup=not b.quick)
    on_ray, two = series["ray"], series["jobs2"]
    ratio = on_ray.wall / two.wall
    b.rows.append(Row("RAY 8 specs on a 2-node local Ray cluster ÷ --jobs 2",
                      f"--ray {on_ray.wall:.1f} s, --jobs 2 {two.wall:.1f} s", ratio,
                      "side by side", None, max(on_ray.others, two.others)))
    b.detail("RAY: a local two-node Ray cluster beside --jobs 2", [
        "P5's 8 specs, `trtdoc build specs --force` with `--ray 127.0.0.1:PORT` (a head node "
        "and a second node, one CPU each, on this machine) and with `--jobs 2`.", "",
        f"- --ray: {on_ray.wall:.2f} s median ({on_ray.walls()}); the driver's own CPU "
        f"{on_ray.cpu:.1f} s (the builds run in Ray's worker processes, which are not its "
        f"children, so they count as other load: {on_ray.others:.2f} cores)",
        f"- --jobs 2: {two.wall:.2f} s median ({two.walls()}), CPU {two.cpu:.1f} s, "
        f"{two.cores:.2f} cores busy (other processes: {two.others:.2f})"])


# --------------------------------------------------------------------------------------------
# The machine and the report
# --------------------------------------------------------------------------------------------
def machine() -> dict[str, str]:
    import importlib.metadata as md

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(line for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
        ram = f"{int(mem.split()[1]) / (1 << 20):.1f} GiB"
    except (OSError, StopIteration):
        ram = "unknown"
    try:
        rtx = md.version("tensorrt-rtx")
    except md.PackageNotFoundError:
        rtx = "not installed"
    try:
        trtdoc_version = md.version("trtdoc")
    except md.PackageNotFoundError:
        trtdoc_version = "unknown"
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return {"CPU": cpu, "cores": str(os.cpu_count()), "RAM": ram,
            "OS": f"{platform.system()} {platform.release()}",
            "Python": platform.python_version(), "tensorrt-rtx": rtx,
            "trtdoc": trtdoc_version, "load average at start (1/5/15 min)": load,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")}


def report(b: Bench, info: dict[str, str], seconds: float, argv: Sequence[str]) -> str:
    lines = ["# trtdoc benchmarks", "",
             f"Written by `python bench/run.py{' ' + ' '.join(argv) if argv else ''}` in "
             f"{seconds / 60:.1f} minutes. What each figure means: bench/README.md. "
             f"*Other load* is how many of the {os.cpu_count()} cores other processes kept busy "
             "while the figure was measured (median); a figure measured beside other work is "
             "pessimistic.", "",
             "| figure | measured (medians) | ratio | target | result | other load |",
             "|---|---|---|---|---|---|"]
    for r in b.rows:
        load = "" if r.load is None else f"{r.load:.1f} cores"
        lines.append(f"| {r.figure} | {r.measured} | {_fmt_ratio(r.ratio)} | {r.target} | "
                     f"{_verdict(r.ok)} | {load} |")
    lines += ["", "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in info.items()]
    lines += [f"| load average at end | {' / '.join(f'{x:.2f}' for x in os.getloadavg())} |"]
    lines += ["", "## Details", ""] + b.details
    return "\n".join(lines).rstrip() + "\n"


FIGURES: dict[str, Callable[[Bench], None]] = {"P1": p1, "P2": p2, "P3": p3, "P4": p4,
                                               "IMPORT": p_import,
                                               "P5": p5, "RAY": p_ray}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="trtdoc's own cost beside TensorRT's.")
    ap.add_argument("--quick", action="store_true",
                    help="fewer repetitions, 20 records in P3, a 96 MiB model in P4")
    ap.add_argument("--only", default="", help="comma-separated figures, e.g. P1,P3")
    ap.add_argument("--out", type=Path, default=BENCH / "results.md")
    ap.add_argument("--work", type=Path,
                    default=Path(tempfile.gettempdir()) / "trtdoc-bench",
                    help="inputs, outputs and the cached big model (never in the repository)")
    args = ap.parse_args(argv)
    wanted = [f.strip().upper() for f in args.only.split(",") if f.strip()] or list(FIGURES)
    unknown = [f for f in wanted if f not in FIGURES]
    if unknown:
        ap.error(f"unknown figure(s) {', '.join(unknown)}; choose from {', '.join(FIGURES)}")
    if not SHARED_MODELS.is_dir():
        ap.error(f"{SHARED_MODELS} is missing: clone beside shared/ or set TRTDOC_SHARED")
    b = Bench(work=args.work.resolve(), quick=args.quick)
    b.work.mkdir(parents=True, exist_ok=True)
    b.log.write_text("")
    info = machine()
    started = time.perf_counter()
    for name in FIGURES:  # P1 first: P4 and P5 reuse what it measured
        if name in wanted:
            FIGURES[name](b)
    text = report(b, info, time.perf_counter() - started,
                  list(argv if argv is not None else sys.argv[1:]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
