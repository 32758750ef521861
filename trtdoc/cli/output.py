"""How the CLI writes: results to stdout, progress and problems to stderr, one line each;
the build's summary table and progress bars."""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console


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

    def result(self, text: str) -> None:
        """A result line (``3 spec(s) OK``, ``2 page(s) written``): stdout, which ``-q`` keeps
        quiet as it does every success."""
        if self.verbosity >= 0:
            self.out.print(text, markup=False)

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


_STATUS_STYLE = {"built": "green", "reproduced": "green", "up-to-date": "dim",
                 "updated": "cyan", "re-checked": "cyan", "failed": "red", "stale": "yellow",
                 "removed": "yellow"}


def print_summary(ui: Ui, outcomes: Any) -> None:
    """The table at the end of a build: each engine's status, time and detail (stdout). A
    table on a terminal; in a pipe or a file, one plain line per engine, its columns aligned
    with spaces and never wrapped, for grep, awk and CI logs."""
    if ui.verbosity < 0:
        return
    # A failure's line was printed above; its row says at which stage it failed.
    rows = [(o.name, o.status, f"{o.seconds:.1f} s" if o.seconds else "",
             o.message if o.status != "failed"
             else f"failed at {o.stage}; see above" if getattr(o, "stage", "")
             else "see above") for o in outcomes]
    if not ui.out.is_terminal:
        if not rows:
            return
        table = [("engine", "status", "time", "detail"), *rows]
        widths = [max(len(r[i]) for r in table) for i in range(3)]
        for name, status, time, detail in table:
            line = f"{name:<{widths[0]}}  {status:<{widths[1]}}  {time:>{widths[2]}}  {detail}"
            ui.out.print(one_line(line.rstrip()), markup=False, soft_wrap=True)
        return
    from rich.table import Table

    grid = Table(title=None, show_edge=False, pad_edge=False)
    grid.add_column("engine")
    grid.add_column("status")
    grid.add_column("time", justify="right")
    grid.add_column("detail", overflow="fold")
    for name, status, time, detail in rows:
        grid.add_row(name, f"[{_STATUS_STYLE.get(status, '')}]{status}[/]", time, detail)
    ui.out.print(grid)


class BuildProgress:
    """A rich progress bar per engine, driven by TensorRT's progress-monitor phases, under an
    overall "N of M engines" line when more than one engine builds; a finished engine says
    so. Events come from the build's own thread and from the thread that pumps the workers'.

    Bars are for a terminal; with ``-v`` the phases are also logged as lines. With neither
    (a pipe, a CI log), nobody watches: :attr:`watching` is False, rich's progress module is
    not even imported, and the build is given no event callback (so TensorRT gets no progress
    monitor calling into Python while it builds)."""

    def __init__(self, ui: Ui) -> None:
        import contextlib
        import threading

        self.ui = ui
        self.bars: Any = None
        if ui.verbosity >= 0 and ui.err.is_terminal:
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bars = Progress(SpinnerColumn(), TextColumn("{task.fields[engine]}"),
                                 BarColumn(bar_width=24), TextColumn("{task.description}"),
                                 TimeElapsedColumn(), console=ui.err, transient=True)
        # What `with progress.progress:` enters: the bars, or nothing to show.
        self.progress: Any = self.bars if self.bars is not None else contextlib.nullcontext()
        self.tasks: dict[str, Any] = {}
        self.logged: set[tuple[str, str]] = set()
        self.finished: set[str] = set()
        self.overall: Any = None
        self.total = 0
        self.lock = threading.Lock()

    @property
    def watching(self) -> bool:
        """Whether events show anywhere: bars on a terminal, or phase lines with ``-v``."""
        return self.bars is not None or self.ui.verbosity >= 1

    def __call__(self, event: tuple[str, str, str, int, int]) -> None:
        with self.lock:
            self._event(*event)

    def _event(self, engine: str, kind: str, text: str, step: int, total: int) -> None:
        if engine in self.finished:
            return  # a worker's last phases can arrive after its outcome
        if kind == "phase" and (engine, text) not in self.logged:
            # With -v, phases are also logged as lines: readable in CI logs with no terminal.
            # Once each: TensorRT repeats its phases for every profile and every reformat.
            self.logged.add((engine, text))
            self.ui.debug(f"{engine}: {text}")
        if self.bars is not None:
            self._bar(self.bars, engine, kind, text, step, total)
        if kind == "done":
            self.finished.add(engine)

    def _bar(self, bars: Any, engine: str, kind: str, text: str, step: int, total: int) -> None:
        if kind == "planned":
            self.total = total
            if total > 1:
                self.overall = bars.add_task(f"0 of {total} engines", engine="", total=total)
            return
        task = self.tasks.get(engine)
        if task is None:
            task = self.tasks[engine] = bars.add_task(text, engine=engine, total=None)
        if kind == "done":
            bars.update(task, description="failed" if text == "failed" else "done",
                        completed=1, total=1)
            bars.stop_task(task)
            if self.overall is not None:
                done = len(self.finished) + 1  # this one is added once the bars are drawn
                bars.update(self.overall, completed=done,
                            description=f"{done} of {self.total} engines")
            return
        if kind == "phase":
            bars.update(task, description=text, completed=0, total=total or None)
        else:
            bars.update(task, completed=step)
