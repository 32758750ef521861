"""How long ``trtdoc import`` takes, and how much memory, on a huge trtexec export (issue 13).

    python bench/import_scale.py                  # 10^6 layers, with --exportProfile
    python bench/import_scale.py --quick          # 10^5 layers
    python bench/import_scale.py --layers 200000 --no-profile --keep /tmp/imp

The export is modelled on the real trtexec files in ../shared/fixtures/trex (ResNet-18 fp16,
TensorRT 8.x on an A100): their 36 layers are repeated block after block, every layer and
tensor name suffixed with its block (``Conv_0 + Relu_1~17``) and each block's input wired to
the previous block's output, so the keys, value shapes, formats, tactic names, weights and the
names-only ``Bindings`` are trtexec's own. The layer file is written in trtexec's layout
(``{"Layers": [{`` then two-space indented keys) and the profile in ``--exportProfile``'s
(``[`` ``{ "count" : 1 }`` then ``, { "name" : ... }`` lines).

Two commands are measured, each as a child process (wall time from start to exit, peak RSS
from ``os.wait4``):

* ``trtdoc import`` as users run it: reading, the record, and the page render at its end;
* the import alone (``record_from_trtexec`` and writing the record), without the render, which
  is another stage's cost.

Inputs and outputs go to a temporary folder (``--keep DIR`` keeps them there), never to the
repository.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TRTDOC_SHARED", REPO.parent / "shared"))
TREX = SHARED / "fixtures" / "trex" / "fp16"
PY = sys.executable
MiB = 1024 * 1024

# The import without the render: what `trtdoc import` does before it renders the site.
_LIBRARY_IMPORT = """
import sys
from pathlib import Path
from trtdoc.importer import record_from_trtexec
import trtdoc.record.files as rec
import trtdoc.record.text as rec_text
graph, profile, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
if sys.argv[4:] == ["--lift-limits"]:
    import trtdoc.inspect.limits
    trtdoc.inspect.limits.MAX_LAYERS, trtdoc.inspect.limits.MAX_EXPORT_BYTES = 10**8, 2**31
record = record_from_trtexec("huge", Path(graph), Path(profile) if profile else None)
if hasattr(rec, "write_record"):
    rec.write_record(out, record)
else:
    rec.write_atomic(out, rec_text.dumps(record))
