"""Installed versions (the trtdoc and TensorRT versions every record and page states) are read
without importlib.metadata, and must say what it says."""

from __future__ import annotations

import importlib.metadata

from trtdoc.versions import dist_version


def test_every_installed_distribution_has_the_version_importlib_metadata_reads() -> None:
    seen = 0
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        assert dist_version(name) == importlib.metadata.version(name), name
        seen += 1
    assert seen > 20  # the venv's packages, tensorrt_rtx among them
    assert dist_version("tensorrt-rtx") == importlib.metadata.version("tensorrt_rtx")
    assert dist_version("no-such-package-here") is None
