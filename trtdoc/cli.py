"""The ``trtdoc`` command line. The only module that prints or exits.

A :class:`TrtdocError` becomes one line on stderr per problem and exit code 1. Anything else is
a bug: one line and exit code 2, and with ``-v`` its traceback (a CI log must not fill with
one, and a user's input must never be able to print one).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from trtdoc import __version__
from trtdoc.errors import SpecErrors, TrtdocError, display_path

F = TypeVar("F", bound=Callable[..., Any])


class Ui:
    """Where the CLI writes: results to stdout, progress and problems to stderr."""

    def __init__(self, verbosity: int) -> None:
        self.verbosity = verbosity
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        self.out = Console(highlight=False, soft_wrap=True)

    def info(self, text: str) -> None:
        if self.verbosity >= 0:
            self.err.print(text, markup=False)

    def debug(self, text: str) -> None:
        if self.verbosity >= 1:
            self.err.print(text, markup=False, style="dim")

    def problem(self, text: str) -> None:
        self.err.print(one_line(text), markup=False, style="red")


# A problem is one line, whatever a model, path or builder message holds: control characters
# (newlines, terminal escapes) are shown escaped, and a very long message is cut.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_MAX_LINE = 2000


def one_line(text: str) -> str:
    """``text`` as one printable line of at most ``_MAX_LINE`` characters."""
    text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    if len(text) > _MAX_LINE:
        text = (text[:_MAX_LINE] + f"… ({len(text) - _MAX_LINE:,} more characters; the build "
                "log has them all)")
    return text


def _count(errors: Any) -> int:
    """Problems in ``errors``, counting those a file's "… and K more" line stands for."""
    from trtdoc.spec import MoreProblems

    return sum(e.count if isinstance(e, MoreProblems) else 1 for e in errors)


