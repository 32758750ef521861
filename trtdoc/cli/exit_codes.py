"""Exit codes: a :class:`TrtdocError` is one stderr line per problem and exit code 1; a usage
error is click's exit code 2; running out of memory is one line and exit code 1; anything else
is a bug (one line and exit code 2, with ``-v`` its
traceback); Ctrl-C is exit code 130."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from trtdoc.cli.output import Ui
from trtdoc.errors import SpecErrors, TrtdocError

F = TypeVar("F", bound=Callable[..., Any])


def problem_count(errors: Any) -> int:
    """Problems in ``errors``, counting those a file's "… and K more" line stands for."""
    from trtdoc.spec.locations import MoreProblems

    return sum(e.count if isinstance(e, MoreProblems) else 1 for e in errors)


def handle_errors(func: F) -> F:
    """Run a command turning what it raises into stderr lines and an exit code (see above)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ui: Ui = click.get_current_context().find_object(Ui) or Ui(0)
        try:
            return func(*args, **kwargs)
        except SpecErrors as exc:
            for e in exc.errors:
                ui.problem(str(e))
            ui.problem(f"{problem_count(exc.errors)} problem(s) found")
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
        except MemoryError:
            # An input larger than this machine (or its ulimit) can hold: not a bug of trtdoc,
            # and not worth a traceback. Nothing half-written is left: writes are atomic.
            ui.problem("error: out of memory: the input is larger than this process may hold "
                       "(see `ulimit -v` and the machine's memory); run it where there is more "
                       "memory, or make the input smaller")
            sys.exit(1)
        except Exception as exc:  # noqa: BLE001 - a bug: one line, the traceback on request
            if ui.verbosity >= 1:
                raise
            ui.problem(f"error: trtdoc hit a bug ({type(exc).__name__}: "
                       f"{str(exc)[:200]!r}); run it again with -v to see the traceback, "
                       "and please report it")
            sys.exit(2)

    # functools.wraps keeps the signature F has, which mypy cannot see through the wrapper.
    return wrapper  # type: ignore[return-value]
