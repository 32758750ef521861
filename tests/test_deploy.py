"""The deployment gate: deploy.yaml, `trtdoc compat --deploy`, `trtdoc inspect --target`.

The TensorRT-RTX rules run on real plans built here for chosen compute capabilities (their
headers say which). Full TensorRT plans cannot be built on this machine, so the TensorRT rules
(version, version compatibility, lean runtime, hardware compatibility) run on Plan facts as a
record of a full-TensorRT build holds them; that is said where it happens.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import MODELS, REPO, write

from trtdoc.cli.group import cli
from trtdoc.compat import data
from trtdoc.compat.deploy import load_deployment, target_from_options
from trtdoc.compat.verdicts import Plan, evaluate
from trtdoc.errors import SpecErrors
from trtdoc.inspect.header import engine_facts_from_header
from trtdoc.record.files import read_record

RTX = "tensorrt-rtx 1.7.1"
NEW_DRIVER = "580.65.06"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="trtdoc")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real TensorRT-RTX builds of mobilenet-v2: for sm86 only, for sm80 + sm89, for sm75,
    and with the default targets; tagged so that deploy files can name them by tag."""
    pytest.importorskip("tensorrt_rtx")
    root = tmp_path_factory.mktemp("deploy")
    profile = "profiles: [{input: {min: [1, 3, 224, 224], opt: [1, 3, 224, 224], " \
              "max: [2, 3, 224, 224]}}]"
    for name, targets, tags in (("only-sm86", "[sm86]", "[vision, ampere]"),
                                ("sm80-sm89", "[sm80, sm89]", "[vision]"),
                                ("turing", "[sm75]", "[legacy]"),
                                ("default-targets", None, "[vision]")):
        text = (f"name: {name}\nmodel: {MODELS / 'mobilenet_v2_035.onnx'}\n"
                f"backend: tensorrt-rtx\n{profile}\ntags: {tags}\n")
        if name == "turing":  # TensorRT-RTX has no FP32 GEMM for Turing
            text += "precision: fp16\n"
        if targets:
            text += f"targets: {targets}\n"
        (root / "specs").mkdir(exist_ok=True)
        (root / "specs" / f"{name}.yaml").write_text(text)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        result = run("-q", "build", "specs")
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def here(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(project)
    monkeypatch.setenv("COLUMNS", "400")
    return project


def plan(project: Path, name: str) -> Plan:
    return Plan.from_record(read_record(project / "records" / f"{name}.json"))


def header_plan(project: Path, name: str) -> Plan:
    engine = project / "build" / "engines" / f"{name}.engine"
    return Plan.from_header(name, engine_facts_from_header(engine))


def target(gpu: str, runtime: str = RTX, driver: str | None = NEW_DRIVER,
           cuda: str | None = None):
    return target_from_options(gpu, runtime, driver, cuda)


# --------------------------------------------------------------------------------------------
# TensorRT-RTX rules on real plans
# --------------------------------------------------------------------------------------------
def test_the_header_says_which_gpus_a_plan_runs_on(project: Path) -> None:
    for make in (plan, header_plan):
        sm86 = make(project, "only-sm86")
        assert evaluate(sm86, target("RTX 3090")).verdict == "runs"
        a100 = evaluate(sm86, target("A100"))
        assert (a100.verdict, a100.rule, a100.fix) == ("fails", "rtx-targets",
                                                       "add sm80 to targets")
        assert "compiled for sm86, not sm80" in a100.reason
        both = make(project, "sm80-sm89")
        assert evaluate(both, target("8.0")).verdict == "runs"
        assert evaluate(both, target("sm89")).verdict == "runs"
        assert evaluate(both, target("RTX 5090")).rule == "rtx-targets"


def test_a_default_build_lists_its_targets_and_turing_needs_its_own(project: Path) -> None:
    default = plan(project, "default-targets")
    assert {"sm80", "sm86", "sm89", "sm120", "sm121"} <= set(default.compute_capabilities)
    assert evaluate(default, target("GB10")).verdict == "runs"  # sm121
    t4 = evaluate(default, target("T4"))
    assert (t4.verdict, t4.fix) == ("fails", "add sm75 to targets")
    assert evaluate(plan(project, "turing"), target("T4")).verdict == "runs"
    assert evaluate(plan(project, "turing"), target("RTX 3090")).verdict == "fails"


@pytest.mark.parametrize("gpu", ["H100", "H200", "9.0", "sm90", "B200", "sm100"])
def test_tensorrt_rtx_has_no_hopper_or_sm100(project: Path, gpu: str) -> None:
    for name in ("default-targets", "sm80-sm89"):
        v = evaluate(plan(project, name), target(gpu))
        assert v.verdict == "fails"
        arch = next(c for c in v.checks if c.rule == "architecture")
        assert arch.outcome == "fails" and "does not support compute capability" in arch.reason
        assert arch.sources and all(s for s in arch.sources)


def test_tensorrt_rtx_does_not_run_on_jetson(project: Path) -> None:
    v = evaluate(plan(project, "default-targets"), target("Jetson AGX Orin"))
    assert (v.verdict, v.rule) == ("fails", "architecture")
    assert "Jetson" in v.reason and v.sources == (data.RTX_PLATFORMS_URL,)


def test_another_tensorrt_rtx_release_does_not_load_the_plan(project: Path) -> None:
    p = plan(project, "sm80-sm89")
    assert p.version.startswith("1.7.1.")
    for other in ("tensorrt-rtx 1.6.1", "tensorrt-rtx 1.7.0", "tensorrt-rtx 1.8.0",
                  f"tensorrt-rtx 1.7.1.{int(p.version.split('.')[3]) + 1}"):
        v = evaluate(p, target("L4", other))
        assert (v.verdict, v.rule) == ("fails", "rtx-release"), other
        assert v.sources == (data.RTX_ENGINE_COMPAT_URL,)
    assert evaluate(p, target("L4", f"tensorrt-rtx {p.version}")).verdict == "runs"
    vague = evaluate(p, target("L4", "tensorrt-rtx 1.7"))
    assert (vague.verdict, vague.rule) == ("unknown", "rtx-release")
    assert "tensorrt-rtx 1.7.1" in vague.fix


@pytest.mark.parametrize("runtime", ["tensorrt 10.13.3", "tensorrt-lean 10.13.3",
                                     "tensorrt 1.7.1"])
def test_a_tensorrt_rtx_plan_does_not_load_in_full_tensorrt(project: Path, runtime: str) -> None:
    v = evaluate(plan(project, "sm80-sm89"), target("L4", runtime))
    assert (v.verdict, v.rule) == ("fails", "flavour")
    assert "does not load in" in v.reason and "TensorRT-RTX" in v.fix


def test_the_driver_must_carry_the_plans_cuda(project: Path) -> None:
    p = plan(project, "sm80-sm89")
    assert p.cuda == "13"  # the tensorrt_rtx_cu13 package built it
    old = evaluate(p, target("L4", driver="550.90.07"))
    assert (old.verdict, old.rule) == ("fails", "driver")
    assert "driver 550 is below 580, the minimum for CUDA 13" in old.reason
    assert "upgrade the driver to 580 or later" in old.fix
    assert data.CUDA_COMPAT_URL in old.sources
    assert evaluate(p, target("L4", driver="580.65.06")).verdict == "runs"
    assert evaluate(p, target("L4", driver="470")).verdict == "fails"
    # An older CUDA runtime build cannot load the plan (kOLD_CUDA_RUNTIME).
    cu12 = evaluate(p, target("L4", driver="575.51", cuda="12"))
    assert (cu12.verdict, cu12.rule) == ("fails", "cuda-runtime")
    none = evaluate(p, target("L4", driver=None))
    assert (none.verdict, none.rule) == ("unknown", "driver")


def test_from_the_header_alone_the_cuda_build_is_unknown(project: Path) -> None:
    """The header does not carry the CUDA build: a driver enough for one of the release's
    builds only is unknown, one below both fails, one above both runs."""
    p = header_plan(project, "sm80-sm89")
    assert p.cuda is None
    assert evaluate(p, target("L4", driver="550.90.07")).verdict == "unknown"
    cu12 = evaluate(p, target("L4", driver="550.90.07", cuda="12"))
    assert next(c for c in cu12.checks if c.rule == "driver").outcome == "runs"
    assert evaluate(p, target("L4", driver="470.57")).verdict == "fails"
    assert evaluate(p, target("L4", driver="580.65.06")).verdict == "runs"


# --------------------------------------------------------------------------------------------
# TensorRT rules, on the facts a full-TensorRT record holds (no full TensorRT here)
# --------------------------------------------------------------------------------------------
def trt_plan(version: str = "10.13.3.9", vc: bool | None = False, level: str | None = "none",
             built_on: str | None = "8.9") -> Plan:
    return Plan("trt", "tensorrt", version, (), vc, level, built_on, "12")


def test_a_tensorrt_plan_needs_its_own_version_unless_version_compatible() -> None:
    same = evaluate(trt_plan(), target("L4", "tensorrt 10.13.3"))
    assert same.verdict == "runs"
    other = evaluate(trt_plan(), target("L4", "tensorrt 10.14.1"))
    assert (other.verdict, other.rule) == ("fails", "trt-version")
    assert other.fix == "rebuild with TensorRT 10.14.1 or set version_compatible: true"
    vc = trt_plan(vc=True)
    assert evaluate(vc, target("L4", "tensorrt 10.14.1")).verdict == "runs"
    assert evaluate(vc, target("L4", "tensorrt 11.2.1")).verdict == "runs"  # 10 → 11
    older = evaluate(vc, target("L4", "tensorrt 10.12.0"))
    assert (older.verdict, older.rule) == ("fails", "version-compatible")
    eight = trt_plan("8.6.1.6", vc=True)
    assert evaluate(eight, target("L4", "tensorrt 10.3.0")).verdict == "runs"  # 8 → 10
    assert evaluate(eight, target("L4", "tensorrt 11.2.1")).verdict == "fails"  # 8 → 11
    assert evaluate(trt_plan("8.5.3.1", vc=True), target("L4", "tensorrt 8.6.1")).verdict \
        == "fails"


def test_the_lean_runtime_runs_only_version_compatible_plans() -> None:
    v = evaluate(trt_plan(), target("L4", "tensorrt-lean 10.13.3"))
    assert (v.verdict, v.rule) == ("fails", "lean")
    assert v.fix == "rebuild with `version_compatible: true`"
    assert evaluate(trt_plan(vc=True), target("L4", "tensorrt-lean 10.14.1")).verdict == "runs"


def test_hardware_compatibility_levels() -> None:
    assert evaluate(trt_plan(), target("L40S", "tensorrt 10.13.3")).verdict == "runs"  # 8.9
    other = evaluate(trt_plan(), target("A100", "tensorrt 10.13.3"))
    assert (other.verdict, other.rule) == ("fails", "hardware-compatibility")
    assert other.fix == "build with `hardware_compatibility: ampere+`"
    ampere = trt_plan(level="ampere+")
    assert evaluate(ampere, target("A100", "tensorrt 10.13.3")).verdict == "runs"
    assert evaluate(ampere, target("T4", "tensorrt 10.13.3")).verdict == "fails"
    unknown = evaluate(trt_plan(built_on=None), target("L4", "tensorrt 10.13.3"))
    assert (unknown.verdict, unknown.rule) == ("unknown", "hardware-compatibility")


def test_which_gpus_each_tensorrt_release_supports() -> None:
    ampere = trt_plan(level="ampere+", vc=True, version="10.0.1.6")
    assert evaluate(ampere, target("RTX 5090", "tensorrt 10.7.0")).rule == "architecture"
    assert evaluate(ampere, target("RTX 5090", "tensorrt 10.8.0")).verdict == "runs"
    volta = evaluate(trt_plan(level=None, built_on="7.0", version="10.5.0.18"),
                     target("V100", "tensorrt 10.5.0"))
    assert (volta.verdict, volta.rule) == ("fails", "architecture")
    assert "10.5.0" in " ".join(volta.sources)
    future = evaluate(trt_plan(version="12.0.0.1"), target("L4", "tensorrt 12.0.0"))
    assert future.verdict == "unknown"  # no cited source for TensorRT 12


def test_a_tensorrt_runtime_s_cuda_builds_decide_its_driver() -> None:
    v = evaluate(trt_plan(), target("L40S", "tensorrt 10.13.3", driver="550.54"))
    assert (v.verdict, v.rule) == ("unknown", "driver")  # 10.13.3 has CUDA 12 and 13 builds
    assert "`cuda: 12`" in v.fix
    assert evaluate(trt_plan(), target("L40S", "tensorrt 10.13.3", "550.54", "12")).verdict \
        == "runs"
    assert evaluate(trt_plan(), target("L40S", "tensorrt 10.13.3", "520.61")).verdict == "fails"


def test_every_rule_cites_its_sources() -> None:
    for rule in data.RULES.values():
        if rule.id != "architecture":  # cited per release row instead
            assert rule.sources, rule.id
        for source in rule.sources:
            assert source.startswith(("https://", "measured")), source
    for row in (*data.ARCH_SUPPORT, *data.CUDA_BUILDS):
        assert row.sources and any(s.startswith("https://") for s in row.sources), row


# --------------------------------------------------------------------------------------------
# deploy.yaml
# --------------------------------------------------------------------------------------------
def test_the_shipped_deployment_file_runs_everywhere_it_deploys() -> None:
    deployment = load_deployment(REPO / "deploy.yaml")
    assert [t.name for t in deployment.targets] == ["edge-l4", "workstation", "a100-batch",
                                                    "blackwell-desktop"]
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        result = run("compat", "--deploy", "deploy.yaml", "--format", "json")
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    pairs = json.loads(result.stdout)
    assert pairs and {p["verdict"] for p in pairs} == {"runs"}
    assert set(pairs[0]) >= {"target", "engine", "verdict", "reason", "fix", "sources"}


def test_every_problem_in_a_deployment_file_is_one_located_line(tmp_path: Path) -> None:
    path = write(tmp_path, "deploy.yaml", """
        targets:
          - name: edge
            gpu: L44
            driver: 550.90
            runtime: tensorrt-rtc 1.7.1
            engines: [x]
            enignes: []
          - name: edge
            gpu: 89
            runtime: tensorrt
        """)
    with pytest.raises(SpecErrors) as info:
        load_deployment(path)
    lines = [str(e) for e in info.value.errors]
    assert lines == [
        f"{path}:3:10: targets[0].gpu: 'L44' is not a GPU trtdoc knows. Hint: did you mean "
        "'L4'?",
        f"{path}:4:13: targets[0].driver: 550.9 was read as a number, which drops trailing "
        "zeros. Hint: quote it, as in `driver: \"550.90.07\"`",
        f"{path}:5:14: targets[0].runtime: 'tensorrt-rtc' is not one of tensorrt, "
        "tensorrt-rtx, tensorrt-lean. Hint: did you mean 'tensorrt-rtx'?",
        f"{path}:7:5: targets[0].enignes: unknown key 'enignes'. Hint: did you mean 'engines'?",
        f"{path}:8:5: targets[1]: required key 'engines' is missing. Hint: add "
        "`engines: [\"*\"]`",
        f"{path}:8:11: targets[1].name: 'edge' is also the name of the target at line 2. "
        "Hint: give each target its own name",
        f"{path}:9:10: targets[1].gpu: 89 is not a GPU: a compute capability is written with "
        "a dot or as sm<NN>. Hint: write `gpu: \"8.9\"` or `gpu: sm89`",
        f"{path}:10:14: targets[1].runtime: 'tensorrt' is not a flavour and a version. Hint: "
        "write `runtime: tensorrt-rtx 1.7.1` (flavours: tensorrt, tensorrt-rtx, tensorrt-lean)",
    ]


@pytest.mark.parametrize("text", ["", "just text\n", "[1, 2]\n", "name: x\nmodel: y.onnx\n",
                                  "targets: []\n", "targets: {a: 1}\n"])
def test_a_file_that_is_not_a_deployment_is_named_not_shown(tmp_path: Path, text: str) -> None:
    path = tmp_path / "deploy.yaml"
    path.write_text(text)
    with pytest.raises(SpecErrors) as info:
        load_deployment(path)
    assert len(info.value.errors) == 1
    line = str(info.value.errors[0])
    assert line.startswith(str(path)) and "model" not in line and "just text" not in line


def test_a_compute_capability_written_as_a_number(here: Path) -> None:
    write(here, "num.yaml", f"""
        targets:
          - {{name: a100, gpu: 8.0, driver: 580, runtime: {RTX}, engines: [only-sm86]}}
          - {{name: ampere, gpu: 8.6, driver: 580, runtime: {RTX}, engines: [only-sm86]}}
        """)
    result = run("compat", "--deploy", "num.yaml", "--format", "json")
    assert result.exit_code == 1, result.output
    verdicts = {p["target"]: p["verdict"] for p in json.loads(result.stdout)}
    assert verdicts == {"a100": "fails", "ampere": "runs"}


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------
HIDDEN = f"""
    targets:
      - name: hopper
        gpu: H100
        driver: "{NEW_DRIVER}"
        runtime: {RTX}
        engines: ["tag:vision"]
      - name: old-driver
        gpu: RTX 4090
        driver: "535.104.05"
        runtime: {RTX}
        engines: [sm80-sm89]
      - name: next-release
        gpu: L4
        driver: "{NEW_DRIVER}"
        runtime: tensorrt-rtx 1.8.0
        engines: [sm80-sm89]
      - name: full-trt
        gpu: L4
        driver: "{NEW_DRIVER}"
        runtime: tensorrt 10.13.3
        engines: [sm80-sm89]
      - name: not-a-target
        gpu: RTX 3060
        driver: "{NEW_DRIVER}"
        runtime: {RTX}
        engines: [sm80-sm89, only-sm86]
      - name: fine
        gpu: "8.9"
        driver: "{NEW_DRIVER}"
        runtime: {RTX}
        engines: [sm80-sm89]
    """


def test_compat_gives_every_deployed_pair_its_verdict_and_exits_1(here: Path) -> None:
    write(here, "deploy.yaml", HIDDEN)
    result = run("compat", "--deploy", "deploy.yaml", "--format", "json")
    assert result.exit_code == 1, result.output
    got = {(p["target"], p["engine"]): (p["verdict"], p["rule"]) for p in
           json.loads(result.stdout)}
    assert got == {
        ("hopper", "default-targets"): ("fails", "architecture"),
        ("hopper", "only-sm86"): ("fails", "architecture"),
        ("hopper", "sm80-sm89"): ("fails", "architecture"),
        ("old-driver", "sm80-sm89"): ("fails", "driver"),
        ("next-release", "sm80-sm89"): ("fails", "rtx-release"),
        ("full-trt", "sm80-sm89"): ("fails", "flavour"),
        ("not-a-target", "only-sm86"): ("runs", "all"),
        ("not-a-target", "sm80-sm89"): ("fails", "rtx-targets"),
        ("fine", "sm80-sm89"): ("runs", "all"),
    }
    table = run("compat", "--deploy", "deploy.yaml")
    assert table.exit_code == 1
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["target", "engine", "verdict", "why"]
    assert any(line.split()[:4] == ["not-a-target", "sm80-sm89", "✗", "fails"] for line in lines)
    assert "fix: add sm86 to targets" in table.stdout
    assert "9 deployed pair(s): 2 run, 7 fail, 0 unknown" in table.stdout


def test_unknown_passes_unless_strict(here: Path) -> None:
    write(here, "vague.yaml", f"""
        targets:
          - {{name: vague, gpu: L4, runtime: {RTX}, engines: [sm80-sm89]}}
        """)
    assert run("compat", "--deploy", "vague.yaml").exit_code == 0  # no driver: unknown
    strict = run("compat", "--deploy", "vague.yaml", "--strict")
    assert strict.exit_code == 1
    assert "1 deployed pair(s): 0 run, 0 fail, 1 unknown" in strict.stdout


def test_a_pattern_that_names_no_engine_is_a_located_error(here: Path) -> None:
    write(here, "typo.yaml", f"""
        targets:
          - name: edge
            gpu: L4
            driver: "{NEW_DRIVER}"
            runtime: {RTX}
            engines: [sm80-sm89, sm80-sm98, "tag:visoin"]
        """)
    result = run("compat", "--deploy", "typo.yaml")
    assert result.exit_code == 1
    assert ("typo.yaml:6:26: targets[0].engines[1]: 'sm80-sm98' names no engine in the "
            "records. Hint: did you mean 'sm80-sm89'?") in result.stderr
    assert ("typo.yaml:6:37: targets[0].engines[2]: 'tag:visoin' names no engine in the "
            "records. Hint: did you mean 'tag:vision'?") in result.stderr
    missing = run("compat", "--deploy", "nowhere.yaml")
    assert missing.exit_code == 1
    assert ("nowhere.yaml: does not exist. Hint: pass the deployment file, as "
            "`--deploy deploy.yaml`") in missing.stderr


def test_a_bad_deployment_file_fails_before_anything_is_built(here: Path) -> None:
    write(here, "bad.yaml", "targets:\n  - {name: x, gpu: H1000, runtime: tensorrt 10.1.0, "
          "engines: ['*']}\n")
    for args in (("compat", "--deploy", "bad.yaml"),
                 ("build", "specs", "--deploy", "bad.yaml"),
                 ("render", "--deploy", "bad.yaml")):
        result = run(*args)
        assert result.exit_code == 1, args
        assert "bad.yaml:2:20: targets[0].gpu: 'H1000' is not a GPU trtdoc knows. Hint: did " \
            "you mean 'H100'?" in result.stderr
        assert "Traceback" not in result.output


def test_inspect_answers_for_any_plan_file_from_its_header(here: Path) -> None:
    engine = "build/engines/only-sm86.engine"
    ok = run("inspect", engine, "--target", "RTX A6000", "--runtime", RTX, "--driver",
             "580.65.06")
    assert ok.exit_code == 0, ok.output
    assert "✓ runs" in ok.stdout
    bad = run("inspect", engine, "--target", "A100", "--runtime", RTX, "--driver", "580.65")
    assert bad.exit_code == 1
    assert "✗ fails: the plan is compiled for sm86, not sm80" in bad.stdout
    as_json = json.loads(run("inspect", engine, "--json", "--target", "H100", "--runtime",
                             "tensorrt-rtx 1.7.1").stdout)
    assert as_json["deployment"]["verdict"] == "fails"
    assert as_json["compute_capabilities"] == ["sm86"]
    unknown = run("inspect", engine, "--target", "L44", "--runtime", RTX)
    assert unknown.exit_code == 1
    assert "--target: 'L44' is not a GPU trtdoc knows. Hint: did you mean 'L4'?" in \
        unknown.stderr
    alone = run("inspect", engine, "--target", "L4")
    assert alone.exit_code == 1 and "--target and --runtime go together" in alone.stderr


# --------------------------------------------------------------------------------------------
# What a hostile tester found
# --------------------------------------------------------------------------------------------
def test_the_same_target_twice_gets_the_same_verdict(project: Path) -> None:
    first = evaluate(plan(project, "default-targets"), target("8.7"))
    second = evaluate(plan(project, "default-targets"), target("8.7"))
    assert first == second and (first.verdict, first.rule) == ("fails", "architecture")


@pytest.mark.parametrize(("smi", "model"), [("NVIDIA A100-SXM4-80GB", "A100"),
                                            ("Tesla V100-SXM2-16GB", "V100"),
                                            ("NVIDIA H100 80GB HBM3", "H100"),
                                            ("NVIDIA GeForce RTX 4090", "RTX 4090")])
def test_the_names_nvidia_smi_prints_resolve(smi: str, model: str) -> None:
    assert target(smi).gpu.model == model


@pytest.mark.parametrize("gpu", ["sm999", "sm1", "13.7"])
def test_a_compute_capability_no_gpu_has_is_an_error(gpu: str) -> None:
    with pytest.raises(Exception, match="not the compute capability of any GPU trtdoc knows"):
        target(gpu)


def test_null_values_are_located_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "deploy.yaml", f"""
        targets:
          - {{name: x, gpu: null, runtime: {RTX}, engines: ["*"]}}
          - {{name: y, gpu: L4, runtime: ~, engines: ["*"]}}
        """)
    with pytest.raises(SpecErrors) as info:
        load_deployment(path)
    lines = [str(e) for e in info.value.errors]
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}:2:20: targets[0].gpu: expected a GPU model")
    assert lines[1].startswith(f"{path}:3:33: targets[1].runtime: expected a flavour")


