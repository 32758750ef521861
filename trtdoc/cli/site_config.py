"""The project's mkdocs.yml, checked by ``check``, ``build`` and ``render``: can it show the
pages? (``trtdoc.render.mkdocs_config`` says what it lacks.)"""

from __future__ import annotations

import os
from pathlib import Path

import click

from trtdoc.errors import SpecError


def site_config_problems(site: Path | None = None, *,
                         needs_tags: bool | None = None) -> list[SpecError]:
    """One located line per piece the project's mkdocs.yml lacks for the pages in ``site``
    (None: the project's site).

    The file is trtdoc.yml's ``mkdocs:``, else the mkdocs.yml beside trtdoc.yml. Nothing is
    checked without a project file, without a mkdocs.yml (a project that only builds engines)
    or when ``--site`` sends the pages somewhere other than the project's site (a one-off
    render the project's site does not show). ``needs_tags`` None: whether the pages in
    ``site`` carry tags."""
    from trtdoc.project import find_project

    given = click.get_current_context().params.get("project_file")
    found = given if given is not None else find_project()
    if found is None:
        return []
    from trtdoc.project_file import load_project
    from trtdoc.render.mkdocs_config import mkdocs_problems, pages_carry_tags

    project = load_project(found)  # read once already: its problems have been reported
    config = project.mkdocs if project.mkdocs is not None else project.root / "mkdocs.yml"
    site = site if site is not None else project.site
    if not os.path.lexists(config) or os.path.realpath(site) != os.path.realpath(project.site):
        return []
    if needs_tags is None:
        needs_tags = pages_carry_tags(site)
    return mkdocs_problems(config, site=project.site, needs_tags=needs_tags)
