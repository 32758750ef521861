"""The site's generated assets: the stylesheet the pages need, shipped in the package, and
Mermaid, when the project has bundled it with npm.

``trtdoc render`` and ``build`` keep them current beside the pages, writing a file only when
its bytes differ, so a team's site renders from the installed trtdoc, not from a copy of this
repository's files. Mermaid is optional: without ``node_modules/mermaid`` (``npm install``
with the ``package.json`` ``trtdoc init`` writes) nothing is written, and mkdocs-material
loads Mermaid from its CDN when a page shows a diagram.
"""

from __future__ import annotations

from pathlib import Path

from trtdoc.record.files import holds_bytes, write_atomic

PACKAGE_ASSETS = Path(__file__).resolve().parent.parent / "assets"
STYLESHEET = "assets/stylesheets/trtdoc.css"  # under the site; mkdocs.yml's extra_css
MERMAID = "assets/javascripts/vendor/mermaid.min.js"  # under the site; extra_javascript
MERMAID_BUNDLE = "node_modules/mermaid/dist/mermaid.min.js"  # under the project, after npm


def site_assets(site: Path, project_root: Path | None, *,
                mermaid: bool = True) -> dict[Path, Path]:
    """``{file in the site: its source}``: the stylesheet, and Mermaid if ``project_root`` has
    ``node_modules/mermaid`` and ``mermaid`` is set (``build --check`` leaves Mermaid out: it is
    never checked in)."""
    files = {site / STYLESHEET: PACKAGE_ASSETS / "trtdoc.css"}
    if mermaid and project_root is not None and (project_root / MERMAID_BUNDLE).is_file():
        files[site / MERMAID] = project_root / MERMAID_BUNDLE
    return files


def stale_assets(assets: dict[Path, Path]) -> list[Path]:
    """The assets whose file in the site is missing or differs from its source."""
    return [target for target, source in assets.items()
            if not holds_bytes(target, source.read_bytes())]


def write_assets(assets: dict[Path, Path]) -> list[Path]:
    """Write each asset whose bytes differ from the file in the site; the files written."""
    written = []
    for target, source in assets.items():
        data = source.read_bytes()
        if not holds_bytes(target, data):
            write_atomic(target, data)
            written.append(target)
    return written