def test_with_only_the_header_the_cuda_runtime_is_unknown(project: Path) -> None:
    v = evaluate(header_plan(project, "sm80-sm89"), target("L4", driver="550.90.07", cuda="12"))
    assert (v.verdict, v.rule) == ("unknown", "cuda-runtime")


def test_a_runtime_without_its_patch_release_is_unknown_for_a_version_compatible_plan() -> None:
    v = evaluate(trt_plan(vc=True), target("L4", "tensorrt 10.13"))
    assert (v.verdict, v.rule) == ("unknown", "version-compatible")


def test_a_cuda_build_no_source_lists_is_unknown() -> None:
    v = evaluate(trt_plan("11.4.0.106", vc=True), target("RTX 4090", "tensorrt 11.4.0",
                                                         "460.1", "11"))
    assert (v.verdict, v.rule) == ("unknown", "driver")
    assert "no cited CUDA 11 build" in v.reason


def test_the_engine_file_wins_over_an_edited_record(here: Path) -> None:
    record = here / "records" / "only-sm86.json"
    original = record.read_text()
    edited = json.loads(original)
    edited["engine"]["header"]["compute_capabilities"] = ["sm75", "sm86"]
    record.write_text(json.dumps(edited, indent=1))
    try:
        write(here, "t4.yaml", f"""
            targets:
              - {{name: t4, gpu: T4, driver: "{NEW_DRIVER}", runtime: {RTX}, engines: [only-sm86]}}
            """)
        result = run("compat", "--deploy", "t4.yaml", "--format", "json")
    finally:
        record.write_text(original)
    assert result.exit_code == 1
    assert "records/only-sm86.json: engine.header differs from the header of" in result.stderr
    assert json.loads(result.stdout)[0]["verdict"] == "fails"


