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
    """The table at the end of a build: each engine's status, time and detail (stderr)."""
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


class BuildProgress:
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
