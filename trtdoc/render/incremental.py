"""Rendering only what changed: :func:`render_changed` renders the pages whose inputs changed
since the render the manifest (:mod:`trtdoc.render.cache`) describes, and writes the same
bytes a full render would.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trtdoc.compat.deploy import Deployment
from trtdoc.errors import RecordError
from trtdoc.record.codec import record_from_json
from trtdoc.record.files import write_changed
from trtdoc.record.lazy_layers import with_lazy_layers, without_layers
from trtdoc.record.types import EngineRecord
from trtdoc.render import cache as render_cache
from trtdoc.render.engine_page import fp32_baseline
from trtdoc.render.environment import environment, shipped_templates
from trtdoc.render.escape import slug
from trtdoc.render.site_pages import site_pages
from trtdoc.render.write import RenderResult, orphan_pages
from trtdoc.typed import encode


@dataclass(frozen=True)
class _Summary:
    """A record without its layers, and their count, kept in the render cache: what another
    engine's page reads of it (``fp32_baseline``) and what the site-wide pages show of it
    (:mod:`trtdoc.record.lazy_layers`), so an unchanged record need not be decoded. On disk:
    the count on the first line, then the record's JSON, decoded as strictly as its file."""

    shell: EngineRecord
    layers: int

    @property
    def name(self) -> str:
        return self.shell.name

    @classmethod
    def of(cls, record: EngineRecord) -> _Summary:
        return cls(without_layers(record), len(record.inspection.layers))


# A summary is a few kB (the record's spec, model, settings, findings, I/O); a file past this
# was not written here.
_MAX_SUMMARY_BYTES = 4 * 1024 * 1024


def _summary_folder(state: render_cache.State) -> Path:
    """The summaries of this site's records, one file per record digest, beside the manifest
    (not in it: the render with nothing changed reads the manifest, and no summary)."""
    return state.path.with_suffix(".summaries")


def _known_summary(folder: Path, digest: str) -> _Summary | None:
    """The summary of the record whose sha256 is ``digest``, or None where there is none (or
    not one of these: the record is decoded instead)."""
    try:
        path = folder / f"{digest}.json"
        if not path.is_file() or path.stat().st_size > _MAX_SUMMARY_BYTES:
            return None
        count, _, text = path.read_bytes().partition(b"\n")
        if not count.isdigit() or len(count) > 12:
            return None
        return _Summary(record_from_json(text, path=path), int(count))
    except (OSError, RecordError):
        return None