def _handle_errors(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ui: Ui = click.get_current_context().find_object(Ui) or Ui(0)
        try:
            return func(*args, **kwargs)
        except SpecErrors as exc:
            for e in exc.errors:
                ui.problem(str(e))
            ui.problem(f"{_count(exc.errors)} problem(s) found")
            sys.exit(1)
        except TrtdocError as exc:
            ui.problem(f"error: {exc}")
            sys.exit(1)
        except click.ClickException:  # a usage error: click says it, with exit code 2
            raise
        except KeyboardInterrupt:
            ui.problem("interrupted; what was written so far is complete, and the last good "
                       "engines, records and pages were kept")
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - a bug: one line, the traceback on request
            if ui.verbosity >= 1:
                raise
            ui.problem(f"error: trtdoc hit a bug ({type(exc).__name__}: "
                       f"{str(exc)[:200]!r}); run it again with -v to see the traceback, "
                       "and please report it")
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def _more(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    ui = ctx.find_object(Ui)
    if ui is not None and value:
        ui.verbosity += value


def _less(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    _more(ctx, _param, -value)


class _Group(click.Group):
    """A group whose ``-v``/``-q`` are also accepted after the subcommand
    (``trtdoc build specs/ -v``), where users type them; both places add up."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        cmd.params += [
            click.Option(["-v", "--verbose"], count=True, expose_value=False, callback=_more,
                         help="Say more (-vv: also the TensorRT log)."),
            click.Option(["-q", "--quiet"], count=True, expose_value=False, callback=_less,
                         help="Say only what went wrong."),
        ]
        super().add_command(cmd, name)


# --------------------------------------------------------------------------------------------
# Defaults from the project file (trtdoc.yml). A command takes them with one line,
# `@_from_project(param="project key", ...)` under `@_handle_errors`: each listed parameter the
# user did not give comes from trtdoc.yml, else from the built-in default below.
# --------------------------------------------------------------------------------------------
_BUILT_IN: dict[str, Any] = {"specs": (), "records": Path("records"), "site": Path("site"),
                             "build": Path("build"), "templates": None, "deploy": None}
_PROJECT_META = "trtdoc.project"
_MISSING = {
    "specs": "Missing argument 'PATHS...': name spec files or folders, or name them {where} "
             "(`specs: [specs/]`).",
    "deploy": "Missing option '--deploy': name the deployment file, or name it {where} "
              "(`deploy: deploy.yaml`).",
}


def _from_project(*, required: tuple[str, ...] = (), **params: str) -> Callable[[F], F]:
    """Fill each of ``params`` (a parameter name → a ``trtdoc.yml`` key) that the command line
    left out from the project file, else from ``_BUILT_IN``; a ``required`` one that neither
    gives is a usage error. Adds ``--project FILE`` to the command."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, project_file: Path | None, **kwargs: Any) -> Any:
            from trtdoc.project import find_project

            ctx = click.get_current_context()
            found = project_file if project_file is not None else find_project()
            project = None
            if found is not None:
                from trtdoc.project_file import load_project

                project = load_project(found)
            filled = set()
            for param, key in params.items():
                if kwargs.get(param) not in (None, ()):
                    continue  # a flag overrides the project file
                value = getattr(project, key) if project is not None else _BUILT_IN[key]
                if project is not None and value is not None:
                    value = (tuple(map(_near, value)) if isinstance(value, tuple)
                             else _near(value))
                    filled.add(param)
                if param in required and value in (None, ()):
                    raise click.UsageError(_MISSING[key].format(
                        where="in " + display_path(project.path) if project is not None
                        else "in a trtdoc.yml"), ctx=ctx)
                kwargs[param] = value
            ctx.meta[_PROJECT_META] = filled
            return func(*args, **kwargs)

        return click.option(  # type: ignore[return-value]
            "--project", "project_file", type=click.Path(path_type=Path), default=None,
            metavar="FILE", help="The project file whose paths are the defaults [default: the "
            "nearest trtdoc.yml here or above, within the repository].")(wrapper)

    return decorate


def _near(path: Path) -> Path:
    """A project path as the user would write it here: relative to the working directory."""
    import os

    try:
        return Path(os.path.relpath(path))
    except ValueError:  # another drive (Windows)
        return path


def _from_the_project(param: str) -> bool:
    """Whether ``param`` of the running command came from trtdoc.yml."""
    return param in click.get_current_context().meta.get(_PROJECT_META, ())


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="trtdoc",
                      message="%(prog)s %(version)s")
@click.option("-v", "--verbose", count=True, help="Say more (-vv: also the TensorRT log).")
@click.option("-q", "--quiet", count=True, help="Say only what went wrong.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """Build TensorRT engines from checked-in specs and publish what is inside them."""
    ctx.obj = Ui(verbose - quiet)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_obj
@_handle_errors
@_from_project(paths="specs", required=("paths",))
def check(ui: Ui, paths: tuple[Path, ...]) -> None:
    """Validate specs without building: every problem, one line each.

    PATHS are spec files or folders (default: trtdoc.yml's specs)."""
    from trtdoc.check import check_specs

    good, errors = check_specs(paths)
    if errors:
        raise SpecErrors(errors)
    ui.info(f"{len(good)} spec(s) OK: {', '.join(s.spec.name for s in good)}")


def _site_options(func: F) -> F:
    """--records, --site and --templates: where records live and where pages go."""
    options = (
        click.option("--records", type=click.Path(path_type=Path), default=None,
                     help="Build records, one JSON file per engine (check these in) "
                     "[default: trtdoc.yml's records, else records]."),
        click.option("--site", type=click.Path(path_type=Path), default=None,
                     help="mkdocs docs_dir that receives the generated pages [default: "
                     "trtdoc.yml's site, else site]."),
        click.option("--templates", type=click.Path(path_type=Path, file_okay=False),
                     default=None, help="Your own templates; any file here overrides the shipped "
                     "one [default: trtdoc.yml's templates]."),
    )
    for option in reversed(options):
        func = option(func)
    return func


def _deploy_option(func: F) -> F:
    return click.option(
        "--deploy", "deploy_file", type=click.Path(path_type=Path), default=None,
        help="A deployment file (deploy.yaml): the compatibility page becomes engines × "
        "its targets, and each engine page lists its targets with their verdicts [default: "
        "trtdoc.yml's deploy].")(func)


# issue 15: `build --triton OUT/`; the command itself is `trtdoc triton`, further down.
def _triton_option(func: F) -> F:
    return click.option(
        "--triton", "triton_repo", type=click.Path(path_type=Path, file_okay=False),
        default=None, metavar="OUT",
        help="After the build, write a Triton model repository there (as `trtdoc triton`).",
    )(func)


_STATUS_STYLE = {"built": "green", "reproduced": "green", "up-to-date": "dim",
                 "updated": "cyan", "re-checked": "cyan", "failed": "red", "stale": "yellow",
                 "removed": "yellow"}


def _summary(ui: Ui, outcomes: Any) -> None:
    from rich.table import Table

    table = Table(title=None, show_edge=False, pad_edge=False)
    table.add_column("engine")
    table.add_column("status")
    table.add_column("time", justify="right")
    table.add_column("detail", overflow="fold")
    for o in outcomes:
        table.add_row(o.name, f"[{_STATUS_STYLE.get(o.status, '')}]{o.status}[/]",
                      f"{o.seconds:.1f} s" if o.seconds else "", o.message if o.status != "failed"
                      else "see above")
    if ui.verbosity >= 0:
        ui.err.print(table)


class _Progress:
    """A rich progress bar per engine, driven by TensorRT's progress-monitor phases."""

    def __init__(self, ui: Ui) -> None:
        self.ui = ui
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.fields[engine]}"),
                                 BarColumn(bar_width=24), TextColumn("{task.description}"),
                                 TimeElapsedColumn(), console=ui.err, transient=True,
                                 disable=ui.verbosity < 0)
        self.tasks: dict[str, Any] = {}
        self.logged: set[tuple[str, str]] = set()

    def __call__(self, event: tuple[str, str, str, int, int]) -> None:
        engine, kind, text, step, total = event
        task = self.tasks.get(engine)
        if task is None:
            task = self.tasks[engine] = self.progress.add_task(text, engine=engine, total=None)
        if kind == "phase":
            # With -v, phases are also logged as lines: readable in CI logs with no terminal.
            # Once each: TensorRT repeats its phases for every profile and every reformat.
            if (engine, text) not in self.logged:
                self.logged.add((engine, text))
                self.ui.debug(f"{engine}: {text}")
            self.progress.update(task, description=text, completed=0,
                                 total=total or None)
        else:
            self.progress.update(task, completed=step)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Engines, build logs and caches (not checked in) [default: trtdoc.yml's "
              "build, else build].")
@_site_options
@click.option("-j", "--jobs", type=click.IntRange(1), default=1, show_default=True,
              help="Build this many engines in parallel processes.")
@click.option("--ray", "ray_address", metavar="ADDRESS",
              help="Build each engine as a task on this Ray cluster (host:port, or auto for "
              "the one running here); needs trtdoc[ray].")
@click.option("--force", is_flag=True, help="Rebuild even if nothing changed.")
@click.option("--only", multiple=True, metavar="NAME", help="Build only these engines.")
@click.option("--check", "check_only", is_flag=True,
              help="Build nothing; exit 1 and list the records and pages that would change.")
@_deploy_option
@_triton_option
@click.pass_obj
@_handle_errors
@_from_project(paths="specs", out="build", records="records", site="site",
               templates="templates", deploy_file="deploy", required=("paths",))
def build(ui: Ui, paths: tuple[Path, ...], out: Path, records: Path, site: Path,
          templates: Path | None, jobs: int, ray_address: str | None, force: bool,
          only: tuple[str, ...], check_only: bool, deploy_file: Path | None,
          triton_repo: Path | None) -> None:
    """Build every engine from its spec, write its record and render the site.

    PATHS are spec files or folders (default: trtdoc.yml's specs)."""
    from trtdoc.build import OutputPaths, build_all, check_records

    outputs = OutputPaths(out=out, records=records)
    if ray_address is not None and jobs > 1:
        raise TrtdocError("--jobs and --ray: choose one; on Ray, the cluster's CPUs decide how "
                          "many engines build at once")
    _separate(out=out, records=records, site=site)
    if triton_repo is not None:
        if check_only:
            raise TrtdocError("--triton writes a model repository, and --check writes "
                              "nothing; run `trtdoc triton` after the build instead")
        _triton_separate(triton_repo, records=records, site=site, out=out)
    deployment = _load_deployment(deploy_file)
    if check_only:
        from trtdoc.escape import slug
        from trtdoc.render import ENGINES_DIR

        result = check_records(paths, outputs, only)
        # The pages as the records a build would leave (documentation edits applied, removed
        # records gone), and the page of every engine a build would replace.
        stale_pages = _render(ui, outputs, site, templates, dry_run=True, strict=False,
                              records=result.expected, deployment=deployment) or []
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
        if result.failed or changed:
            again = "" if _from_the_project("paths") else " " + " ".join(map(str, paths))
            failed = sum(o.status == "failed" for o in result.outcomes)
            problems = _count(result.spec_errors) + failed
            ui.problem(f"{len(changed)} file(s) would change"
                       + (f", {problems} problem(s)" if problems else "")
                       + f"; run `trtdoc build{again}` and commit the result")
            sys.exit(1)
        ui.info("records and pages match the specs")
        return
    from trtdoc.lock import project_lock

    # One lock over everything this command writes, rendering included.
    with project_lock((out, records, site), "build"):
        progress = _Progress(ui)
        with progress.progress:
            result = build_all(paths, outputs, jobs=jobs, force=force, only=only,
                               on_event=progress,
                               on_published=_PagesFollow(ui, outputs, site, templates,
                                                         deployment),
                               publish_last=False,  # the render below follows it
                               ray=ray_address)
        _report_build(ui, result)
        if ui.verbosity >= 2:
            _show_logs(ui, outputs, result)
        render_failed = _render(ui, outputs, site, templates, dry_run=False,
                                strict=False, deployment=deployment) is None
    unmatched = _unmatched(ui, deployment, records)
    triton_problems = (_write_triton(ui, triton_repo, outputs) if triton_repo is not None
                       else 0)
    if result.failed or render_failed or unmatched or triton_problems:
        failed = (sum(o.status == "failed" for o in result.outcomes)
                  + _count(result.spec_errors))
        ui.problem(f"{failed + render_failed + unmatched + triton_problems} problem(s); the "
                   "last good engines, records and pages were kept")
        sys.exit(1)


def _load_deployment(deploy_file: Path | None) -> Any:
    """The deployment file, read before any work: a bad one is every problem, one line each."""
    if deploy_file is None:
        return None
    from trtdoc.compat.deploy import load_deployment

    return load_deployment(deploy_file)


def _unmatched(ui: Ui, deployment: Any, records: Path) -> int:
    """Say which of the deployment file's patterns name no engine in ``records``; how many."""
    if deployment is None:
        return 0
    _, plans, problems = _deployment_and_plans(deployment.path, records, deployment)
    unmatched = [p for p in problems if "names no engine" in p]
    for line in unmatched:
        ui.problem(line)
    return len(unmatched)


def _deployed(deployment: Any) -> dict[str, Any]:
    return {"deployment": deployment} if deployment is not None else {}


def _separate(*, out: Path, records: Path, site: Path) -> None:
    """Engines and logs are build products: never inside the checked-in records or pages."""
    import os

    def inside(a: Path, b: Path) -> bool:
        ra, rb = os.path.realpath(a), os.path.realpath(b)
        return ra == rb or ra.startswith(rb.rstrip(os.sep) + os.sep)

    # Say where each folder came from: a flag, or trtdoc.yml (whose key for --out is build).
    def named(param: str, key: str) -> str:
        return f"trtdoc.yml's {key}:" if _from_the_project(param) else f"--{param}"

    out_name, records_name, site_name = (named("out", "build"), named("records", "records"),
                                         named("site", "site"))
    fix = ("set build: outside records/ and site/ in trtdoc.yml" if _from_the_project("out")
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


class _PagesFollow:
    """Re-render the pages after each published engine, so a run that is killed leaves pages
    that agree with the records published so far. At most a tenth of the run goes to this;
    beyond that, pages wait for the render at the end."""

    SHARE = 0.1

    def __init__(self, ui: Ui, outputs: Any, site: Path, templates: Path | None,
                 deployment: Any = None) -> None:
        import time

        self.ui, self.outputs, self.site, self.templates = ui, outputs, site, templates
        self.deployment = deployment
        self.started = time.perf_counter()
        self.spent = 0.0

    def __call__(self) -> None:
        import time

        now = time.perf_counter()
        if self.spent > self.SHARE * (now - self.started):
            return
        with contextlib.suppress(TrtdocError):  # the render at the end of the run reports it
            _render(self.ui, self.outputs, self.site, self.templates, dry_run=False,
                    strict=False, quiet=True, deployment=self.deployment)
        self.spent += time.perf_counter() - now


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
    _summary(ui, result.outcomes)
    built = sum(o.status in ("built", "reproduced") for o in result.outcomes)
    if built == 0 and not result.failed:
        ui.info(f"nothing to build: {len(result.outcomes)} engine(s) up to date")
    reproduced = sum(o.status == "reproduced" for o in result.outcomes)
    if reproduced:
        ui.info(f"{reproduced} engine(s) reproduced: rebuilt byte for byte as recorded")
    retried = [o for o in result.outcomes if o.node_retries]
    if retried:
        ui.info(f"{len(retried)} engine(s) retried after a Ray node or worker failed mid-build: "
                + ", ".join(f"{o.name} ({o.node_retries + 1} runs)" for o in retried))


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Build folder; the converted models go to OUT/cache/precision [default: "
              "trtdoc.yml's build, else build].")
@click.option("--only", multiple=True, metavar="NAME", help="Convert only these engines.")
@click.pass_obj
@_handle_errors
@_from_project(paths="specs", out="build", required=("paths",))
def convert(ui: Ui, paths: tuple[Path, ...], out: Path, only: tuple[str, ...]) -> None:
    """Run only the precision step: write the fp16/int8 model an engine is built from."""
    from trtdoc.build import OutputPaths
    from trtdoc.check import check_specs
    from trtdoc.lock import project_lock

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
    from trtdoc.build import convert_for_spec
    from trtdoc.model import file_sha256

    for item in chosen:
        spec = item.spec
        if spec.precision == "fp32" or spec.precision_method != "model":
            ui.info(f"{spec.name}: no precision step (precision {spec.precision}, "
                    f"method {spec.precision_method}); the engine is built from "
                    f"{display_path(spec.model)}")
            continue
        result = convert_for_spec(spec, outputs)
        ui.out.print(f"{spec.name}: {display_path(result.model)} sha256 "
                     f"{file_sha256(result.model)}", markup=False, soft_wrap=True)


@cli.command()
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
@_handle_errors
def inspect(ui: Ui, engine: Path, as_json: bool, gpu: str | None, runtime: str | None,
            driver: str | None, cuda: str | None, strict: bool) -> None:
    """Read an engine file's header without a GPU: backend, version, targets, weights.

    With --target and --runtime (and --driver), also say whether it runs there, from the
    header alone: exit 1 if it does not.
    """
    import json

    from trtdoc.header import engine_facts_from_header

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
        out: dict[str, Any] = facts.to_dict()
        if verdict is not None:
            out["deployment"] = verdict.to_dict()
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


@cli.command()
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
@_handle_errors
@_from_project(deploy_file="deploy", records="records", required=("deploy_file",))
def compat(ui: Ui, deploy_file: Path, records: Path, fmt: str, strict: bool) -> None:
    """Will each engine run where it is deployed? Exit 1 if a deployed engine does not.

    Every (engine, target) pair of the deployment file is checked from the records and engine
    headers, with no GPU: runs, fails or unknown, with the rule that decided it, its NVIDIA
    source and the fix. Unknown does not fail unless --strict.
    """
    import json

    from trtdoc.compat.verdicts import evaluate_all

    deployment, plans, problems = _deployment_and_plans(deploy_file, records)
    verdicts = evaluate_all(plans, deployment.targets)
    for line in problems:
        ui.problem(line)
    if fmt == "json":
        ui.out.print(json.dumps([v.to_dict() for v in verdicts], indent=1, ensure_ascii=False),
                     markup=False, soft_wrap=True)
    else:
        _verdict_table(ui, verdicts)
    counts = {k: sum(v.verdict == k for v in verdicts) for k in ("runs", "fails", "unknown")}
    ui.info(f"{len(verdicts)} deployed pair(s): {counts['runs']} run, {counts['fails']} fail, "
            f"{counts['unknown']} unknown"
            + (" (unknown fails with --strict)" if strict and counts["unknown"] else ""))
    if problems or counts["fails"] or (strict and counts["unknown"]):
        sys.exit(1)


def _deployment_and_plans(deploy_file: Path, records: Path, deployment: Any = None
                          ) -> tuple[Any, list[Any], list[str]]:
    """The deployment file, a plan per readable record, and one line per problem (a record
    that cannot be read, a pattern that names no engine). A bad deployment file raises."""
    from trtdoc.compat.deploy import load_deployment
    from trtdoc.compat.verdicts import Plan
    from trtdoc.errors import RecordError
    from trtdoc.record import read_record

    deployment = deployment or load_deployment(deploy_file)
    if not records.is_dir():
        raise TrtdocError(f"{display_path(records)}: no such records folder; build first "
                          "(`trtdoc build specs/`) or pass --records")
    plans, problems = [], []
    for path in sorted(records.glob("*.json")):
        try:
            record = read_record(path)
        except RecordError as exc:
            problems.append(f"{exc} (its deployments were not checked)")
            continue
        plans.append(Plan.from_record(record))
        # The engine file, where it is here, is the truth: a record edited to claim other
        # targets (or an engine replaced) is a problem, and the verdicts use the file's header.
        engine = Path(record.engine_path) if record.engine_path else None
        if engine is None or record.header is None or not engine.is_file():
            continue
        from trtdoc.errors import InspectError
        from trtdoc.header import engine_facts_from_header

        try:
            facts = engine_facts_from_header(engine)
        except InspectError as exc:
            problems.append(f"{display_path(path)}: its engine cannot be read ({exc}); rebuild "
                            "it with `trtdoc build --force`")
            continue
        if facts.to_dict() != record.header.to_dict():
            problems.append(f"{display_path(path)}: engine.header differs from the header of "
                            f"{display_path(engine)} (the record was edited or the engine "
                            "replaced); the verdicts use the engine file. Rebuild with "
                            "`trtdoc build --force`")
            plans[-1] = dataclasses.replace(plans[-1], flavour=facts.backend,
                                            version=facts.version,
                                            compute_capabilities=facts.compute_capabilities)
    problems += [str(e) for e in deployment.unmatched({p.name: p.tags for p in plans})]
    return deployment, plans, problems


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
                                                     "driver")) or v.reason
        rows.append((v.target, v.engine, f"{v.glyph} {v.verdict}", f"{why} [{v.rule}]"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for i, row in enumerate(rows):
        cells = [cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)]
        line = "  ".join([*cells, row[3]])
        ui.out.print(one_line(line), markup=False, soft_wrap=True)
        if i and verdicts[i - 1].verdict != "runs" and verdicts[i - 1].fix:
            ui.out.print(one_line(" " * (sum(widths) + 6) + "fix: " + verdicts[i - 1].fix),
                         markup=False, soft_wrap=True)


@cli.command("import")
# Paths are checked by the importer, not by click, so a directory, FIFO or device gets one line
# naming the file (and a FIFO is never opened blocking).
@click.argument("layer_info", type=click.Path(path_type=Path))
@click.option("--profile", type=click.Path(path_type=Path),
              help="trtexec --exportProfile JSON (per-layer times).")
@click.option("--name", required=True, help="Engine name (the page slug).")
@click.option("--model", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The ONNX model the engine came from, for model facts.")
@click.option("--engine", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The engine file, for header facts and hashes.")
@click.option("--force", is_flag=True,
              help="Replace an existing record of that name (kept in records/.history/).")
@_site_options
@click.pass_obj
@_handle_errors
@_from_project(records="records", site="site", templates="templates")
def import_(ui: Ui, layer_info: Path, profile: Path | None, name: str, model: Path | None,
            engine: Path | None, force: bool, records: Path, site: Path,
            templates: Path | None) -> None:
    """Make a record (and page) from trtexec --exportLayerInfo / --exportProfile files.

    Files over 2 GiB or with over 2,000,000 layers are refused.
    """
    from trtdoc.build import OutputPaths
    from trtdoc.diff import history_path
    from trtdoc.importer import record_from_trtexec, replace_check
    from trtdoc.record import write_atomic, write_record
    from trtdoc.spec import name_problem

    problem = name_problem(name)
    if problem is not None:
        raise TrtdocError(f"--name: {problem}")
    from trtdoc.errors import os_error_message
    from trtdoc.lock import project_lock

    outputs = OutputPaths(records=records)
    twins = sorted(p.stem for p in records.glob("*.json")
                   if p.stem != name and p.stem.lower() == name.lower()) if records.is_dir() else []
    if twins:
        raise TrtdocError(f"--name: {name!r} differs only in case from the record "
                          f"{display_path(records / (twins[0] + '.json'))}; on case-insensitive "
                          "file systems (macOS, Windows) they would be one file: choose another "
                          "name")
    replace_check(outputs.record(name), force=force)  # refuse before any work is done
    record = record_from_trtexec(name, layer_info, profile, model=model, engine=engine)
    with project_lock((records, site), "import"):
        old = replace_check(outputs.record(name), force=force)
        try:
            if old is not None:
                # The history copy first: the record is the commit point (see build.py).
                write_atomic(history_path(records, name), old)
            write_record(outputs.record(name), record)  # streamed: no 1 GB string
        except OSError as exc:
            raise TrtdocError(f"{os_error_message(exc, records)}; nothing was imported"
                              ) from None
        timed = sum(layer.time_ms is not None for layer in record.inspection.layers)
        ui.info(f"{name}: {len(record.inspection.layers)} layers, {timed} with times "
                f"→ {outputs.record(name)}")
        if _render(ui, outputs, site, templates, dry_run=False, strict=False,
                   fresh={name: record}) is None:
            sys.exit(1)


@cli.command()
@_site_options
@_deploy_option
@click.pass_obj
@_handle_errors
@_from_project(records="records", site="site", templates="templates", deploy_file="deploy")
def render(ui: Ui, records: Path, site: Path, templates: Path | None,
           deploy_file: Path | None) -> None:
    """Re-render every page from the records, without building (no GPU, no TensorRT)."""
    from trtdoc.lock import project_lock
    from trtdoc.paths import OutputPaths

    deployment = _load_deployment(deploy_file)

    if not records.is_dir():
        raise TrtdocError(f"{display_path(records)}: no such records folder; build first "
                          "(`trtdoc build specs/`) or pass --records to the folder you build "
                          "into (rendering an empty one would remove every engine page)")
    with project_lock((records, site), "render"):
        written = _render(ui, OutputPaths(records=records), site, templates, dry_run=False,
                          strict=False, deployment=deployment)
    if written is None or _unmatched(ui, deployment, records):
        sys.exit(1)
    ui.info(f"{len(written)} page(s) written")


# --------------------------------------------------------------------------------------------
# trtdoc diff (issue 14)
# --------------------------------------------------------------------------------------------
@cli.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--base", metavar="REF", default=None,
              help="Compare the records in the working tree with those at this git ref "
              "(read with git show; nothing is checked out).")
@click.option("--records", type=click.Path(path_type=Path), default=None,
              help="The records folder (with --base) [default: trtdoc.yml's, else records/].")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]),
              default="text", show_default=True,
              help="markdown: a summary short enough for a pull-request comment, the full "
              "tables collapsed; json: everything, for tools.")
