"""Will this plan run there? One (engine, target) pair through every rule in ``data.py``.

Each rule gives a :class:`Check`: ``runs``, ``fails`` or ``unknown``, with the reason, the fix
and the NVIDIA sources; a rule that does not apply gives none. The verdict is ``fails`` if any
check fails, else ``unknown`` if any check cannot tell, else ``runs``. The deciding check is the
first failing one (or the first unknown one): its rule, reason, fix and sources are the
verdict's. A :class:`Verdict` serialises itself (``trtdoc.typed.encode``: the JSON of
``trtdoc compat --format json``), its keys in field order.

The facts of a plan come from its record (what the build applied and read back) or, for any
plan file, from its header alone (``Plan.from_header``); what neither says is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Field

from trtdoc.compat import data
from trtdoc.compat.deploy import Target
from trtdoc.compat.gpus import is_jetson
from trtdoc.compat.hazards import TURING, fp32_gemm_layers
from trtdoc.compat.jetson import jetson_release
from trtdoc.compat.memory import Budget, budget_from_record, instances_that_fit, size_text
from trtdoc.cost.gpus import peaks_of
from trtdoc.inspect.header import EngineFacts
from trtdoc.inspect.types import Layer
from trtdoc.record.types import EngineRecord
from trtdoc.spec.section import SpecSection
from trtdoc.values import EngineBackend, RuntimeFlavour

Outcome = Literal["runs", "fails", "unknown"]
RUNS: Outcome = "runs"
FAILS: Outcome = "fails"
UNKNOWN: Outcome = "unknown"
GLYPHS = {RUNS: "✓", FAILS: "✗", UNKNOWN: "?"}


@dataclass(frozen=True)
class Plan:
    """What the rules need to know about a plan; None where it is not known."""

    name: str
    flavour: EngineBackend
    version: str  # "1.7.1.116": the release that built it
    compute_capabilities: tuple[str, ...] = ()  # TensorRT-RTX: from the header
    version_compatible: bool | None = None
    hardware_compatibility: str | None = None  # none | ampere+ | same-cc
    build_compute_capability: str | None = None  # TensorRT: the building GPU's, "8.6"
    cuda: str | None = None  # the CUDA major of the builder package, "13"
    tags: tuple[str, ...] = ()
    # An import: the compute capability of the GPU trtexec ran it on (`trtdoc import --gpu`),
    # and that GPU's name; the plan is known to run there with the release that built it.
    ran_on: str | None = None
    ran_on_gpu: str | None = None
    budget: Budget | None = None  # one instance's device memory (compat/memory.py)
    # The record's layers, for the checks that read them (only where they apply: 10^5
    # layers are a lot to walk for every target) and the time bound of `trtdoc compat`.
    layers: tuple[Layer, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def from_record(cls, record: EngineRecord) -> Plan:
        header = record.header
        spec = record.spec if isinstance(record.spec, SpecSection) else None

        def setting(key: str, in_spec: Any) -> Any:
            for s in record.settings:
                if s.key == key:
                    return s.effective
            return in_spec

        vc = setting("version_compatible", spec and spec.version_compatible)
        level = setting("hardware_compatibility", spec and spec.hardware_compatibility)
        # The header is the truth; without one (an import), the targets the build applied.
        targets = tuple(header.compute_capabilities) if header else ()
        applied = setting("targets", spec and spec.targets)
        if not targets and isinstance(applied, (list, tuple)):
            targets = tuple(str(t) for t in applied)
        return cls(
            name=record.name,
            flavour=header.backend if header is not None else record.backend,
            version=header.version if header is not None else record.backend_version,
            compute_capabilities=targets,
            version_compatible=vc if isinstance(vc, bool) else None,
            hardware_compatibility=level if isinstance(level, str) else None,
            build_compute_capability=record.host.compute_capability,
            cuda=record.backend_cuda,
            tags=spec.tags if spec is not None else (),
            ran_on=record.profiled.compute_capability if record.profiled else None,
            ran_on_gpu=record.profiled.gpu if record.profiled else None,
            budget=budget_from_record(record),
            layers=record.inspection.layers)

    @classmethod
    def from_header(cls, name: str, facts: EngineFacts) -> Plan:
        return cls(name=name, flavour=facts.backend, version=facts.version,
                   compute_capabilities=tuple(facts.compute_capabilities))

    @property
    def release(self) -> tuple[int, ...]:
        return data.version_parts(self.version)


@dataclass(frozen=True)
class Check:
    """One rule's answer for one pair."""

    rule: str
    # "verdict" in JSON (`trtdoc compat --format json`), as the pair's own outcome is.
    outcome: Annotated[Outcome, Field(alias="verdict")]
    reason: str
    fix: str = ""
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """An (engine, target) pair: the verdict, the check that decided it, and every check."""

    target: str
    engine: str
    verdict: Outcome
    rule: str
    reason: str
    fix: str
    sources: tuple[str, ...]
    checks: tuple[Check, ...] = field(default=())

    @property
    def glyph(self) -> str:
        return GLYPHS[self.verdict]


