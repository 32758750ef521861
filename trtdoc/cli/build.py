"""``trtdoc check``, ``trtdoc build`` (and its ``--check``) and ``trtdoc convert``: the
commands that start from specs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from trtdoc.cli.deployment import report_unmatched
from trtdoc.cli.exit_codes import handle_errors, problem_count
from trtdoc.cli.options import (
    PagePaths,
    from_project,
    from_the_project,
    site_options,
    triton_option,
)
from trtdoc.cli.output import BuildProgress, Ui, one_line, print_summary
from trtdoc.cli.pages import PagesFollow, render_pages
from trtdoc.cli.site_config import site_config_problems
from trtdoc.cli.triton import check_triton_repository, write_triton
from trtdoc.errors import SpecErrors, TrtdocError, display_path


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_obj
@handle_errors
@from_project(paths="specs", required=("paths",))
def check(ui: Ui, paths: tuple[Path, ...]) -> None:
    """Validate specs without building: every problem, one line each.

    PATHS are spec files or folders (default: trtdoc.yml's specs)."""
    from trtdoc.check import check_specs

    good, errors = check_specs(paths)
    # A spec's tags need the tags plugin even before its page is written.
    errors += site_config_problems(needs_tags=any(g.spec.tags for g in good) or None)
    if errors:
        raise SpecErrors(errors)
    if not good:  # right after `trtdoc init`: say why there is nothing, not "OK: "
        ui.result("0 spec(s) OK: no spec yet (a file of comments only, such as init's "
                  "specs/example.yaml, is skipped)")
        return
    ui.result(f"{len(good)} spec(s) OK: {', '.join(s.spec.name for s in good)}")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Engines, build logs and caches (not checked in) [default: trtdoc.yml's "
              "build, else build].")
@click.option("-j", "--jobs", type=click.IntRange(1), default=1, show_default=True,
              help="Build this many engines in parallel processes.")
@click.option("--ray", "ray_address", metavar="ADDRESS",
              help="Build each engine as a task on this Ray cluster (host:port, or auto for "
              "the one running here); needs trtdoc[ray].")
@click.option("--force", is_flag=True, help="Rebuild even if nothing changed.")
@click.option("--only", multiple=True, metavar="NAME", help="Build only these engines.")
@click.option("--check", "check_only", is_flag=True,
              help="Build nothing; exit 1 and list the records and pages that would change.")
@triton_option
@click.pass_obj
@handle_errors
@from_project(paths="specs", out="build", required=("paths",))
@site_options
def build(ui: Ui, paths: tuple[Path, ...], out: Path, pages: PagePaths, jobs: int,
          ray_address: str | None, force: bool, only: tuple[str, ...], check_only: bool,
          triton_repo: Path | None) -> None:
    """Build every engine from its spec, write its record and render the site.

    PATHS are spec files or folders (default: trtdoc.yml's specs)."""
    from trtdoc.build.check import check_records
    from trtdoc.build.run import build_all
    from trtdoc.paths import OutputPaths

    records, site = pages.records, pages.site
    outputs = OutputPaths(out=out, records=records)
    if ray_address is not None and jobs > 1:
        raise TrtdocError("--jobs and --ray: choose one; on Ray, the cluster's CPUs decide how "
                          "many engines build at once")
    _separate(out=out, records=records, site=site)
    if triton_repo is not None:
        if check_only:
            raise TrtdocError("--triton writes a model repository, and --check writes "
                              "nothing; run `trtdoc triton` after the build instead")
        check_triton_repository(triton_repo, records=records, site=site, out=out)
    if check_only:
        from trtdoc.render.escape import slug
        from trtdoc.render.site_pages import ENGINES_DIR

        result = check_records(paths, outputs, only)
        # The pages as the records a build would leave (documentation edits applied, removed
        # records gone), and the page of every engine a build would replace.
        stale_pages = render_pages(ui, pages, dry_run=True, strict=False,
                                   records=result.expected) or []
        stale_pages += [site / ENGINES_DIR / f"{slug(n)}.md" for n in result.rebuilt]
        if result.rebuilt:  # a new record is not known before the build: the pages of all
            stale_pages += [site / ENGINES_DIR / "index.md", site / "compatibility.md",
                            site / "changes.md"]
        for e in result.spec_errors:
            ui.problem(str(e))
        for o in result.outcomes:
            if o.status == "failed":
                ui.problem(o.message)
            elif o.status == "stale":
                ui.debug(f"{o.name}: {o.message}")
        changed = sorted({*map(str, result.would_change), *map(str, stale_pages)})
        for path in changed:
            ui.out.print(f"would change: {path}", markup=False)
        site_problems = site_config_problems(site)
        for e in site_problems:
            ui.problem(str(e))
        # The same gate a build ends with: a pattern that names no engine fails both.
        unmatched = report_unmatched(ui, pages.deployment, records)
        if result.failed or changed or site_problems or unmatched:
            again = "" if from_the_project("paths") else " " + " ".join(map(str, paths))
            failed = sum(o.status == "failed" for o in result.outcomes)
            problems = (problem_count(result.spec_errors) + failed + len(site_problems)
                        + unmatched)
            if changed:
                ui.problem(f"{len(changed)} file(s) would change"
                           + (f", {problems} problem(s)" if problems else "")
                           + f"; run `trtdoc build{again}` and commit the result")
            else:  # a build would not fix these (mkdocs.yml, deploy.yaml, a spec): as `check`
                ui.problem(f"{problems} problem(s) found")
            sys.exit(1)
        ui.result("records and pages match the specs")
        return
    from trtdoc.lock import project_lock

    # One lock over everything this command writes, rendering included.
    with project_lock((out, records, site), "build"):
        progress = BuildProgress(ui)
        with progress.progress:
            result = build_all(paths, outputs, jobs=jobs, force=force, only=only,
                               on_event=progress if progress.watching else None,
                               on_published=PagesFollow(ui, pages),
                               publish_last=False,  # the render below follows it
                               ray=ray_address)
        _report_build(ui, result)
        if ui.verbosity >= 2:
            _show_logs(ui, outputs, result)
        render_failed = render_pages(ui, pages, dry_run=False, strict=False) is None
    unmatched = report_unmatched(ui, pages.deployment, records)
    triton_problems = (write_triton(ui, triton_repo, outputs) if triton_repo is not None
                       else 0)
    site_problems = site_config_problems(site)
    for e in site_problems:
        ui.problem(str(e))
    if result.failed or render_failed or unmatched or triton_problems or site_problems:
        failed = (sum(o.status == "failed" for o in result.outcomes)
                  + problem_count(result.spec_errors) + len(site_problems))
        ui.problem(f"{failed + render_failed + unmatched + triton_problems} problem(s); the "
                   "last good engines, records and pages were kept")
        sys.exit(1)


def _separate(*, out: Path, records: Path, site: Path) -> None:
    """Engines and logs are build products: never inside the checked-in records or pages."""
    import os

    def inside(a: Path, b: Path) -> bool:
        ra, rb = os.path.realpath(a), os.path.realpath(b)
        return ra == rb or ra.startswith(rb.rstrip(os.sep) + os.sep)

    # Say where each folder came from: a flag, or trtdoc.yml (whose key for --out is build).
    def named(param: str, key: str) -> str:
        return f"trtdoc.yml's {key}:" if from_the_project(param) else f"--{param}"

    out_name, records_name, site_name = (named("out", "build"), named("records", "records"),
                                         named("site", "site"))
    fix = ("set build: outside records/ and site/ in trtdoc.yml" if from_the_project("out")
           else "pass an --out outside records/ and site/")
    for name, folder in ((records_name, records), (site_name, site)):
        if inside(out, folder):
            raise TrtdocError(f"{out_name} {display_path(out)} is inside {name} "
                              f"{display_path(folder)}; engines and build logs are not checked "
                              f"in: {fix}")
    if inside(records, site) or inside(site, records):
        raise TrtdocError(f"{records_name} {display_path(records)} and {site_name} "
                          f"{display_path(site)} overlap; mkdocs would publish the records as "
                          "pages: keep them apart")


def _show_logs(ui: Ui, outputs: Any, result: Any) -> None:
    """``-vv``: the TensorRT log of each engine this run built or failed, as the build kept
    it (``build/logs/``), each line made printable."""
    for o in result.outcomes:
        if o.status in ("up-to-date", "updated", "removed", "stale", "re-checked"):
            continue  # no builder ran
        # A failed build keeps the last good engine's log: its own is the failed log.
        for path in [outputs.failed_log(o.name) if o.status == "failed" else outputs.log(o.name)]:
            try:
                with path.open(encoding="utf-8", errors="replace") as log:
                    ui.err.print(f"--- {o.name}: TensorRT log ({display_path(path)})",
                                 markup=False, style="dim")
                    for line in log:
                        ui.err.print(one_line(line.rstrip("\n")), markup=False,
                                     style="dim")
            except OSError:
                continue


def _report_build(ui: Ui, result: Any) -> None:
    for e in result.spec_errors:
        ui.problem(str(e))
    for o in result.outcomes:
        if o.status == "failed":
            ui.problem(o.message)
    # A spec refused at check time has a row too (its name, or its file's when unknown).
    from trtdoc.build.failures import refused_at_check
    from trtdoc.build.outcome import Outcome

    print_summary(ui, [*result.outcomes, *(Outcome(n, "failed", spec_path=p, stage="check")
                                           for n, p, _ in refused_at_check(result.spec_errors))])
    built = sum(o.status in ("built", "reproduced") for o in result.outcomes)
    if built == 0 and not result.failed:
        ui.result(f"nothing to build: {len(result.outcomes)} engine(s) up to date")
    reproduced = sum(o.status == "reproduced" for o in result.outcomes)
    if reproduced:
        ui.result(f"{reproduced} engine(s) reproduced: rebuilt byte for byte as recorded")
    retried = [o for o in result.outcomes if o.node_retries]
    if retried:
        ui.info(f"{len(retried)} engine(s) retried after a Ray node or worker failed mid-build: "
                + ", ".join(f"{o.name} ({o.node_retries + 1} runs)" for o in retried))


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Build folder; the converted models go to OUT/cache/precision [default: "
              "trtdoc.yml's build, else build].")
@click.option("--only", multiple=True, metavar="NAME", help="Convert only these engines.")
@click.pass_obj
@handle_errors
@from_project(paths="specs", out="build", required=("paths",))
def convert(ui: Ui, paths: tuple[Path, ...], out: Path, only: tuple[str, ...]) -> None:
    """Run only the precision step: write the fp16/int8 model an engine is built from."""
    from trtdoc.check import check_specs
    from trtdoc.lock import project_lock
    from trtdoc.paths import OutputPaths

    good, errors = check_specs(paths)
    for e in errors:
        ui.problem(str(e))
    chosen = [g for g in good if not only or g.spec.name in only]
    unknown = sorted(set(only) - {g.spec.name for g in good})
    if unknown and not errors:
        raise TrtdocError(f"--only {', '.join(unknown)}: no such engine in the specs; "
                          f"known: {', '.join(sorted(g.spec.name for g in good))}")
    outputs = OutputPaths(out=out)
    with project_lock((out,), "convert"):
        _convert(ui, chosen, outputs)
    if errors:
        sys.exit(1)


def _convert(ui: Ui, chosen: Any, outputs: Any) -> None:
    from trtdoc.build.precision_step import convert_for_spec
    from trtdoc.model import file_sha256

    for item in chosen:
        spec = item.spec
        if spec.precision == "fp32" or spec.precision_method != "model":
            ui.result(f"{spec.name}: no precision step (precision {spec.precision}, "
                    f"method {spec.precision_method}); the engine is built from "
                    f"{display_path(spec.model)}")
            continue
        result = convert_for_spec(spec, outputs)
        ui.out.print(f"{spec.name}: {display_path(result.model)} sha256 "
                     f"{file_sha256(result.model)}", markup=False, soft_wrap=True)