def _save_summaries(folder: Path, summaries: Mapping[str, _Summary], read: set[str]) -> None:
    """Write the summaries (by record digest) but those just ``read`` from the folder, and
    remove the others; a cache that cannot be written is no error. Each file is renamed into
    place, but not synced, as the manifest is: one cut short by a crash does not decode, and
    costs a decode of its record (a sync each was 1 s of a full render of 200 records)."""
    import json
    import os
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.json"):
            if old.stem not in summaries:
                old.unlink()
        for digest, summary in summaries.items():
            if digest in read:
                continue
            fd, tmp = tempfile.mkstemp(prefix=".summary.", dir=folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(f"{summary.layers}\n")
                    f.write(json.dumps(encode(summary.shell), separators=(",", ":")))
                os.replace(tmp, folder / f"{digest}.json")
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
    except OSError:
        pass


@dataclass(frozen=True)
class ChangedRender:
    """What :func:`render_changed` did, and the records it could not read."""

    result: RenderResult
    bad: tuple[tuple[Path, Exception], ...]


def _unit_of(rel: str, slugs: Mapping[str, str]) -> str | None:
    """The engine whose page (or layer page) ``rel`` is; SITE_UNIT for the site pages."""
    if rel in render_cache.SITE_PAGES:
        return render_cache.SITE_UNIT
    stem = Path(rel).name.removesuffix(".md").split("~", 1)[0]
    return slugs.get(stem)


def render_changed(state: render_cache.State, *, templates_dir: Path | None = None,
                   deployment: Deployment | None = None,
                   fresh: Mapping[str, EngineRecord] | None = None) -> ChangedRender:
    """``render_site`` of every record in ``state.records_dir``, rendering only the pages whose
    inputs changed since the render the manifest describes, then saving the new manifest.

    The pages written are byte for byte those of a full render: a page is skipped only when
    its input digest (``State.unit_digest``) is unchanged and its file still holds the bytes
    that render wrote. A record is decoded only when a page to render needs it; the site pages
    show every record, so any change to a record, previous record or gate decodes them all.
    ``fresh`` are records the caller has just written, by name: they are used as they are
    instead of decoded again (``trtdoc import`` of 10^6 layers: 1 GB of JSON, ~6 GB to decode).
    """
    with _no_gc():
        return _render_changed(state, templates_dir, deployment, fresh or {})


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Records are big trees of acyclic objects (200 records of 1,000 layers are ~10 million).
    The cyclic collector finds nothing in them yet rescans them every few thousand
    allocations, which tripled the time to read such a set: it is off while they are read,
    and they are frozen out of its scans while pages render (``cli._render`` did this)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


def _render_changed(state: render_cache.State, templates_dir: Path | None,
                    deployment: Deployment | None,
                    fresh: Mapping[str, EngineRecord]) -> ChangedRender:
    from trtdoc.record.files import read_failures, read_gates, read_record

    records_dir, site_dir = state.records_dir, state.site_dir
    folder = _summary_folder(state)
    read: set[str] = set()  # the digests whose summary was read from the folder
    decoded: dict[str, EngineRecord] = {n: r for n, r in fresh.items() if n in state.records}
    summaries: dict[str, _Summary] = {}
    bad: list[tuple[Path, Exception]] = []
    for name, digest in state.records.items():
        summary = _known_summary(folder, digest)
        if summary is not None and summary.name == name:
            summaries[name] = summary
            read.add(digest)
            continue
        if name in decoded:
            summaries[name] = _Summary.of(decoded[name])
            continue
        path = records_dir / f"{name}.json"
        try:
            decoded[name] = read_record(path)
        except RecordError as exc:
            bad.append((path, exc))
            continue
        summaries[name] = _Summary.of(decoded[name])

    def record(name: str) -> EngineRecord:
        if name not in decoded:
            decoded[name] = read_record(records_dir / f"{name}.json")
        return decoded[name]

    good = sorted(summaries)
    slugs = {str(slug(n)): n for n in good}
    # Two names with one slug would share a page: only a full render says which wins.
    incremental = len(slugs) == len(good)
    # A summary's shell has what fp32_baseline reads of a record (name, spec, model_sha256).
    stubs: list[Any] = [summaries[n].shell for n in good]
    baselines = {n: fp32_baseline(stub, stubs) for n, stub in zip(good, stubs, strict=True)}
    digests = {n: state.unit_digest(n, b.name if b is not None else None,
                                    deployed=deployment is not None)
               for n, b in baselines.items()}
    digests[render_cache.SITE_UNIT] = state.unit_digest(render_cache.SITE_UNIT, None,
                                                        deployed=False)
    stale = {u for u, d in digests.items() if not (incremental and state.unit_fresh(u, d))}

    site = render_cache.SITE_UNIT in stale
    need = stale - {render_cache.SITE_UNIT}
    for n in stale - {render_cache.SITE_UNIT}:
        base = baselines[n]
        if base:
            need.add(base.name)
    if deployment is not None:
        need = set(good)  # the deployment view shows every record, layers and all

    def light(name: str) -> EngineRecord:
        """The record for the site pages: decoded if it was, else its layers read lazily."""
        if name in decoded or name in need:
            return record(name)
        return with_lazy_layers(summaries[name].shell, summaries[name].layers,
                                records_dir / f"{name}.json")

    try:
        # The site pages show every record, most of them only as their summary has it.
        chosen = [light(n) for n in good] if site else [record(n) for n in sorted(need)]
        previous = _previous(records_dir, state, good if site else sorted(need))
        env = environment(templates_dir)
        gates = read_gates(records_dir)
        gc.freeze()
        gc.enable()
        pages = site_pages(chosen, env, previous, gates, deployment,
                           only=stale - {render_cache.SITE_UNIT}, site=site,
                           failures=read_failures(records_dir))
    except RecordError:
        # A record changed since it was hashed (into something unreadable, or another record
        # than its summary describes): start again.
        gc.disable()
        gc.unfreeze()
        return _render_changed(render_cache.State.load(
            records_dir, site_dir, templates=(templates_dir, shipped_templates()),
            deployment=deployment, folder=state.path.parent), templates_dir, deployment, fresh)
    gc.disable()
    written, unchanged = write_changed((site_dir / rel, data)
                                        for rel, data in sorted(pages.items()))
    units: dict[str, dict[str, Any]] = {}
    for name in digests:
        if name not in stale:
            old = state.old_unit(name) or {}
            units[name] = {"in": digests[name], "pages": old.get("pages", {})}
            unchanged += [site_dir / rel for rel in units[name]["pages"]]
        else:
            units[name] = {"in": digests[name], "pages": {}}
    for rel, data in pages.items():
        unit = _unit_of(rel, slugs)
        if unit is not None and unit in units:
            units[unit]["pages"][rel] = hashlib.sha256(data).hexdigest()
    keep = {site_dir / rel for u in units.values() for rel in u["pages"]}
    kept = {path.stem for path, _ in bad}
    removed = [p for p in orphan_pages(site_dir, keep) if p.stem.split("~", 1)[0] not in kept]
    for path in removed:
        path.unlink()
        state.digests.forget(path)
    if incremental:
        _save_summaries(folder, {state.records[n]: summaries[n] for n in good}, read)
        state.save(units=units, summaries={}, clean=not bad)
    return ChangedRender(RenderResult(tuple(written), tuple(sorted(unchanged)), tuple(removed)),
                         tuple(bad))


def _previous(records_dir: Path, state: render_cache.State, names: list[str]
              ) -> dict[str, EngineRecord]:
    """The previous record of each of ``names`` that has one (``records/.history/``)."""
    from trtdoc.errors import RecordError
    from trtdoc.record.files import read_record

    previous = {}
    history = records_dir / render_cache.HISTORY_DIR
    for name in names:
        if name in state.history:
            # As diff.read_previous: no comparison rather than a failed render.
            with contextlib.suppress(RecordError):
                previous[name] = read_record(history / f"{name}.json")
    return previous