def _dotted(parts: Sequence[int]) -> str:
    return ".".join(map(str, parts))


def _rule_sources(rule: str, *extra: str) -> tuple[str, ...]:
    return (*data.RULES[rule].sources, *extra)


def _flavour_name(flavour: RuntimeFlavour) -> str:
    return data.FLAVOUR_NAMES[flavour]


# --------------------------------------------------------------------------------------------
# The rules, in the order they are reported
# --------------------------------------------------------------------------------------------
def check_flavour(plan: Plan, target: Target) -> Check | None:
    wants = data.PLAN_FLAVOUR[target.runtime.flavour]
    if wants == plan.flavour:
        return None
    built = _flavour_name(plan.flavour)
    if plan.flavour == "tensorrt-rtx":
        fix = (f"deploy TensorRT-RTX {plan.version} there, or build the engine with "
               "`backend: tensorrt` on a GPU of that target")
    else:
        fix = (f"deploy TensorRT {plan.version} there, or build the engine with "
               "`backend: tensorrt-rtx`")
    return Check("flavour", FAILS, f"a {built} plan does not load in "
                 f"{_flavour_name(target.runtime.flavour)}", fix, _rule_sources("flavour"))


def check_release(plan: Plan, target: Target) -> Check | None:
    if plan.flavour != "tensorrt-rtx" or target.runtime.flavour != "tensorrt-rtx":
        return None
    built, have = plan.release, target.runtime.release
    sources = _rule_sources("rtx-release")
    fix = (f"deploy TensorRT-RTX {plan.version} there, or rebuild the engine with TensorRT-RTX "
           f"{target.runtime.version}")
    if have == built[:len(have)] and len(have) >= 3:
        return Check("rtx-release", RUNS, f"TensorRT-RTX {target.runtime.version} is the "
                     f"release that built the plan ({plan.version})", "", sources)
    if have[:len(built)] != built[:len(have)]:
        return Check("rtx-release", FAILS, f"the plan was built by TensorRT-RTX {plan.version}; "
                     f"TensorRT-RTX {target.runtime.version} is another release", fix, sources)
    return Check("rtx-release", UNKNOWN, f"runtime {target.runtime.version} does not say which "
                 f"{_dotted(have)} release; the plan needs {plan.version}",
                 f"write the full version, as `runtime: tensorrt-rtx {_dotted(built[:3])}`",
                 sources)


def other_releases(plan: Plan) -> str:
    """Which runtime versions other than the one that built ``plan`` load it, by the rules
    :func:`check_release` and :func:`check_version` apply to a target (the page's "Other
    runtime versions"), so the page and ``trtdoc compat``/``inspect`` cannot disagree."""
    if plan.flavour == "tensorrt-rtx":  # rtx-release
        built = f", TensorRT-RTX {_dotted(plan.release)}," if plan.release else ""
        return (f"none: only the release that built it{built} loads it (TensorRT-RTX engines "
                "are not compatible between releases)")
    if plan.version_compatible is None:  # trt-version: unknown unless the same version
        return "unknown: whether the plan is version-compatible is not recorded"
    if plan.version_compatible:  # version-compatible
        return "later versions of the same major (version-compatible engine)"
    return "the same TensorRT version only (engines are not version-compatible by default)"