def test_build_check_fails_on_a_pattern_that_names_no_engine_as_build_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CI gate and the build agree: `build` exits 1 on a pattern that names no engine, so
    `build --check` does too (it passed, and the team's next `trtdoc build` failed)."""
    pytest.importorskip("tensorrt_rtx")
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "specs/edge.yaml", f"""
        name: edge-net
        model: {MODELS / 'mobilenet_v2_035.onnx'}
        backend: tensorrt-rtx
        profiles: [{{input: {{min: [1, 3, 224, 224], opt: [1, 3, 224, 224],
                                                        max: [2, 3, 224, 224]}}}}]
        targets: [sm89]
        """)
    good = f"""
        targets:
          - name: edge
            gpu: L4
            driver: "{NEW_DRIVER}"
            runtime: {RTX}
            engines: [edge-net{{}}]
        """
    write(tmp_path, "good.yaml", good.format(""))
    write(tmp_path, "typo.yaml", good.format(", edge-nte"))
    built = run("-q", "build", "specs", "--deploy", "good.yaml")
    assert built.exit_code == 0, built.output
    clean = run("build", "specs", "--check", "--deploy", "good.yaml")
    assert clean.exit_code == 0, clean.output
    for args in (("build", "specs", "--deploy", "typo.yaml"),
                 ("build", "specs", "--check", "--deploy", "typo.yaml")):
        result = run(*args)
        assert result.exit_code == 1, args
        assert ("typo.yaml:6:25: targets[0].engines[1]: 'edge-nte' names no engine in the "
                "records. Hint: did you mean 'edge-net'?") in result.stderr.splitlines(), args


@pytest.mark.parametrize(("runtime", "driver", "line"), [
    ("tensorrt-rtx \uff11.7.1", None, "--runtime: '\uff11.7.1' is not a version"),
    (RTX, "\uff15\uff18\uff10.65.06", "--driver: '\uff15\uff18\uff10.65.06' is not a driver "
     "version"),
])
def test_versions_and_drivers_take_ascii_digits_only(runtime, driver, line, tmp_path) -> None:
    # Full-width digits passed Python's \d (and the loader) but not the shipped schema's.
    from trtdoc.errors import TrtdocError

    with pytest.raises(TrtdocError) as err:
        target_from_options("L4", runtime, driver)
    assert str(err.value).startswith(line)
    path = write(tmp_path, "deploy.yaml", "targets:\n  - name: t\n    gpu: L4\n"
                 f"    runtime: {runtime}\n" + (f'    driver: "{driver}"\n' if driver else ""))
    with pytest.raises(SpecErrors) as errs:
        load_deployment(path)
    assert [e for e in errs.value.errors if line.split(": ", 1)[1] in str(e)]
    schema = json.loads((REPO / "trtdoc" / "schema" / "deploy.schema.json").read_text())
    assert "\\d" not in json.dumps(schema)
