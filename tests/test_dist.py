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


def test_a_folder_added_to_sys_path_later_is_read(tmp_path, monkeypatch) -> None:
    """Ray adds its thirdparty_files folder (psutil, setproctitle) to sys.path when imported:
    a version read before must not hide the distributions there afterwards."""
    assert dist_version("trtdoc-late-dist") is None
    meta = tmp_path / "trtdoc_late_dist-1.2.3.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: trtdoc-late-dist\n"
                                   "Version: 1.2.3\n\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert dist_version("trtdoc-late-dist") == "1.2.3"