@click.option("--templates", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Your own templates (diff.md.j2, _changes_table.md.j2) for --format "
              "markdown.")
@click.pass_obj
@_handle_errors
@_from_project(records="records", templates="templates")
def diff(ui: Ui, files: tuple[Path, ...], base: str | None, records: Path, fmt: str,
         templates: Path | None) -> None:
    """What changed: `diff --base REF` (records folder vs a git ref) or `diff OLD.json NEW.json`.

    Exit code 0 whether or not anything changed; 1 on a bad record, ref or argument.
    """
    from trtdoc.diff import diff_against_ref, diff_files

    if base is not None and files:
        raise TrtdocError("give either --base REF or two record files, not both")
    if base is None and len(files) != 2:
        raise TrtdocError("give two record files (trtdoc diff OLD.json NEW.json) or a git ref "
                          "(trtdoc diff --base origin/main)")
    result = diff_against_ref(records, base) if base is not None else diff_files(*files)
    if fmt == "json":
        import json

        from trtdoc.diff import diff_to_dict

        text = json.dumps(diff_to_dict(result), indent=1, ensure_ascii=False) + "\n"
    elif fmt == "markdown":
        from trtdoc.render import diff_markdown

        text = diff_markdown(result, templates_dir=templates)
    else:
        from trtdoc.diff import diff_text

        text = diff_text(result)
    sys.stdout.write(text)