"""


def _indent_trtexec(layer: dict) -> str:
    """One layer as trtexec prints it: two-space keys, tensors opened on their own line."""
    lines = []
    for key, value in layer.items():
        if key in ("Inputs", "Outputs"):
            tensors = ",\n  ".join(
                "{\n" + ",\n".join(f"    {json.dumps(k)}: {_compact(v)}" for k, v in t.items())
                + "\n  }" for t in value)
            lines.append(f"  {json.dumps(key)}: [\n  {tensors}]" if value
                         else f"  {json.dumps(key)}: []")
        else:
            lines.append(f"  {json.dumps(key)}: {_compact(value)}")
    return "{\n" + ",\n".join(lines) + "\n}"


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":")) if isinstance(value, list) else \
        json.dumps(value)


def _templates() -> tuple[list[str], list[dict], list[str]]:
    """The fixture's layers as text templates with ``~@B`` after every name, its profile
    records, and its bindings."""
    graph = json.loads((TREX / "resnet.onnx.engine.graph.json").read_text())
    profile = json.loads((TREX / "resnet.onnx.engine.profile.json").read_text())
    first_input, last_output = graph["Bindings"]
    texts = []
    for layer in graph["Layers"]:
        layer = json.loads(json.dumps(layer))
        layer["Name"] += "~@B"
        for key in ("Inputs", "Outputs"):
            for t in layer.get(key, []):
                # Block b reads block b-1's output; "@P" is the previous block's number.
                t["Name"] = (f"{last_output}~@P" if t["Name"] == first_input
                             else t["Name"] + "~@B")
        texts.append(_indent_trtexec(layer))
    return texts, profile[1:], graph["Bindings"]


def write_export(folder: Path, layers: int, *, with_profile: bool = True
                 ) -> tuple[Path, Path | None]:
    """``huge.graph.json`` (and ``huge.profile.json``) with ``layers`` layers in ``folder``."""
    texts, records, (first_input, last_output) = _templates()
    graph = folder / "huge.graph.json"
    profile = folder / "huge.profile.json" if with_profile else None
    per_block = len(texts)
    blocks = -(-layers // per_block)
    with graph.open("w", encoding="utf-8") as g:
        g.write('{"Layers": [')
        n = 0
        for b in range(blocks):
            chunk = []
            for text in texts[:min(per_block, layers - n)]:
                chunk.append(text.replace("@B", str(b)).replace("@P", str(b - 1)))
            if b == 0:  # the first block reads the engine input
                chunk = [t.replace(f'"{last_output}~-1"', f'"{first_input}~0"') for t in chunk]
            g.write(("," if n else "") + ",".join(chunk))
            n += len(chunk)
        g.write('],\n"Bindings": [' + json.dumps(f"{first_input}~0") + ", "
                + json.dumps(f"{last_output}~{blocks - 1}") + "]}\n")
    if profile is not None:
        share = 100.0 / layers
        with profile.open("w", encoding="utf-8") as p:
            p.write('[\n  { "count" : 1000 }\n')
            n = 0
            for b in range(blocks):
                lines = []
                for rec in records[:min(per_block, layers - n)]:
                    ms = rec["averageMs"]
                    lines.append(
                        f', {{ "name" : {json.dumps(rec["name"] + f"~{b}")}, "timeMs" : '
                        f'{ms * 1000:.6g}, "averageMs" : {ms:.6g}, "medianMs" : {ms:.6g}, '
                        f'"percentage" : {share * rec["percentage"] / 2.7:.6g} }}\n')
                p.write("".join(lines))
                n += len(lines)
            p.write("]\n")
    return graph, profile


def measure(argv: list[str], cwd: Path) -> tuple[float, int, int, str]:
    """Wall seconds, peak RSS in bytes (the child's ru_maxrss), exit code, output tail."""
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        proc = subprocess.Popen([str(a) for a in argv], cwd=cwd, stdout=log,
                                stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        tail = log.read().decode(errors="replace").strip().splitlines()[-3:]
    return wall, usage.ru_maxrss * 1024, proc.returncode, " | ".join(tail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="10^5 layers")
    parser.add_argument("--no-profile", action="store_true", help="no --exportProfile file")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    parser.add_argument("--only", choices=("cli", "library"), help="one of the two commands")
    parser.add_argument("--lift-limits", action="store_true",
                        help="import without render only: lift trtdoc's export limits (to "
                             "measure a trtdoc whose limits refuse the export)")
    args = parser.parse_args(argv)
    layers = 100_000 if args.quick else args.layers
    work = args.keep or Path(tempfile.mkdtemp(prefix="trtdoc-import-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        graph, profile = write_export(work, layers, with_profile=not args.no_profile)
        print(f"export: {layers:,} layers, {graph.stat().st_size / MiB:.0f} MiB layer file"
              + (f", {profile.stat().st_size / MiB:.0f} MiB profile" if profile else "")
              + f" (written in {time.perf_counter() - start:.1f} s)")
        trtdoc = Path(PY).parent / "trtdoc"
        runs = []
        if args.only in (None, "library"):
            shutil.rmtree(work / "lib", ignore_errors=True)
            (work / "lib").mkdir()
            runs.append(("import without render", work / "lib" / "huge.json",
                         [PY, "-c", _LIBRARY_IMPORT, graph, profile or "",
                          work / "lib" / "huge.json",
                          *(["--lift-limits"] if args.lift_limits else [])]))
        if args.only in (None, "cli"):
            shutil.rmtree(work / "cli", ignore_errors=True)
            (work / "cli").mkdir()
            runs.append(("trtdoc import (with render)", work / "cli" / "records" / "huge.json",
                         [trtdoc, "import", graph, *(["--profile", profile] if profile else []),
                          "--name", "huge"]))
        for label, record, cmd in runs:
            wall, rss, code, tail = measure(cmd, cwd=record.parent if "lib" in str(record)
                                            else work / "cli")
            size = record.stat().st_size / MiB if record.exists() else 0.0
            print(f"{label}: {wall:.1f} s, peak RSS {rss / MiB:,.0f} MiB, record "
                  f"{size:,.0f} MiB, exit {code}" + (f" ({tail})" if code else ""))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
