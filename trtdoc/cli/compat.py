"""``trtdoc inspect`` (an engine file's header) and ``trtdoc compat`` (will each engine run
where it is deployed), both without a GPU."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from trtdoc.cli.deployment import deployment_and_plans
from trtdoc.cli.exit_codes import handle_errors
from trtdoc.cli.options import from_project
from trtdoc.cli.output import Ui, one_line
from trtdoc.errors import TrtdocError


@click.command()
@click.argument("engine", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the facts as JSON.")
@click.option("--target", "gpu", metavar="GPU",
              help='Also say whether it runs on this GPU: a model ("L4") or a compute '
              'capability ("8.9", "sm89"). Needs --runtime.')
@click.option("--runtime", metavar='"FLAVOUR VERSION"',
              help='The runtime installed there, as "tensorrt-rtx 1.7.1" or "tensorrt 10.13.3".')
@click.option("--driver", metavar="VERSION", help="The driver installed there (550.90.07).")
@click.option("--cuda", metavar="MAJOR", help="The CUDA major of the runtime build there (13).")
@click.option("--strict", is_flag=True, help="Exit 1 on unknown as well as on fails.")
@click.pass_obj
@handle_errors
def inspect(ui: Ui, engine: Path, as_json: bool, gpu: str | None, runtime: str | None,
            driver: str | None, cuda: str | None, strict: bool) -> None:
    """Read an engine file's header without a GPU: backend, version, targets, weights.

    With --target and --runtime (and --driver), also say whether it runs there, from the
    header alone: exit 1 if it does not.
    """
    import json

    from trtdoc.inspect.header import engine_facts_from_header

    facts = engine_facts_from_header(engine)
    verdict = None
    if gpu is not None or runtime is not None or driver is not None or cuda is not None:
        if gpu is None or runtime is None:
            raise TrtdocError("--target and --runtime go together: say which GPU and which "
                              'runtime, as --target L4 --runtime "tensorrt-rtx 1.7.1"')
        from trtdoc.compat.deploy import target_from_options
        from trtdoc.compat.verdicts import Plan, evaluate

        target = target_from_options(gpu, runtime, driver, cuda)
        verdict = evaluate(Plan.from_header(engine.name, facts), target)
    if as_json:
        from trtdoc.typed import encode

        out: dict[str, Any] = encode(facts)
        if verdict is not None:
            out["deployment"] = encode(verdict)
        ui.out.print(json.dumps(out, indent=1), markup=False)
    else:
        rows = [("backend", facts.backend), ("version", facts.version),
                ("compute capabilities", ", ".join(facts.compute_capabilities) or "n/a"),
                ("weights", f"{facts.weights_bytes:,} bytes" if facts.weights_bytes is not None
                 else "n/a"),
                ("size", f"{facts.size_bytes:,} bytes")]
        for key, value in rows:
            ui.out.print(f"{key:<22}{value}", markup=False)
        if verdict is not None:
            ui.out.print(f"{'on ' + target.gpu.display:<21} {verdict.glyph} {verdict.verdict}: "
                         f"{verdict.reason}", markup=False)
            for check in verdict.checks:
                ui.out.print(f"  {check.outcome:<8} {check.rule:<23} {check.reason}"
                             + (f" (fix: {check.fix})" if check.outcome != "runs" and check.fix
                                else ""), markup=False)
    if verdict is not None and (verdict.verdict == "fails"
                                or (strict and verdict.verdict == "unknown")):
        sys.exit(1)


@click.command()
@click.option("--deploy", "deploy_file", type=click.Path(path_type=Path), default=None,
              help="The deployment file: where engines run (see README) [default: "
              "trtdoc.yml's deploy].")
@click.option("--records", type=click.Path(path_type=Path), default=None,
              help="Build records, one JSON file per engine [default: trtdoc.yml's records, "
              "else records].")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="A table for people, or JSON for tools.")
@click.option("--strict", is_flag=True, help="Exit 1 on unknown as well as on fails.")
@click.pass_obj
@handle_errors
@from_project(deploy_file="deploy", records="records", required=("deploy_file",))
def compat(ui: Ui, deploy_file: Path, records: Path, fmt: str, strict: bool) -> None:
    """Will each engine run where it is deployed? Exit 1 if a deployed engine does not.

    Every (engine, target) pair of the deployment file is checked from the records and engine
    headers, with no GPU: runs, fails or unknown, with the rule that decided it, its NVIDIA
    source and the fix. Unknown does not fail unless --strict.
    """
    import json

    from trtdoc.compat.verdicts import evaluate_all

    deployment, plans, problems = deployment_and_plans(deploy_file, records)
    verdicts = evaluate_all(plans, deployment.targets)
    for line in problems:
        ui.problem(line)
    if fmt == "json":
        from trtdoc.typed import encode

        ui.out.print(json.dumps([encode(v) for v in verdicts], indent=1, ensure_ascii=False),
                     markup=False, soft_wrap=True)
    else:
        _verdict_table(ui, verdicts)
        _bound_lines(ui, plans, deployment.targets)
    counts = {k: sum(v.verdict == k for v in verdicts) for k in ("runs", "fails", "unknown")}
    # With --format json, stdout is the JSON alone: its count goes with the logs.
    (ui.info if fmt == "json" else ui.result)(
        f"{len(verdicts)} deployed pair(s): {counts['runs']} run, {counts['fails']} fail, "
        f"{counts['unknown']} unknown"
        + (" (unknown fails with --strict)" if strict and counts["unknown"] else ""))
    if problems or counts["fails"] or (strict and counts["unknown"]):
        sys.exit(1)


def _bound_lines(ui: Ui, plans: Any, targets: Any) -> None:
    """The time lower bound of each deployed pair whose GPU has datasheet peaks."""
    from trtdoc.compat.verdicts import deployed_pairs
    from trtdoc.cost.bound import LABEL, engine_bound
    from trtdoc.cost.gpus import peaks_of

    lines = []
    for plan, target in deployed_pairs(plans, targets):
        peaks = peaks_of(target.gpu)
        if peaks is None or not any(layer.cost is not None for layer in plan.layers):
            continue
        b = engine_bound(plan.layers, peaks)
        lines.append(f"  {target.name}  {plan.name}  ≥ {b.ms:.4f} ms per inference"
                     + (f" ({b.unknown} layers without a cost not counted)" if b.unknown
                        else ""))
    if lines:
        ui.out.print(f"time per inference on the target's GPU: {LABEL}", markup=False)
        for line in lines:
            ui.out.print(one_line(line), markup=False, soft_wrap=True)


def _verdict_table(ui: Ui, verdicts: Any) -> None:
    """One row per pair, columns aligned; the fix on its own line under a pair that does not
    run. Plain text, so that a CI log shows it as a terminal does."""
    if not verdicts:
        return
    rows = [("target", "engine", "verdict", "why")]
    for v in verdicts:
        why = v.reason if v.verdict != "runs" else "; ".join(
            c.reason for c in v.checks if c.rule in ("rtx-targets", "hardware-compatibility",
                                                     "trt-version", "version-compatible",
                                                     "memory", "driver")) or v.reason
        rows.append((v.target, v.engine, f"{v.glyph} {v.verdict}", f"{why} [{v.rule}]"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for i, row in enumerate(rows):
        cells = [cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)]
        line = "  ".join([*cells, row[3]])
        ui.out.print(one_line(line), markup=False, soft_wrap=True)
        if i and verdicts[i - 1].verdict != "runs" and verdicts[i - 1].fix:
            ui.out.print(one_line(" " * (sum(widths) + 6) + "fix: " + verdicts[i - 1].fix),
                         markup=False, soft_wrap=True)
