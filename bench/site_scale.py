"""How long the static-site builders take on a large generated site (issue 13).

    python bench/site_scale.py                       # 200 engines × 1,000 layers: mkdocs, zensical
    python bench/site_scale.py --count 20 --layers 5000 --only mkdocs
    python bench/site_scale.py --count 0 --huge 1000000   # one 10^6-layer engine: pages, builds

The site is P3's (``bench/run.py``): records cloned from the real P1 records with their layers
renamed, rendered by ``trtdoc render`` into a copy of the repository's hand-written site/ and
mkdocs.yml (strict off, as P3 does; ``--strict`` keeps it on). Then ``mkdocs build`` and
``zensical build`` of that folder, each timed as a whole command. Zensical reads mkdocs.yml
but panics on an absolute ``docs_dir``, so both run from the site folder, whose mkdocs.yml
names ``site`` relatively. Zensical is skipped with a note when it is not installed
(``pip install zensical==0.0.73``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402  (bench/run.py: P3's helpers, used as they are)


def build_site(b: bench.Bench, count: int, layers: int, *, strict: bool) -> Path:
    """Records, rendered pages and mkdocs.yml of the synthetic site; returns its folder."""
    seeds = bench._seed_records(b)
    tag = f"{count}x{layers}"
    records = b.work / "site_scale" / f"records-{tag}"
    marker = records / ".done"
    if not marker.is_file():
        b.say(f"synthesising {count} records of {layers:,} layers")
        bench.synthesise(seeds, count, layers, records)
        marker.write_text("")
    template = bench._site_template(b.work / "site_scale")
    root = bench.fresh(b.work / "site_scale" / f"site-{tag}")
    shutil.copytree(template / "site", root / "site")
    config = (template / "mkdocs.yml").read_text()
    if strict:
        config = config.replace("strict: false", "strict: true")
    (root / "mkdocs.yml").write_text(config)
    sample = bench.run([*bench.trtdoc_argv(), "render", "--records", records, "--site", "site"],
                       cwd=root, log=b.log)
    pages = sorted((root / "site").rglob("*.md"))
    size = sum(p.stat().st_size for p in pages)
    b.say(f"trtdoc render: {sample.wall:.2f} s, {len(pages)} pages, {size / bench.MiB:.1f} MiB "
          f"of Markdown (largest {max(p.stat().st_size for p in pages) / bench.MiB:.2f} MiB)")
    return root


def huge_site(b: bench.Bench, layers: int, *, strict: bool) -> Path:
    """The site of one engine of ``layers`` layers, rendered in this process.

    A record that size (~1 GiB of JSON) is over the limit ``trtdoc render`` reads, so the
    engine is made here: a real record with its layers cloned and renamed, as ``synthesise``
    does, handed straight to ``render_site``.
    """
    import dataclasses

    from trtdoc.record.files import read_record
    from trtdoc.render.write import render_site

    bench._seed_records(b)  # builds them once if P3 has not
    seed = read_record(sorted((b.work / "p3" / "seed" / "records").glob("*.json"))[0])
    src = seed.inspection.layers
    cloned = tuple(dataclasses.replace(src[i % len(src)],
                                       name=f"{src[i % len(src)].name}~{i // len(src)}")
                   for i in range(layers))
    record = dataclasses.replace(seed, name="huge", inspection=dataclasses.replace(
        seed.inspection, layers=cloned))
    template = bench._site_template(b.work / "site_scale")
    root = bench.fresh(b.work / "site_scale" / f"site-huge-{layers}")
    shutil.copytree(template / "site", root / "site")
    config = (template / "mkdocs.yml").read_text()
    (root / "mkdocs.yml").write_text(config.replace("strict: false", "strict: true")
                                     if strict else config)
    started = time.perf_counter()
    render_site([record], root / "site")
    b.say(f"render_site of {layers:,} layers: {time.perf_counter() - started:.1f} s")
    return root


def time_builders(b: bench.Bench, root: Path, only: set[str]) -> dict[str, float]:
    """Wall seconds of each builder on ``root`` (one run each: the spread is a few percent)."""
    bindir = Path(bench.PY).parent
    found: dict[str, float] = {}
    for name, argv in (("mkdocs", [bindir / "mkdocs", "build", "-q", "-d", root / "public"]),
                       ("zensical", [bindir / "zensical", "build", "--clean"])):
        if name not in only:
            continue
        if not Path(argv[0]).is_file():
            b.say(f"{name}: not installed in {bindir}, skipped")
            continue
        shutil.rmtree(root / "public", ignore_errors=True)
        sample = bench.run(argv, cwd=root, log=b.log)
        found[name] = sample.wall
        b.say(f"{name} build: {sample.wall:.1f} s (CPU {sample.cpu:.1f} s, "
              f"peak RSS {sample.rss_kib / 1024:.0f} MiB)")
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=200, help="engines (default 200)")
    p.add_argument("--layers", type=int, default=1000, help="layers per engine (default 1000)")
    p.add_argument("--only", default="mkdocs,zensical", help="builders to time")
    p.add_argument("--strict", action="store_true", help="keep mkdocs.yml's strict: true")
    p.add_argument("--huge", type=int, default=0,
                   help="also render one engine of this many layers and print its page sizes")
    p.add_argument("--work", type=Path,
                   default=Path(tempfile.gettempdir()) / "trtdoc-bench")
    args = p.parse_args(argv)
    b = bench.Bench(args.work.resolve(), quick=False)
    only = set(args.only.split(","))
    if args.count:
        root = build_site(b, args.count, args.layers, strict=args.strict)
        times = time_builders(b, root, only)
        pages = sum(1 for _ in (root / "site").rglob("*.md"))
        print(f"{args.count} engines × {args.layers:,} layers, {pages} pages: "
              + ", ".join(f"{k} build {v:.1f} s" for k, v in times.items()))
    if args.huge:
        huge = huge_site(b, args.huge, strict=args.strict)
        engine = sorted((huge / "site" / "engines").rglob("*.md"))
        biggest = max(engine, key=lambda q: q.stat().st_size)
        huge_times = time_builders(b, huge, only)
        print(f"1 engine × {args.huge:,} layers: {len(engine)} pages under engines/, "
              f"{sum(q.stat().st_size for q in engine) / bench.MiB:.1f} MiB in all, largest "
              f"{biggest.relative_to(huge / 'site')} {biggest.stat().st_size / bench.MiB:.2f} MiB"
              + "".join(f", {k} build {v:.1f} s" for k, v in huge_times.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
