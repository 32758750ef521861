"""How long reading a huge ``trtexec --exportTimes`` file takes, and how much memory (issue 25).

    python bench/import_times.py                      # 10^6 inferences (about 270 MB)
    python bench/import_times.py --inferences 100000

The file is the real one in ../shared/fixtures/trex/fp32 (1,600 inferences of ResNet-18 on an
A100, TensorRT 8.x) repeated, in trtexec's own layout (``[`` then one ``{ ... }`` record a line,
``, `` before each but the first). The summary is made in a child process
(``latency_from_trtexec_times``: the streamed read, the values kept as 8-byte floats, the sort
and the histogram), timed from start to exit, its peak RSS from ``os.wait4``. The file goes
to a temporary folder, never to the repository.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TRTDOC_SHARED", REPO.parent / "shared"))
TIMES = SHARED / "fixtures" / "trex" / "fp32" / "resnet.onnx.engine.timing.json"

_SUMMARY = """
import sys
from pathlib import Path
from trtdoc.inspect.trtexec import latency_from_trtexec_times
latency = latency_from_trtexec_times(Path(sys.argv[1]))
print(latency.count, latency.median_ms, latency.p99_ms)
"""


def write_times(path: Path, inferences: int) -> int:
    """``inferences`` records in trtexec's layout, the real file's records over and over."""
    lines = [line.lstrip("[, ").rstrip() for line in TIMES.read_text().splitlines()]
    records = [line for line in lines if line.startswith("{")]
    with path.open("w", encoding="utf-8") as f:
        f.write("[\n")
        for i in range(inferences):
            f.write(("  " if i == 0 else ", ") + records[i % len(records)] + "\n")
        f.write("]\n")
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inferences", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "x.timing.json"
        size = write_times(path, args.inferences)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", _SUMMARY, str(path)], env=env,
                                 stdout=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        out = child.stdout.read().strip() if child.stdout else ""
        assert os.waitstatus_to_exitcode(status) == 0, out
        print(f"{args.inferences:,} inferences, {size / 2**20:.0f} MiB: {wall:.2f} s, "
              f"peak RSS {usage.ru_maxrss / 1024:.0f} MiB (count, median, p99: {out})")


if __name__ == "__main__":
    main()
