"""How long ``trtdoc diff --base HEAD`` takes, and how much memory, on a huge record (issue 26).

    python bench/record_scale.py                   # 10^5 layers, 20 fused names each
    python bench/record_scale.py --layers 200000 --fused 0 --keep /tmp/rec

The record is bench/import_scale.py's import of the ResNet-18 trtexec export repeated block
after block, with ``--fused`` ONNX names added to each layer (2.2 KB a layer with 20, about
the size of a big real engine's layers). It is committed to a throw-away git repository, one
layer's type is changed in the working tree, and ``trtdoc diff --base HEAD`` is run as a child
process (wall time, CPU and peak RSS from ``os.wait4``), optionally under an address-space
limit (``--address-space-gib``, as ``ulimit -v`` sets it).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))


def make_repo(work: Path, layers: int, fused: int) -> Path:
    import import_scale

    from trtdoc.importer import record_from_trtexec
    from trtdoc.record.files import write_record

    repo = work / "repo"
    (repo / "records").mkdir(parents=True, exist_ok=True)
    graph, profile = import_scale.write_export(work, layers)
    record = record_from_trtexec("huge", graph, profile)
    if fused:
        record = replace(record, inspection=replace(record.inspection, layers=tuple(
            replace(x, fused=tuple(f"onnx::/model/backbone/stage{i % 7}/block{j}/conv_{i}"
                                   for j in range(fused)))
            for i, x in enumerate(record.inspection.layers))))
    path = repo / "records" / "huge.json"
    write_record(path, record)
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}
    for args in (["init", "-q"], ["add", "records"], ["commit", "-q", "-m", "huge"]):
        subprocess.run(["git", *args], cwd=repo, check=True, env=env)
    text = path.read_text()
    path.write_text(text.replace('"type": "CaskConvolution"', '"type": "CaskPooling"', 1))
    return repo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=100_000)
    parser.add_argument("--fused", type=int, default=20)
    parser.add_argument("--address-space-gib", type=float, default=2.0)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="trtdoc-record-scale-"))
    repo = make_repo(work, args.layers, args.fused)
    size = (repo / "records" / "huge.json").stat().st_size
    limit = int(args.address_space_gib * 2**30)

    def limited() -> None:
        if limit > 0:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "trtdoc.cli", "diff", "--base", "HEAD",
                             "--records", "records"], cwd=repo, preexec_fn=limited,
                            env={**os.environ, "PYTHONPATH": str(REPO)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    assert proc.stdout is not None and proc.stderr is not None
    print(f"record: {args.layers:,} layers, {size / 2**20:.0f} MiB; address space "
          f"{args.address_space_gib:g} GiB")
    print(f"diff --base HEAD: exit {os.waitstatus_to_exitcode(status)}, {wall:.1f} s wall, "
          f"{usage.ru_utime + usage.ru_stime:.1f} s CPU, peak RSS {usage.ru_maxrss / 1024:.0f} MiB")
    print((proc.stdout.read().decode().splitlines() or [""])[0])
    print(proc.stderr.read().decode()[-500:], end="")


if __name__ == "__main__":
    main()