def _render(ui: Ui, outputs: Any, site: Path, templates: Path | None, *,
            dry_run: bool, strict: bool = True, quiet: bool = False,
            records: Any = None, deployment: Any = None,
            fresh: Any = None) -> list[Path] | None:
    """Render pages from every record; with ``dry_run`` only list the pages that would change.

    A record that cannot be read is left out, with one line saying why, and its page stays as
    it was. With ``strict`` that is an error; otherwise the pages of the other records are
    rendered and None is returned, so the command can exit 1 after them.
    """
    from trtdoc.errors import RecordError, os_error_message

    if not dry_run and records is None:
        return _render_changed(ui, outputs, site, templates, strict=strict, quiet=quiet,
                               deployment=deployment, fresh=fresh)
    from trtdoc.diff import read_previous
    from trtdoc.record import read_gates, read_record
    from trtdoc.render import plan_site, render_site, stale_pages

    # Records are big trees of acyclic objects (200 records of 1,000 layers are ~10 million).
    # The cyclic garbage collector finds nothing in them, yet rescans them every few thousand
    # allocations: that tripled the time to read such a set. Reading makes no cycles, so it
    # runs without the collector; rendering runs with it, but with the records frozen out of
    # its scans.
    given, records, bad = records, [], []
    gc.disable()
    try:
        for path in sorted(outputs.records.glob("*.json")) if outputs.records.is_dir() else ():
            try:
                records.append(read_record(path))
            except RecordError as exc:
                bad.append((path, exc))
        if given is not None:
            records = list(given)
        records.sort(key=lambda r: r.name)
        previous = read_previous(outputs.records)
        gates = read_gates(outputs.records)
    finally:
        gc.enable()
    for _, exc in bad if not quiet else ():
        ui.problem(f"{exc} (its page was left as it was)")
    if bad and strict:
        raise TrtdocError(f"{len(bad)} record(s) cannot be read; fix or rebuild them")
    keep = [path.stem for path, _ in bad]
    gc.freeze()
    try:
        if dry_run:
            planned = plan_site(records, site, templates_dir=templates, previous=previous,
                                gates=gates, **_deployed(deployment))
            # A record that cannot be read is a file the build would replace.
            return [*(path for path, _ in bad),
                    *(p for p in stale_pages(site, planned)
                      if p.stem.split("~", 1)[0] not in keep)]
        try:
            result = render_site(records, site, templates_dir=templates, previous=previous,
                                 gates=gates, keep=keep, **_deployed(deployment))
        except OSError as exc:
            folder = Path(exc.filename).parent if exc.filename else site
            raise TrtdocError(f"{os_error_message(exc, folder)}; the pages were not all "
                              "written: run `trtdoc render` once it is fixed") from None
    finally:
        gc.unfreeze()
    ui.debug(f"rendered {len(result.written)} page(s), {len(result.unchanged)} unchanged")
    return None if bad else list(result.written)


