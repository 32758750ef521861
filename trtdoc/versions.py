"""Installed package versions, read from their ``*.dist-info`` folders.

``importlib.metadata`` imports the ``email`` package to parse METADATA files: 50 ms of every
``trtdoc`` command, for a version string. This reads the folder names (``name-1.2.3.dist-info``)
and the ``Version:`` line of their METADATA (``*.egg-info``: PKG-INFO), on ``sys.path`` in
order, as ``importlib.metadata`` finds them.
"""

from __future__ import annotations

import functools
import os
import re
import sys


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


@functools.cache
def _folders(path: tuple[str, ...]) -> dict[str, str]:
    """Normalised distribution name → its dist-info folder, first on ``path`` winning (read
    once per ``sys.path``: an import such as Ray's adds folders of its own to it)."""
    found: dict[str, str] = {}
    for entry in path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            for suffix, meta in ((".dist-info", "METADATA"), (".egg-info", "PKG-INFO")):
                if name.endswith(suffix):
                    dist = name[: -len(suffix)].partition("-")[0]
                    found.setdefault(_norm(dist), os.path.join(entry or ".", name, meta))
    return found


def dist_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or None when it is not installed."""
    meta = _folders(tuple(sys.path)).get(_norm(name))
    if meta is None:
        return None
    try:
        with open(meta, encoding="utf-8") as f:
            for line in f:
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip()
                if not line.strip():
                    break
    except OSError:
        pass
    return None