def check_version(plan: Plan, target: Target) -> Check | None:
    if plan.flavour != "tensorrt" or data.PLAN_FLAVOUR[target.runtime.flavour] != "tensorrt":
        return None
    built, have = plan.release, target.runtime.release
    lean = target.runtime.flavour == "tensorrt-lean"
    if lean and plan.version_compatible is not True:
        outcome = FAILS if plan.version_compatible is False else UNKNOWN
        why = ("the plan is not version-compatible" if outcome == FAILS
               else "whether the plan is version-compatible is not recorded")
        return Check("lean", outcome, f"the lean runtime runs only version-compatible plans, "
                     f"and {why}", "rebuild with `version_compatible: true`",
                     _rule_sources("lean"))
    same = have == built[:len(have)] and len(have) >= 3
    if not plan.version_compatible:
        if same:
            return Check("trt-version", RUNS, f"TensorRT {target.runtime.version} is the version "
                         f"that built the plan ({plan.version})", "", _rule_sources("trt-version"))
        if have[:len(built)] == built[:len(have)]:  # a prefix: 10.13 for 10.13.3.9
            return Check("trt-version", UNKNOWN, f"runtime {target.runtime.version} does not say "
                         f"which release; the plan needs {plan.version}",
                         f"write the full version, as `runtime: tensorrt {_dotted(built[:3])}`",
                         _rule_sources("trt-version"))
        fix = (f"rebuild with TensorRT {target.runtime.version} or set version_compatible: true"
               if have > built else f"rebuild with TensorRT {target.runtime.version}")
        if plan.version_compatible is None:
            return Check("trt-version", UNKNOWN, f"the plan was built by TensorRT {plan.version} "
                         f"and the target runs {target.runtime.version}; whether the plan is "
                         "version-compatible is not known from the header alone", fix,
                         _rule_sources("trt-version"))
        return Check("trt-version", FAILS, f"the plan was built by TensorRT {plan.version} "
                     f"without version compatibility; TensorRT {target.runtime.version} does not "
                     "load it", fix, _rule_sources("trt-version"))
    sources = _rule_sources("version-compatible")
    if built[:2] < data.VERSION_COMPAT_FIRST or have[:2] < data.VERSION_COMPAT_FIRST:
        return Check("version-compatible", FAILS, "version compatibility needs TensorRT 8.6 or "
                     "later on both sides", "build and run with TensorRT 8.6 or later", sources)
    if len(have) < 3 and have == built[:len(have)]:
        return Check("version-compatible", UNKNOWN, f"runtime {target.runtime.version} does not "
                     f"say which release; a version-compatible plan of {plan.version} needs "
                     f"{_dotted(built[:3])} or newer",
                     f"write the full version, as `runtime: tensorrt {_dotted(built[:3])}`",
                     sources)
    if have[:len(built)] < built[:len(have)]:
        return Check("version-compatible", FAILS, f"a version-compatible plan loads only in the "
                     f"same or a newer TensorRT; {target.runtime.version} is older than the "
                     f"{plan.version} that built it",
                     f"rebuild with TensorRT {target.runtime.version} or older", sources)
    if have[0] == built[0] or (built[0], have[0]) in data.VERSION_COMPAT_ACROSS_MAJORS:
        return Check("version-compatible", RUNS, f"version-compatible plan of TensorRT "
                     f"{plan.version}; TensorRT {target.runtime.version} loads it", "", sources)
    return Check("version-compatible", FAILS, f"version-compatible plans of TensorRT "
                 f"{built[0]} do not load in TensorRT {have[0]} (only 8 → 10 and 10 → 11 cross "
                 "a major)", f"rebuild with TensorRT {target.runtime.version}", sources)