def _render_changed(ui: Ui, outputs: Any, site: Path, templates: Path | None, *,
                    strict: bool, quiet: bool, deployment: Any,
                    fresh: Any = None) -> list[Path] | None:
    """``_render`` of the records on disk, rendering only pages whose inputs changed
    (``render_cache``): with nothing changed no record is decoded and Jinja is not loaded."""
    from trtdoc import render_cache
    from trtdoc.errors import os_error_message

    state = render_cache.State.load(
        outputs.records, site, templates=(templates, render_cache.shipped_templates()),
        deployment=deployment)
    pages = state.up_to_date()
    if pages is not None:
        ui.debug(f"rendered 0 page(s), {len(pages)} unchanged (no input changed)")
        return []
    from trtdoc.render import render_changed

    try:
        done = render_changed(state, templates_dir=templates, fresh=fresh,
                              **_deployed(deployment))
    except OSError as exc:
        folder = Path(exc.filename).parent if exc.filename else site
        raise TrtdocError(f"{os_error_message(exc, folder)}; the pages were not all "
                          "written: run `trtdoc render` once it is fixed") from None
    for _, exc in done.bad if not quiet else ():
        ui.problem(f"{exc} (its page was left as it was)")
    if done.bad and strict:
        raise TrtdocError(f"{len(done.bad)} record(s) cannot be read; fix or rebuild them")
    result = done.result
    ui.debug(f"rendered {len(result.written)} page(s), {len(result.unchanged)} unchanged")
    return None if done.bad else list(result.written)


