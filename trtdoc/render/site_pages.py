"""The pages of the site, as bytes by path: each engine's page (and its layer pages), and the
pages that show every record: ``engines/index.md``, ``compatibility.md`` and ``changes.md``;
besides them, the Markdown of ``trtdoc diff`` for a pull-request comment.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import jinja2

from trtdoc.compat import matrix as compat
from trtdoc.compat.deploy import Deployment
from trtdoc.diff.changes import Changes, Diff
from trtdoc.errors import RenderError
from trtdoc.record.types import EngineRecord, FailedBuild, FailedGate
from trtdoc.render import charts
from trtdoc.render.compatibility import MatrixNotes, compat_row
from trtdoc.render.deployment import deployment_view
from trtdoc.render.engine_graph import graph_pages  # issue 25: the whole-engine graph
from trtdoc.render.engine_page import changes_shown, engine_context, fp32_baseline
from trtdoc.render.environment import environment, render_template
from trtdoc.render.escape import one_line, slug
from trtdoc.render.glossary import TERMS
from trtdoc.render.layer_table import extra_pages  # issue 13: paged layer tables
from trtdoc.render.tolerant import BAD_VALUE, name_key, text_key
from trtdoc.spec.section import encode_spec
from trtdoc.triton import remake_advice
from trtdoc.typed import encode

ENGINES_DIR = "engines"


def site_pages(records: Sequence[EngineRecord], env: jinja2.Environment,
               previous: Mapping[str, EngineRecord],
               gates: Mapping[str, FailedGate],
               deployment: Deployment | None = None, *,
               only: Collection[str] | None = None, site: bool = True,
               failures: Mapping[str, FailedBuild] | None = None) -> dict[str, bytes]:
    """Every page as ``{path under the site folder: bytes}``; with ``only``, just the pages of
    those engines, and with ``site=False`` not the pages that show every record
    (``render_changed``). ``failures`` (``record.files.read_failures``) are listed on the
    index until they are fixed."""
    records = sorted(records, key=name_key)
    names = [name_key(r) for r in records]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise RenderError(f"two records are named {', '.join(dupes)}; engine names must be "
                          "unique (they are the page slugs)", template="engine.md.j2")
    view = deployment_view(records, deployment) if deployment is not None else None
    pages: dict[str, bytes] = {}
    for record in records:
        path = f"{ENGINES_DIR}/{slug(record.name)}.md"
        key = name_key(record)
        if only is not None and key not in only:
            continue
        try:
            context = engine_context(record, previous.get(key), fp32_baseline(record, records),
                                     gates.get(key), view)
        except BAD_VALUE as exc:
            # A record whose structure is wrong (no inspection at all), not just a value.
            raise RenderError(f"record {one_line(key)!r} cannot be shown ({type(exc).__name__}: "
                              f"{exc}); {remake_advice(record)}",
                              template="engine.md.j2") from exc
        pages[path] = render_template(env, "engine.md.j2", **context)
        for rel, layer_page in extra_pages(context):  # issue 13: a huge engine's layer pages
            pages[rel] = render_template(env, "layers.md.j2", **layer_page)
        for rel, graph_page in graph_pages(record):  # issue 25: the engine as a graph
            pages[rel] = render_template(env, "graph.md.j2", **graph_page)
    if not site:
        return pages
    matrix = tuple(compat_row(r) for r in records)
    by_name = dict(zip(names, matrix, strict=True))
    changes: list[Changes] = [changes_shown(previous[name_key(r)], r) for r in records
                              if name_key(r) in previous]
    # The template sees each failed gate as its file holds it.
    gate_files = {name: encode(gate) for name, gate in gates.items()}
    # A failed build with a published page is marked on its row; the others (refused at check,
    # failed before a first page) are listed below the table, each with its one-line reason.
    failure_files = {name: encode(f) for name, f in (failures or {}).items()}
    pages[f"{ENGINES_DIR}/index.md"] = render_template(
        env, "index.md.j2", records=records, compat=by_name, gates=gate_files,
        compat_of=lambda r: by_name[name_key(r)], failed=lambda r: name_key(r) in gates,
        spec_of=lambda r: encode_spec(r.spec),
        failure_of=lambda r: failure_files.get(name_key(r)),
        unpublished=sorted(((n, g) for n, g in gate_files.items()
                            if n not in set(names) and n not in failure_files),
                           key=lambda ng: text_key(ng[0])),
        failures=sorted(failure_files.items(), key=lambda nf: text_key(nf[0])),
        published=set(names),
        variants=[(source, group, charts.variant_chart(group))
                  for source, group in charts.variant_groups(records)])
    pages["compatibility.md"] = render_template(
        env, "compatibility.md.j2", rows=matrix, architectures=compat.ARCHITECTURES,
        notes=MatrixNotes.of(matrix),
        runtimes=compat.RUNTIMES, used=compat.used_runtimes(matrix),
        portability=compat.PORTABILITY_SOURCES, deployment=view)
    pages["glossary.md"] = render_template(env, "glossary.md.j2", terms=TERMS)  # issue 28
    pages["changes.md"] = render_template(env, "changes.md.j2", changes=changes,
                                          unchanged=[r.name for r in records
                                                     if name_key(r) not in previous])
    return pages


DIFF_LAYER_ROWS = 100  # layer rows per engine in a pull-request comment (GitHub takes 65,536 chars)


def diff_markdown(diff: Diff, *, templates_dir: Path | None = None,
                  layer_rows: int = DIFF_LAYER_ROWS) -> str:
    """``trtdoc diff --format markdown``: a summary short enough for a pull-request comment,
    each engine's full tables in a collapsed ``<details>`` (``diff.md.j2``)."""
    env = environment(templates_dir)
    return render_template(env, "diff.md.j2", diff=diff, layer_rows=layer_rows).decode("utf-8")
