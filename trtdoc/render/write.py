"""Planning and writing the site: :func:`plan_site` returns the bytes of every page without
touching the disk (``trtdoc build --check`` compares them with the files); :func:`render_site`
writes only the files whose bytes differ and removes generated pages whose record is gone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from trtdoc.compat.deploy import Deployment
from trtdoc.record.files import holds_bytes, write_changed
from trtdoc.record.types import EngineRecord, FailedBuild, FailedGate
from trtdoc.render import cache as render_cache
from trtdoc.render.environment import environment
from trtdoc.render.site_pages import ENGINES_DIR, site_pages

# Every generated page starts with this line (after its front matter); only files that do are
# ever removed.
GENERATED_MARK = render_cache.GENERATED_MARK
is_generated = render_cache.is_generated


@dataclass(frozen=True)
class RenderResult:
    """What :func:`render_site` did, as paths under the site folder."""

    written: tuple[Path, ...]
    unchanged: tuple[Path, ...]
    removed: tuple[Path, ...] = field(default=())


def plan_site(records: Iterable[EngineRecord], site_dir: Path, *,
              templates_dir: Path | None = None,
              previous: Mapping[str, EngineRecord] | None = None,
              gates: Mapping[str, FailedGate] | None = None,
              deployment: Deployment | None = None,
              failures: Mapping[str, FailedBuild] | None = None) -> dict[Path, bytes]:
    """Every generated page as ``{path under site_dir: bytes}``, without writing anything.

    ``gates`` maps engine names to their latest failed accuracy gate (``record.read_gates``).
    ``deployment`` (``compat.deploy.load_deployment``) adds the verdict of every deployed
    (engine, target) pair to the compatibility page and the engine pages; None leaves both as
    they are without one.
    """
    env = environment(templates_dir)
    pages = site_pages(list(records), env, previous or {}, gates or {}, deployment,
                       failures=failures)
    return {Path(site_dir) / rel: data for rel, data in sorted(pages.items())}


def orphan_pages(site_dir: Path, keep: Iterable[Path]) -> list[Path]:
    """Generated engine pages whose record is gone (only files that carry the mark)."""
    folder = site_dir / ENGINES_DIR
    if not folder.is_dir():
        return []
    keep_set = {p.resolve() for p in keep}
    stale = []
    for path in sorted(folder.glob("*.md")):
        if path.resolve() not in keep_set and is_generated(path):
            stale.append(path)
    return stale


def render_site(records: Iterable[EngineRecord], site_dir: Path, *,
                templates_dir: Path | None = None,
                previous: Mapping[str, EngineRecord] | None = None,
                gates: Mapping[str, FailedGate] | None = None,
                keep: Iterable[str] = (),
                deployment: Deployment | None = None,
                failures: Mapping[str, FailedBuild] | None = None) -> RenderResult:
    """Write every page whose bytes changed, and remove generated pages of vanished engines.

    The pages of the engines named in ``keep`` (whose records could not be read) stay as they
    are.

    ``previous`` maps engine names to their previous records (``diff.read_previous``); with
    it, engine pages and ``changes.md`` say what changed since then. ``deployment``: see
    :func:`plan_site`.
    """
    site_dir = Path(site_dir)
    planned = plan_site(records, site_dir, templates_dir=templates_dir, previous=previous,
                        gates=gates, deployment=deployment, failures=failures)
    written, unchanged = write_changed(planned.items())
    kept = set(keep)
    # A kept engine keeps its layer pages too (<slug>~layers-<k>.md).
    removed = [p for p in orphan_pages(site_dir, planned) if p.stem.split("~", 1)[0] not in kept]
    for path in removed:
        path.unlink()
    return RenderResult(tuple(written), tuple(unchanged), tuple(removed))


def stale_pages(site_dir: Path, planned: Mapping[Path, bytes]) -> list[Path]:
    """Files ``render_site`` would change or remove: for ``trtdoc build --check``."""
    changed = [p for p, data in planned.items() if not holds_bytes(p, data)]
    return sorted([*changed, *orphan_pages(Path(site_dir), planned)])