@cli.command()
@click.argument("kind", type=click.Choice(["spec", "deploy", "project", "record"]))
@click.pass_obj
@_handle_errors
def schema(ui: Ui, kind: str) -> None:
    """Print the JSON Schema of a spec, deploy.yaml, trtdoc.yml or a build record.

    Generated from the code that validates those files; the same schemas ship in
    trtdoc/schema/. Point an editor at one with a first line such as
    `# yaml-language-server: $schema=<path>/spec.schema.json`.
    """
    from trtdoc.schemas import schema_text

    click.echo(schema_text(kind), nl=False)


# --------------------------------------------------------------------------------------------
# trtdoc lint (issue 14): the findings of records, one line each
# --------------------------------------------------------------------------------------------
@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--fail-on", type=click.Choice(["warning", "error"]), default="error",
              show_default=True, help="Exit 1 on a finding of this severity or worse.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="One line per finding, or JSON for tools.")
@click.option("--records", type=click.Path(path_type=Path), default=None,
              help="The records folder read without PATHS [default: trtdoc.yml's, else "
              "records/].")
@click.pass_obj
@_handle_errors
@_from_project(records="records")
def lint(ui: Ui, paths: tuple[Path, ...], fail_on: str, fmt: str, records: Path) -> None:
    """What each engine's build tells you: the findings of record files or folders
    (default: records/), one line each. Exit 1 at --fail-on or worse, or on a bad record."""
    import json

    from trtdoc.errors import RecordError
    from trtdoc.findings import (
        current_findings,
        finding_to_dict,
        fp32_candidates,
        fp32_variant,
        severity_at_least,
    )
    from trtdoc.record import read_record

    files, problems = _lint_files(paths or (records,))
    out: list[dict[str, Any]] = []
    counts = {"error": 0, "warning": 0, "info": 0}
    failed = bool(problems)
    for line in problems:
        ui.problem(line)
    for path in files:
        try:
            record = read_record(path)
        except RecordError as exc:
            ui.problem(f"error: {exc}")
            failed = True
            continue
        fp32 = fp32_variant(record, fp32_candidates(path.parent, record))
        found, notes = current_findings(record, fp32)
        for note in notes:
            ui.info(one_line(f"{record.name}: note: {note}"))
        for f in found:
            counts[f.severity] += 1
            failed = failed or severity_at_least(f.severity, fail_on)
            if fmt == "text":
                ui.out.print(one_line(f.line(record.name)), markup=False, soft_wrap=True)
        out.append({"engine": record.name, "record": display_path(path), "notes": list(notes),
                    "findings": [finding_to_dict(f) for f in found]})
    if fmt == "json":
        ui.out.print(json.dumps(out, indent=1, ensure_ascii=False), markup=False,
                     soft_wrap=True)
    ui.info(f"{sum(counts.values())} finding(s) in {len(out)} record(s): "
            f"{counts['error']} error, {counts['warning']} warning, {counts['info']} info "
            f"(--fail-on {fail_on})")
    if failed:
        sys.exit(1)


