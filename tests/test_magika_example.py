"""The magika example's checked-in model and data: models/fetch_magika.py and its outputs.

The files themselves are regenerated with ``python models/fetch_magika.py verify`` (it needs
PyPI); these tests check what can be checked without a download.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "models"))

import fetch_magika as fm  # noqa: E402
import magika_features as mf  # noqa: E402

DATA = REPO / "specs" / "files" / "data"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((DATA / fm.MANIFEST).read_text("utf-8"))


def _rows(name: str) -> np.ndarray:
    with np.load(DATA / name, allow_pickle=False) as z:
        assert z.files == ["bytes"]
        return z["bytes"]


def test_the_checked_in_model_is_the_pinned_file_from_the_magika_wheel() -> None:
    data = fm.MODEL.read_bytes()
    assert len(data) == fm.MODEL_BYTES == 3_163_737
    assert hashlib.sha256(data).hexdigest() == fm.MODEL_SHA256 == (
        "fe2d2eb49c5f88a9e0a6c048e15d6ffdf86235519c2afc535044de433169ec8c")


def test_features_follow_magikas_extraction() -> None:
    pad = mf.PADDING_TOKEN
    # Short content: beg is padded at the end, end at the start; whitespace is stripped
    # from the start of beg and the end of end only.
    f = mf.features_from_bytes(b" \t\nabc \n")
    assert len(f) == mf.FEATURES == 2048
    assert f[:1024] == list(b"abc \n") + [pad] * (1024 - 5)
    assert f[1024:] == [pad] * (1024 - 6) + list(b" \t\nabc")
    # Longer than a block: beg and end come from separate 4,096-byte blocks.
    content = b"\n" * 10 + bytes(range(256)) * 40 + b"  \r\n"
    f = mf.features_from_bytes(content)
    assert f[:1024] == list(bytes(range(256)) * 4)
    assert f[1024:] == list(content.rstrip()[-1024:])
    # Whitespace beyond the first block is not stripped: it is outside what magika reads.
    assert mf.features_from_bytes(b" " * 5000 + b"x")[:2] == [pad, pad]
    assert mf.features_from_bytes(b"") == [pad] * 2048
    assert not mf.runs_the_model(mf.features_from_bytes(b"   seven"[:7]))
    assert mf.runs_the_model(mf.features_from_bytes(b"12345678"))


def test_features_from_a_file_match_features_from_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"  hello\n" * 3000)
    assert mf.features_from_file(path) == mf.features_from_bytes(path.read_bytes())


def test_data_rows_are_real_files_in_two_disjoint_sets(manifest: dict) -> None:
    calibration, held_out = _rows(fm.CALIBRATION), _rows(fm.HELD_OUT)
    files = manifest["files"]
    for split, x in (("calibration", calibration), ("held_out", held_out)):
        rows = [r for r in files if r["split"] == split]
        assert x.dtype == np.int32 and x.shape == (len(rows), 2048)
        assert [r["row"] for r in rows] == list(range(len(rows)))
        assert x.min() >= 0 and x.max() <= mf.PADDING_TOKEN
        assert all(mf.runs_the_model(row) for row in x)
        assert len({r["kind"] for r in rows}) >= 30  # diverse content, not one file type
    digests = {s: {r["sha256"] for r in files if r["split"] == s}
               for s in ("calibration", "held_out")}
    assert not digests["calibration"] & digests["held_out"]
    assert not {r.tobytes() for r in calibration} & {r.tobytes() for r in held_out}
    assert [s["file"] for s in manifest["sources"]] == [s.filename for s in fm.SOURCES]
    assert manifest["model_sha256"] == fm.MODEL_SHA256


def test_a_row_recomputes_from_the_file_it_names(manifest: dict) -> None:
    # The one source file in the repository: the model itself is a member of the magika wheel.
    (row,) = [r for r in manifest["files"] if r["member"] == fm.MODEL_MEMBER]
    assert row["sha256"] == fm.MODEL_SHA256
    x = _rows(fm.CALIBRATION if row["split"] == "calibration" else fm.HELD_OUT)
    assert x[row["row"]].tolist() == mf.features_from_file(fm.MODEL)


def test_the_fp32_model_still_gives_the_recorded_labels(manifest: dict) -> None:
    ort = pytest.importorskip("onnxruntime")
    # The labels were recorded with the fp32 model; magika 1.0.3 itself gave the same labels
    # for all of these files (checked once, see models/README.md).
    space = manifest["labels"]  # magika's target_labels_space: the model's output order
    assert len(space) == 214
    assert {"c", "css", "csv", "elf", "gzip", "jpeg", "json", "pdf", "png", "python",
            "ttf", "woff2", "xml", "yaml"} <= {r["fp32_label"] for r in manifest["files"]}
    session = ort.InferenceSession(str(fm.MODEL), providers=["CPUExecutionProvider"])
    for split, name in (("calibration", fm.CALIBRATION), ("held_out", fm.HELD_OUT)):
        scores = session.run(None, {"bytes": _rows(name)})[0]
        assert [space[i] for i in scores.argmax(axis=1)] == [
            r["fp32_label"] for r in manifest["files"] if r["split"] == split]


def test_choose_is_a_fixed_rule(tmp_path: Path) -> None:
    files = [("a", f"d/{i}.py", f"print({i})  # a python file\n".encode()) for i in range(9)]
    files += [("a", "d/x.json", b'{"k": 1, "v": 2}'), ("b", "tiny.txt", b"  hi  "),
              ("b", "copy.py", files[0][2])]
    chosen = fm.choose(files)
    assert [(s, src, m) for s, src, m, _ in chosen] == [
        ("calibration", "a", "d/x.json"),
        ("held_out", "a", "d/0.py"), ("calibration", "a", "d/3.py"),
        ("held_out", "a", "d/5.py"), ("calibration", "a", "d/8.py")]
    assert fm.choose(list(reversed(files))) == chosen


def test_npz_files_are_written_byte_for_byte_the_same(tmp_path: Path) -> None:
    x = np.arange(12, dtype=np.int32).reshape(3, 4)
    fm.write_npz(tmp_path / "a.npz", bytes=x)
    fm.write_npz(tmp_path / "b.npz", bytes=x)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    with np.load(tmp_path / "a.npz", allow_pickle=False) as z:
        assert np.array_equal(z["bytes"], x)
