"""Which full TensorRT releases run on which Jetson modules and JetPack versions, as cited data.

From NVIDIA's "Migrating TensorRT from 10.x to 11.x on Jetson/JetPack" page of each release:
TensorRT 11.4.1 supports JetPack 7.2.2 or later on Jetson AGX Orin and Jetson Thor (through the
Linux SBSA package); 11.2.1, 11.3.0, 11.4.0 and 11.5.0 have no JetPack build ("Jetson
deployments remain on TensorRT 11.4.1"). A release not listed here, or a module the page does
not name (Orin NX, Orin Nano), is unknown: nothing is guessed. ``verdicts.check_jetson``
applies the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

_PAGE = ("https://docs.nvidia.com/deeplearning/tensorrt/{v}/api/migration/"
         "tensorrt-10x-to-11x-jetson.html")
JETSON_MIGRATION_URLS = {v: _PAGE.format(v=v) for v in
                         ("11.2.1", "11.3.0", "11.4.0", "11.4.1", "11.5.0")}
# Jetson Thor is the AGX Thor developer kit and its T5000/T4000 modules (compute capability
# 11.0); the pages name "Jetson AGX Orin" and "Jetson Thor"/"Jetson AGX Thor".
THOR = ("Jetson AGX Thor", "Jetson T5000", "Jetson T4000")


@dataclass(frozen=True)
class JetsonRelease:
    """One TensorRT release on Jetson: the modules and the first JetPack it supports there
    (no modules: the release has no JetPack build)."""

    version: tuple[int, ...]  # (11, 4, 1)
    modules: tuple[str, ...]
    min_jetpack: tuple[int, ...] | None
    sources: tuple[str, ...]


JETSON_RELEASES: tuple[JetsonRelease, ...] = (
    JetsonRelease((11, 2, 1), (), None, (JETSON_MIGRATION_URLS["11.2.1"],)),
    JetsonRelease((11, 3, 0), (), None, (JETSON_MIGRATION_URLS["11.3.0"],)),
    JetsonRelease((11, 4, 0), (), None, (JETSON_MIGRATION_URLS["11.4.0"],)),
    JetsonRelease((11, 4, 1), ("Jetson AGX Orin", *THOR), (7, 2, 2),
                  (JETSON_MIGRATION_URLS["11.4.1"], JETSON_MIGRATION_URLS["11.5.0"])),
    JetsonRelease((11, 5, 0), (), None, (JETSON_MIGRATION_URLS["11.5.0"],)),
)
JETSON_SOURCES = tuple(JETSON_MIGRATION_URLS.values())


def jetson_release(version: tuple[int, ...]) -> JetsonRelease | None:
    """The row of TensorRT ``version`` (its first three numbers), or None."""
    return next((r for r in JETSON_RELEASES if version[:3] == r.version), None)