def _lint_files(paths: tuple[Path, ...]) -> tuple[list[Path], list[str]]:
    """The record files named by ``paths`` (files, or the *.json in folders), and one line
    per path that names none."""
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.glob("*.json") if not p.name.startswith("."))
            if not found:
                problems.append(f"error: {display_path(path)}: no records (*.json) in this "
                                "folder; build first (`trtdoc build specs/`) or name another")
            files += found
        elif path.exists():
            files.append(path)
        else:
            problems.append(f"error: {display_path(path)}: no such file or folder; name a "
                            "record file or a records folder")
    return files, problems


# --------------------------------------------------------------------------------------------
# trtdoc triton (issue 15): a Triton model repository from the records and stored engines
# --------------------------------------------------------------------------------------------
def _triton_separate(repository: Path, *, records: Path, site: Path, out: Path) -> None:
    """A model repository holds engines: never inside the checked-in records or pages, and
    never the build folder itself (whose engine store it links to)."""
    import os

    def inside(a: Path, b: Path) -> bool:
        ra, rb = os.path.realpath(a), os.path.realpath(b)
        return ra == rb or ra.startswith(rb.rstrip(os.sep) + os.sep)

    for name, folder in (("--records", records), ("--site", site)):
        if inside(repository, folder) or inside(folder, repository):
            raise TrtdocError(f"the Triton repository {display_path(repository)} and {name} "
                              f"{display_path(folder)} overlap; plans are not checked in: "
                              "write the repository outside records/ and site/")
    if os.path.realpath(repository) == os.path.realpath(out) or inside(out, repository):
        raise TrtdocError(f"the Triton repository {display_path(repository)} would hold the "
                          f"build folder {display_path(out)}; write it to a folder of its own, "
                          "such as triton/ or build/triton/")


