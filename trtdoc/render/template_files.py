"""The loader of the user's templates folder (``--templates``, ``templates:`` in trtdoc.yml).

A template file may come from a pull request, and what it includes reaches the published site.
So every file loaded from the folder must be a regular file no larger than
:data:`MAX_TEMPLATE_BYTES` whose real path (symlinks followed) is inside the folder: a link to
``/etc/passwd`` or a FIFO (which would block the read) is one line naming the template and the
fix, a :class:`~trtdoc.errors.RenderError`, and nothing is read from it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import jinja2
import jinja2.loaders

from trtdoc.errors import RenderError, display_path

MAX_TEMPLATE_BYTES = 1024 * 1024


class UserTemplateLoader(jinja2.FileSystemLoader):
    """Jinja's FileSystemLoader for one folder, reading only regular files inside it."""

    def __init__(self, folder: Path) -> None:
        super().__init__(str(folder))
        self.folder = Path(folder)

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = jinja2.loaders.split_template_path(template)
        path = os.path.join(str(self.folder), *pieces)
        if not os.path.lexists(path):
            raise jinja2.TemplateNotFound(template)
        check_template_file(self.folder, Path(path))
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            with os.fdopen(fd, "rb") as f:
                data = f.read(MAX_TEMPLATE_BYTES + 1)
        except OSError as exc:
            raise RenderError(f"cannot be read ({exc.strerror or exc}); make it a readable "
                              "file", template=display_path(Path(path))) from None
        if len(data) > MAX_TEMPLATE_BYTES:
            raise _too_large(Path(path))
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RenderError(f"is not UTF-8 text (byte {exc.start}); save it as UTF-8",
                              template=display_path(Path(path))) from None
        mtime = os.path.getmtime(path)

        def uptodate() -> bool:
            try:
                return os.path.getmtime(path) == mtime
            except OSError:
                return False

        return source, os.path.normpath(path), uptodate


def check_template_file(folder: Path, path: Path) -> None:
    """Nothing if ``path`` is a regular file of at most :data:`MAX_TEMPLATE_BYTES` whose real
    path is inside ``folder``; else a :class:`RenderError` naming it and the fix."""
    shown = display_path(path)
    root = os.path.realpath(folder)
    real = os.path.realpath(path)
    if real != root and not real.startswith(root.rstrip(os.sep) + os.sep):
        raise RenderError(f"is a link to {real[:120]}, outside the templates folder "
                          f"{display_path(folder)}; replace the link with a copy of the template "
                          "you meant (templates may only read files inside their folder)",
                          template=shown)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise RenderError(f"cannot be read ({exc.strerror or exc}); make it a readable file",
                          template=shown) from None
    if not stat.S_ISREG(info.st_mode):
        raise RenderError("is not a regular file (a FIFO, device or folder); replace it with "
                          "a template file", template=shown)
    if info.st_size > MAX_TEMPLATE_BYTES:
        raise _too_large(path)


def _too_large(path: Path) -> RenderError:
    return RenderError(f"is larger than {MAX_TEMPLATE_BYTES // 1024 // 1024} MiB, more than a "
                       "template needs; make it smaller (split it, or move data into records)",
                       template=display_path(path))