def check_architecture(plan: Plan, target: Target) -> Check | None:
    flavour = data.PLAN_FLAVOUR[target.runtime.flavour]
    gpu = target.gpu
    name = f"{_flavour_name(flavour)} {target.runtime.version}"
    if flavour == "tensorrt-rtx" and is_jetson(gpu):
        return Check("architecture", FAILS, f"TensorRT-RTX runs on x86-64 Linux and Windows; "
                     f"{gpu.display} is a Jetson module", "deploy TensorRT from JetPack there",
                     (data.RTX_PLATFORMS_URL,))
    if (plan.ran_on == gpu.compute_capability and flavour == plan.flavour
            and target.runtime.version == plan.version):
        return Check("architecture", RUNS, f"trtexec ran the plan on {_ran_on(plan)} with the "
                     "release that built it", "", ())
    if not target.runtime.release:
        return Check("architecture", UNKNOWN, f"the {_flavour_name(flavour)} version is not "
                     "known, so neither are the GPUs it supports", "record the version", ())
    row = data.releases_row(data.ARCH_SUPPORT, flavour, target.runtime.release)
    if row is None:
        return Check("architecture", UNKNOWN, f"no cited source lists the GPUs {name} supports",
                     "check that release's support matrix", ())
    assert isinstance(row, data.ArchSupport)
    cc = gpu.compute_capability
    if cc in row.supported:
        return Check("architecture", RUNS, f"{name} supports compute capability {cc}", "",
                     row.sources)
    below = row.below is not None and gpu.cc < _cc(row.below)
    if cc in row.unsupported or below:
        family = f" ({gpu.family})" if gpu.family else ""
        return Check("architecture", FAILS, f"{name} does not support compute capability "
                     f"{cc}{family}" + (f"; {row.note}" if row.note else ""),
                     "deploy a runtime that supports this GPU, or another GPU", row.sources)
    return Check("architecture", UNKNOWN, f"no cited source says whether {name} supports "
                 f"compute capability {cc}", "check that release's support matrix", row.sources)


def _ran_on(plan: Plan) -> str:
    """``the A100 (8.0)``, or ``a GPU of compute capability 8.0`` when only that was given."""
    if plan.ran_on_gpu:
        return f"the {plan.ran_on_gpu} ({plan.ran_on})"
    return f"a GPU of compute capability {plan.ran_on}"