def _write_triton(ui: Ui, repository: Path, outputs: Any) -> int:
    """Write the repository from every readable record; print what was written and one line
    per problem. Returns the number of problems."""
    from trtdoc.errors import RecordError
    from trtdoc.lock import project_lock
    from trtdoc.record import read_record
    from trtdoc.triton import CONFIG_NAME, VERSION, write_repository

    if not outputs.records.is_dir():
        raise TrtdocError(f"{display_path(outputs.records)} is not a folder of records; build "
                          "the engines first (`trtdoc build specs/`), or pass --records")
    records, problems = [], []
    for path in sorted(outputs.records.glob("*.json")):
        try:
            records.append(read_record(path))
        except RecordError as exc:
            problems.append(f"{exc} (its Triton model was left as it was)")
    with project_lock((repository,), "triton"):
        # A record that cannot be read may be of any model folder: none is removed then.
        result = write_repository(records, repository, outputs, remove_stale=not problems)
    for model in result.written:
        files = ", ".join(f"{VERSION}/{p.filename}" for p in model.plans)
        ui.out.print(f"{display_path(repository / model.name)}: {CONFIG_NAME}, {files}",
                     markup=False)
    for name in result.removed:
        ui.info(f"{display_path(repository / name)}: removed (no record is that model now)")
    for line in (*problems, *result.problems):
        ui.problem(line)
    if any(p.rtx for m in result.written for p in m.plans):
        ui.info("note: TensorRT-RTX plans need the TensorRT-RTX runtime; Triton's "
                "tensorrt_plan backend (full TensorRT) cannot load them")
    return len(problems) + len(result.problems)


@cli.command()
@click.argument("repository", type=click.Path(path_type=Path, file_okay=False))
@click.option("--records", type=click.Path(path_type=Path), default=None,
              help="Build records, one JSON file per engine [default: trtdoc.yml's, else "
              "records/].")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="The build folder whose engine store (engines/by-sha256/) holds the plans "
              "[default: trtdoc.yml's, else build/].")
@click.option("--site", type=click.Path(path_type=Path), default=None,
              help="The pages folder, which the repository must stay out of [default: "
              "trtdoc.yml's, else site/].")
@click.pass_obj
@_handle_errors
@_from_project(records="records", out="build", site="site")
def triton(ui: Ui, repository: Path, records: Path, out: Path, site: Path) -> None:
    """Write a Triton model repository: REPOSITORY/<model>/config.pbtxt and 1/model.plan."""
    from trtdoc.build import OutputPaths

    _triton_separate(repository, records=records, site=site, out=out)
    problems = _write_triton(ui, repository, OutputPaths(out=out, records=records))
    if problems:
        ui.problem(f"{problems} problem(s); the other models were written")
        sys.exit(1)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="trtdoc")


if __name__ == "__main__":
    main()
