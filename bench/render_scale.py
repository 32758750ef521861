"""``trtdoc render`` at scale: full, nothing changed, one record changed; and reading alone.

    python bench/render_scale.py                 # 200 records × 1,000 layers (~263 MiB)
    python bench/render_scale.py --count 20      # smaller
    python bench/render_scale.py --work /tmp/x   # keep the synthesised records there

Records are cloned from the real P1 seed records as ``bench/run.py``'s P3 does
(``run.synthesise``). Each figure is one whole command (interpreter start included) with its
peak RSS from ``os.wait4``; the render cache (``$XDG_CACHE_HOME``) is a folder of this run, so
"full" is a render with no manifest. Prints one JSON object of seconds and MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402  (bench/run.py: the seed records and synthesise)

TRTDOC = [
    str(Path(sys.executable).parent / "trtdoc")]


def _timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MiB, CPU seconds) of one command. The CPU time tells what a
    busy machine's wall time hides: it is what the command costs on an idle one."""
    start = time.perf_counter()
    # In the work folder: no trtdoc.yml or deploy.yaml of the repository applies.
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--layers", type=int, default=1000)
    parser.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp"))
                        / "trtdoc-render-scale")
    args = parser.parse_args()
    work: Path = args.work
    records = work / "records"
    seeds_dir = Path(os.environ.get("TMPDIR", "/tmp")) / "trtdoc-bench" / "p3" / "seed" / "records"
    marker = work / f"made-{args.count}x{args.layers}"
    if not marker.exists():
        if not seeds_dir.is_dir():
            raise SystemExit(f"no seed records in {seeds_dir}: run `python bench/run.py --only "
                             "P3` once to build them")
        seeds = [json.loads(p.read_text()) for p in sorted(seeds_dir.glob("*.json"))]
        run.synthesise(seeds, args.count, args.layers, records)
        marker.touch()
    size = sum(p.stat().st_size for p in records.glob("*.json"))
    site, cache = work / "site", work / "cache"
    shutil.rmtree(site, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    site.mkdir(parents=True)
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    render = [*TRTDOC, "render", "--records", str(records), "--site", str(site)]
    out: dict[str, Any] = {"records": args.count, "layers": args.layers,
                           "record_mib": round(size / 2**20, 1)}
    out["load_avg_1min"] = os.getloadavg()[0]
    out["full_s"], out["full_rss_mib"], out["full_cpu_s"] = _timed(render, env, work)
    out["no_change_s"], out["no_change_rss_mib"], out["no_change_cpu_s"] = _timed(render, env, work)
    victim = records / "synth-007.json"
    data = json.loads(victim.read_text())
    data["spec"]["description"] = f"edited at {time.time()}"
    victim.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    out["one_changed_s"], out["one_changed_rss_mib"], out["one_changed_cpu_s"] = _timed(
        render, env, work)
    out["no_change_after_s"], _, out["no_change_after_cpu_s"] = _timed(render, env, work)
    read = subprocess.run(
        [sys.executable, "-c", "import gc, sys, time; from pathlib import Path; "
         "from trtdoc.record.files import read_records; gc.disable(); t = time.perf_counter(); "
         "read_records(Path(sys.argv[1])); print(time.perf_counter() - t)", str(records)],
        capture_output=True, text=True, check=True)
    out["read_s"] = float(read.stdout)
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}))


if __name__ == "__main__":
    main()