def _cc(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def check_targets(plan: Plan, target: Target) -> Check | None:
    if plan.flavour != "tensorrt-rtx" or target.runtime.flavour != "tensorrt-rtx":
        return None
    gpu = target.gpu
    sources = _rule_sources("rtx-targets")
    compiled = [c for c in plan.compute_capabilities if not c.startswith("bit")]
    if gpu.key in compiled:
        return Check("rtx-targets", RUNS, f"the plan is compiled for {gpu.key}", "", sources)
    if not compiled:
        return Check("rtx-targets", UNKNOWN, "the compute capabilities compiled into the plan "
                     "are not known", "rebuild it so that its header can be read", sources)
    listed = ", ".join(compiled)
    unnamed = [c for c in plan.compute_capabilities if c.startswith("bit")]
    if unnamed and gpu.cc > max(_cc_of_key(c) for c in compiled):
        return Check("rtx-targets", UNKNOWN, f"the plan is compiled for {listed} and sets header "
                     f"{', '.join(unnamed)}, which trtdoc cannot name; {gpu.key} is newer",
                     f"add {gpu.key} to targets", sources)
    return Check("rtx-targets", FAILS, f"the plan is compiled for {listed}, not {gpu.key}",
                 f"add {gpu.key} to targets", sources)


def _cc_of_key(key: str) -> tuple[int, int]:
    digits = key.removeprefix("sm")
    return int(digits[:-1]), int(digits[-1])


def check_hardware(plan: Plan, target: Target) -> Check | None:
    if plan.flavour != "tensorrt" or data.PLAN_FLAVOUR[target.runtime.flavour] != "tensorrt":
        return None
    gpu = target.gpu
    sources = _rule_sources("hardware-compatibility")
    level = plan.hardware_compatibility
    if level == "ampere+":
        if gpu.cc >= data.AMPERE:
            return Check("hardware-compatibility", RUNS, "hardware compatibility ampere+ runs on "
                         f"Ampere and later; {gpu.display} is", "", sources)
        return Check("hardware-compatibility", FAILS, "hardware compatibility ampere+ runs on "
                     f"Ampere (8.0) and later, not on {gpu.display}",
                     f"build a separate plan on a {gpu.compute_capability} GPU", sources)
    built = plan.build_compute_capability
    if level is None and built is None and plan.ran_on is not None:
        if plan.ran_on == gpu.compute_capability:
            return Check("hardware-compatibility", RUNS, f"trtexec ran the plan on "
                         f"{_ran_on(plan)}", "", sources)
        return Check("hardware-compatibility", UNKNOWN, f"trtexec ran the plan on "
                     f"{_ran_on(plan)}; whether it was built with hardware compatibility beyond "
                     f"{plan.ran_on} is not recorded", "run it there, or build it with "
                     "`hardware_compatibility: ampere+`", sources)
    if level is None and built is None:
        return Check("hardware-compatibility", UNKNOWN, "neither the plan's hardware "
                     "compatibility nor the GPU that built it is known",
                     "build it with trtdoc (the record keeps both)", sources)
    if built is None:
        return Check("hardware-compatibility", UNKNOWN, f"hardware compatibility {level}: the "
                     "plan runs on the building GPU's compute capability, which is not recorded",
                     "build with `hardware_compatibility: ampere+`, or record the build GPU",
                     sources)
    if built == gpu.compute_capability:
        return Check("hardware-compatibility", RUNS, f"built on a {built} GPU; {gpu.display} has "
                     "that compute capability", "", sources)
    return Check("hardware-compatibility", FAILS, f"built on a {built} GPU without hardware "
                 f"compatibility beyond it ({level or 'none'}); {gpu.display} differs",
                 "build with `hardware_compatibility: ampere+`" if gpu.cc >= data.AMPERE
                 and _cc(built) >= data.AMPERE else f"build on a {gpu.compute_capability} GPU",
                 sources)


def _cuda_majors(plan: Plan, target: Target) -> tuple[tuple[str, ...], str, tuple[str, ...]]:
    """The CUDA majors the target's runtime may be built with, why, and the sources."""
    flavour = data.PLAN_FLAVOUR[target.runtime.flavour]
    row = data.releases_row(data.CUDA_BUILDS, flavour, target.runtime.release)
    if target.cuda is not None:
        if isinstance(row, data.CudaBuilds) and target.cuda not in row.majors:
            return (), (f"{_flavour_name(flavour)} {target.runtime.version} has no cited CUDA "
                        f"{target.cuda} build (the sources list CUDA {', '.join(row.majors)})"
                        ), row.sources
        return (target.cuda,), f"the target's CUDA {target.cuda} runtime", ()
    if row is None:
        return (), "", ()
    assert isinstance(row, data.CudaBuilds)
    majors = row.majors
    if plan.flavour == "tensorrt-rtx" and plan.cuda is not None and flavour == plan.flavour:
        # kOLD_CUDA_RUNTIME: a runtime older than the plan's CUDA cannot load it.
        newer = tuple(m for m in majors if int(m) >= int(plan.cuda))
        if newer:
            return newer, f"the plan's CUDA {plan.cuda} build", row.sources
    return majors, (f"{_flavour_name(flavour)} {target.runtime.version} builds for CUDA "
                    + ", ".join(majors)), row.sources


def check_cuda_runtime(plan: Plan, target: Target) -> Check | None:
    if (plan.flavour != "tensorrt-rtx" or target.runtime.flavour != "tensorrt-rtx"
            or target.cuda is None):
        return None
    sources = _rule_sources("cuda-runtime")
    if plan.cuda is None:
        return Check("cuda-runtime", UNKNOWN, "which CUDA build made the plan is not known (its "
                     f"header does not say); a CUDA {target.cuda} runtime loads only plans of "
                     f"CUDA {target.cuda} or older", "check it with the record of its build",
                     sources)
    if int(target.cuda) >= int(plan.cuda):
        return Check("cuda-runtime", RUNS, f"the target's CUDA {target.cuda} runtime is not older "
                     f"than the plan's CUDA {plan.cuda}", "", sources)
    return Check("cuda-runtime", FAILS, f"the plan was built with CUDA {plan.cuda}; the target's "
                 f"CUDA {target.cuda} runtime is older (kOLD_CUDA_RUNTIME)",
                 f"install the CUDA {plan.cuda} build of the runtime there, or rebuild with the "
                 f"CUDA {target.cuda} package (tensorrt-rtx-cu{target.cuda})", sources)


def check_driver(plan: Plan, target: Target) -> Check | None:
    sources = _rule_sources("driver")
    if target.driver is None:
        return Check("driver", UNKNOWN, "the target names no driver", "add `driver:` to the "
                     "target (nvidia-smi prints it)", sources)
    majors, why, row_sources = _cuda_majors(plan, target)
    sources = (*sources, *row_sources)
    if not majors and why:
        return Check("driver", UNKNOWN, why, "check which CUDA build is installed there",
                     sources)
    if not majors:
        return Check("driver", UNKNOWN, f"which CUDA {_flavour_name(target.runtime.flavour)} "
                     f"{target.runtime.version} is built with is not known",
                     "add `cuda:` to the target", sources)
    unknown = [m for m in majors if m not in data.MIN_DRIVER_FOR_CUDA]
    if unknown:
        return Check("driver", UNKNOWN, f"no cited minimum driver for CUDA {unknown[0]}",
                     "check the CUDA release notes", sources)
    branch = target.driver_branch
    needs = {m: data.MIN_DRIVER_FOR_CUDA[m] for m in majors}
    enough = [m for m, low in needs.items() if branch >= low]
    if len(enough) == len(needs):
        low = max(needs.values())
        return Check("driver", RUNS, f"driver {target.driver} is at least {low}, the minimum for "
                     f"CUDA {max(majors, key=int)} ({why})", "", sources)
    if not enough:
        m = min(majors, key=int)
        fix = f"upgrade the driver to {needs[m]} or later"
        older = [c for c, low in data.MIN_DRIVER_FOR_CUDA.items() if low <= branch]
        if plan.flavour == "tensorrt-rtx" and plan.cuda is not None and older:
            fix += (f", or rebuild with the CUDA {max(older, key=int)} package "
                    f"(tensorrt-rtx-cu{max(older, key=int)}) and deploy that build there")
        return Check("driver", FAILS, f"driver {branch} is below {needs[m]}, the minimum for CUDA "
                     f"{m} ({why})", fix, sources)
    lacking = max(majors, key=int)
    return Check("driver", UNKNOWN, f"driver {branch} is enough for the CUDA "
                 f"{', '.join(enough)} build but below {needs[lacking]}, the minimum for CUDA "
                 f"{lacking} ({why})", f"say which build is installed (`cuda: {enough[0]}`), or "
                 f"upgrade the driver to {needs[lacking]} or later", sources)


def check_jetson(plan: Plan, target: Target) -> Check | None:
    """Full TensorRT on a Jetson module: the release, the module and the JetPack version."""
    if not is_jetson(target.gpu) or data.PLAN_FLAVOUR[target.runtime.flavour] != "tensorrt":
        return None
    have = target.runtime.release
    name = f"TensorRT {target.runtime.version}"
    module = target.gpu.model or target.gpu.display
    row = jetson_release(have)
    sources = _rule_sources("jetson")
    if row is None:
        return Check("jetson", UNKNOWN, f"no cited source says whether {name} runs on "
                     f"{module}", "check the Jetson migration page of that release", sources)
    if row.min_jetpack is None:
        return Check("jetson", FAILS, f"{name} has no JetPack build; Jetson deployments remain "
                     "on TensorRT 11.4.1", "deploy TensorRT 11.4.1 with JetPack 7.2.2 or later "
                     "there", row.sources)
    wanted = _dotted(row.min_jetpack)
    if module not in row.modules:
        return Check("jetson", UNKNOWN, f"the {name} Jetson page names "
                     f"{', '.join(row.modules[:2])} only, not {module}",
                     "check NVIDIA's Jetson platform eligibility for that module", row.sources)
    if target.jetpack is None:
        return Check("jetson", UNKNOWN, f"{name} runs on {module} with JetPack {wanted} or "
                     "later; the target does not say its JetPack", f"add `jetpack: {wanted}`",
                     row.sources)
    if data.version_parts(target.jetpack) < row.min_jetpack:
        return Check("jetson", FAILS, f"{name} needs JetPack {wanted} or later on {module}; "
                     f"the target has JetPack {target.jetpack}",
                     f"upgrade to JetPack {wanted} or later", row.sources)
    return Check("jetson", RUNS, f"{name} runs on {module} with JetPack {target.jetpack}", "",
                 row.sources)


def check_turing_gemm(plan: Plan, target: Target) -> Check | None:
    """A TensorRT-RTX plan's FP32 GEMMs on a Turing target (compat/hazards.py)."""
    if (plan.flavour != "tensorrt-rtx" or target.gpu.key != TURING
            or target.runtime.flavour != "tensorrt-rtx"):
        return None
    gemms = fp32_gemm_layers(plan.layers)
    if not gemms:
        return None
    n = len(gemms)
    return Check("turing-fp32-gemm", FAILS, f"{n} FP32 GEMM layer{'s' if n != 1 else ''} "
                 f"(first: {gemms[0]}); TensorRT-RTX does not support FP32 GEMMs on "
                 "Turing: a dynamic-shape one returns zeros without an error",
                 "build this engine in fp16 (`precision: fp16`) for sm75, or deploy it on "
                 "Ampere or later", _rule_sources("turing-fp32-gemm"))


def check_memory(plan: Plan, target: Target) -> Check | None:
    """Whether ``instances`` (default one) of the plan fit in the target's memory; no check
    where the plan's budget or the target's memory is not known."""
    budget = plan.budget
    peaks = peaks_of(target.gpu)
    if budget is None or (target.memory is None and peaks is None):
        return None
    if target.memory is not None:
        capacity, given = target.memory, f"the target gives {size_text(target.memory)}"
        sources = _rule_sources("memory")
    else:
        assert peaks is not None
        capacity = peaks.memory_bytes
        given = f"the {peaks.variant} has {size_text(capacity)}"
        sources = (*_rule_sources("memory"), peaks.source)
    fit = instances_that_fit(budget, capacity)
    wanted = target.instances or 1
    need = budget.total * wanted
    each = f"{size_text(budget.total)} ({budget.parts()})"
    if need <= capacity:
        return Check("memory", RUNS, f"{fit:,} instance{'s' if fit != 1 else ''} of "
                     f"{size_text(budget.total)} fit; {given}", "", sources)
    what = (f"{wanted:,} instances need {size_text(need)}, {wanted:,} × {each}"
            if wanted > 1 else f"one instance needs {each}")
    return Check("memory", FAILS, f"{what}; {given}" + (f", room for {fit:,}" if fit else ""),
                 "give the target more `memory:`, fewer `instances:`, or build a smaller "
                 "engine (lower precision, smaller max shapes)", sources)


RULE_CHECKS: tuple[Callable[[Plan, Target], Check | None], ...] = (
    check_flavour, check_release, check_version, check_architecture, check_targets,
    check_hardware, check_jetson, check_cuda_runtime, check_turing_gemm, check_memory,
    check_driver)


def evaluate(plan: Plan, target: Target) -> Verdict:
    """Every rule for one pair, and the verdict they add up to."""
    checks = tuple(c for rule in RULE_CHECKS if (c := rule(plan, target)) is not None)
    if any(c.rule == "flavour" for c in checks):  # nothing else applies to the wrong flavour
        checks = tuple(c for c in checks if c.rule in ("flavour", "architecture", "driver"))
    for outcome in (FAILS, UNKNOWN):
        deciding = [c for c in checks if c.outcome == outcome]
        if deciding:
            first = deciding[0]
            reason = first.reason + (f" (and {len(deciding) - 1} more)"
                                     if outcome == FAILS and len(deciding) > 1 else "")
            return Verdict(target.name, plan.name, outcome, first.rule, reason, first.fix,
                           first.sources, checks)
    reason = "; ".join(c.reason for c in checks)
    sources = tuple(dict.fromkeys(s for c in checks for s in c.sources))
    return Verdict(target.name, plan.name, RUNS, "all", reason, "", sources, checks)


def deployed_pairs(plans: Iterable[Plan], targets: Iterable[Target]
                   ) -> list[tuple[Plan, Target]]:
    """Every (plan, target) pair the deployment file deploys, in file then name order."""
    plans = sorted(plans, key=lambda p: p.name)
    return [(p, t) for t in targets for p in plans if t.deploys(p.name, p.tags)]


def evaluate_all(plans: Iterable[Plan], targets: Iterable[Target]) -> list[Verdict]:
    return [evaluate(p, t) for p, t in deployed_pairs(plans, targets)]
