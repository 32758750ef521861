"""Re-rendering the site from the records, for build, import and render: every page, only
the changed ones, or (``PagesFollow``) after each engine a build publishes."""

from __future__ import annotations

import contextlib
import gc
from pathlib import Path
from typing import Any

from trtdoc.cli.deployment import deployment_kwargs
from trtdoc.cli.options import PagePaths
from trtdoc.cli.output import Ui
from trtdoc.errors import TrtdocError


def render_pages(ui: Ui, pages: PagePaths, *, dry_run: bool, strict: bool = True,
                 quiet: bool = False, records: Any = None,
                 fresh: Any = None) -> list[Path] | None:
    """Render ``pages.site`` from every record in ``pages.records``, with ``pages.templates``
    and ``pages.deployment``; with ``dry_run`` only list the pages that would change.

    A record that cannot be read is left out, with one line saying why, and its page stays as
    it was. With ``strict`` that is an error; otherwise the pages of the other records are
    rendered and None is returned, so the command can exit 1 after them.
    """
    from trtdoc.errors import RecordError, os_error_message

    stale_assets = _site_assets(pages.site, write=not dry_run)
    if not dry_run and records is None:
        return _render_changed(ui, pages, strict=strict, quiet=quiet, fresh=fresh)
    from trtdoc.diff.history import read_previous
    from trtdoc.record.files import read_failures, read_gates, read_record
    from trtdoc.render.write import plan_site, render_site, stale_pages

    # Records are big trees of acyclic objects (200 records of 1,000 layers are ~10 million).
    # The cyclic garbage collector finds nothing in them, yet rescans them every few thousand
    # allocations: that tripled the time to read such a set. Reading makes no cycles, so it
    # runs without the collector; rendering runs with it, but with the records frozen out of
    # its scans.
    site, templates, deployment = pages.site, pages.templates, pages.deployment
    given, records, bad = records, [], []
    gc.disable()
    try:
        for path in sorted(pages.records.glob("*.json")) if pages.records.is_dir() else ():
            try:
                records.append(read_record(path))
            except RecordError as exc:
                bad.append((path, exc))
        if given is not None:
            records = list(given)
        records.sort(key=lambda r: r.name)
        previous = read_previous(pages.records)
        gates = read_gates(pages.records)
        failures = read_failures(pages.records)
    finally:
        gc.enable()
    for _, error in bad if not quiet else ():
        ui.problem(f"{error} (its page was left as it was)")
    if bad and strict:
        raise TrtdocError(f"{len(bad)} record(s) cannot be read; fix or rebuild them")
    keep = [path.stem for path, _ in bad]
    gc.freeze()
    try:
        if dry_run:
            planned = plan_site(records, site, templates_dir=templates, previous=previous,
                                gates=gates, failures=failures,
                                **deployment_kwargs(deployment))
            # A record that cannot be read is a file the build would replace.
            return [*(path for path, _ in bad), *stale_assets,
                    *(p for p in stale_pages(site, planned)
                      if p.stem.split("~", 1)[0] not in keep)]
        try:
            result = render_site(records, site, templates_dir=templates, previous=previous,
                                 gates=gates, keep=keep, failures=failures,
                                 **deployment_kwargs(deployment))
        except OSError as exc:
            folder = Path(exc.filename).parent if exc.filename else site
            raise TrtdocError(f"{os_error_message(exc, folder)}; the pages were not all "
                              "written: run `trtdoc render` once it is fixed") from None
    finally:
        gc.unfreeze()
    ui.debug(f"rendered {len(result.written)} page(s), {len(result.unchanged)} unchanged")
    return None if bad else list(result.written)


def _site_assets(site: Path, *, write: bool) -> list[Path]:
    """Keep the site's stylesheet (and Mermaid, when npm bundled it) current: write those
    that differ, or with ``write`` unset list the stylesheet if it would change (Mermaid is
    never checked in, so ``build --check`` does not look at it)."""
    from trtdoc.cli.options import project_folder
    from trtdoc.errors import os_error_message
    from trtdoc.render.assets import site_assets, stale_assets, write_assets

    assets = site_assets(site, project_folder(), mermaid=write)
    if not write:
        return stale_assets(assets)
    try:
        return write_assets(assets)
    except OSError as exc:
        folder = Path(exc.filename).parent if exc.filename else site
        raise TrtdocError(f"{os_error_message(exc, folder)}; the site's assets were not all "
                          "written: run `trtdoc render` once it is fixed") from None


def _render_changed(ui: Ui, pages: PagePaths, *, strict: bool, quiet: bool,
                    fresh: Any = None) -> list[Path] | None:
    """``render_pages`` of the records on disk, rendering only pages whose inputs changed
    (``render_cache``): with nothing changed no record is decoded and Jinja is not loaded."""
    from trtdoc.errors import os_error_message
    from trtdoc.render import cache as render_cache

    site, templates, deployment = pages.site, pages.templates, pages.deployment
    state = render_cache.State.load(
        pages.records, site, templates=(templates, render_cache.shipped_templates()),
        deployment=deployment)
    current = state.up_to_date()
    if current is not None:
        ui.debug(f"rendered 0 page(s), {len(current)} unchanged (no input changed)")
        return []
    from trtdoc.render.incremental import render_changed

    try:
        done = render_changed(state, templates_dir=templates, fresh=fresh,
                              **deployment_kwargs(deployment))
    except OSError as exc:
        folder = Path(exc.filename).parent if exc.filename else site
        raise TrtdocError(f"{os_error_message(exc, folder)}; the pages were not all "
                          "written: run `trtdoc render` once it is fixed") from None
    for _, error in done.bad if not quiet else ():
        ui.problem(f"{error} (its page was left as it was)")
    if done.bad and strict:
        raise TrtdocError(f"{len(done.bad)} record(s) cannot be read; fix or rebuild them")
    result = done.result
    ui.debug(f"rendered {len(result.written)} page(s), {len(result.unchanged)} unchanged")
    return None if done.bad else list(result.written)


class PagesFollow:
    """Re-render the pages after each published engine, so a run that is killed leaves pages
    that agree with the records published so far. At most a tenth of the run goes to this;
    beyond that, pages wait for the render at the end."""

    SHARE = 0.1

    def __init__(self, ui: Ui, pages: PagePaths) -> None:
        import time

        self.ui, self.pages = ui, pages
        self.started = time.perf_counter()
        self.spent = 0.0

    def __call__(self) -> None:
        import time

        now = time.perf_counter()
        if self.spent > self.SHARE * (now - self.started):
            return
        with contextlib.suppress(TrtdocError):  # the render at the end of the run reports it
            render_pages(self.ui, self.pages, dry_run=False, strict=False, quiet=True)
        self.spent += time.perf_counter() - now
