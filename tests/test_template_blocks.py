"""Overrides by block: a user's template extends a shipped one and replaces one block, and the
README's list of templates, blocks and variables matches the templates and the renderer."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
from jinja2 import meta, nodes
from sitetools import RECORDS, REPO, fixed_previous, fixed_records, hostile_cases

from trtdoc.compat.deploy import load_deployment
from trtdoc.diff.compare import diff_records
from trtdoc.errors import RenderError
from trtdoc.record.types import EngineRecord, FailedGate
from trtdoc.render import template_docs
from trtdoc.render.deployment import deployment_view
from trtdoc.render.engine_page import engine_context, fp32_baseline
from trtdoc.render.environment import environment, make_environment, shipped_templates
from trtdoc.render.layer_table import PAGE_ROWS
from trtdoc.render.site_pages import diff_markdown
from trtdoc.render.write import plan_site

DOCS = {d.name: d for d in template_docs.TEMPLATES}
TEAM_LINE = "Built by the perception team: ask in #perception-infra."
PROVENANCE_PLUS = ('{% extends "trtdoc/engine.md.j2" %}\n'
                   "{% block provenance %}\n{{ super() }}\n" + TEAM_LINE + "\n{% endblock %}\n")


def _gates() -> dict[str, FailedGate]:
    gates = {name: g for name, _, _, g in hostile_cases() if g is not None}
    gates["never-built"] = dataclasses.replace(gates["bert-tiny"], name="never-built")
    return gates


def _site(tmp: Path, templates: Path | None) -> dict[str, str]:
    """Every page of the fixture records (with their previous records, failed gates and the
    repository's deploy.yaml) as ``{path: text}``."""
    site = tmp / "site"
    pages = plan_site(fixed_records(), site, templates_dir=templates, previous=fixed_previous(),
                      gates=_gates(), deployment=load_deployment(REPO / "deploy.yaml"))
    return {p.relative_to(site).as_posix(): data.decode() for p, data in pages.items()}


def _folder(tmp: Path, name: str, files: dict[str, str]) -> Path:
    folder = tmp / name
    folder.mkdir()
    for rel, text in files.items():
        (folder / rel).write_text(text)
    return folder


@pytest.fixture(scope="module")
def default_site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _site(tmp_path_factory.mktemp("default"), None)


# --------------------------------------------------------------------------------------------
# A user's template that replaces one block
# --------------------------------------------------------------------------------------------
def test_one_block_replaced_changes_only_that_block(tmp_path: Path,
                                                    default_site: dict[str, str]) -> None:
    own = _folder(tmp_path, "tpl", {"engine.md.j2": PROVENANCE_PLUS})
    pages = _site(tmp_path, own)
    assert sorted(pages) == sorted(default_site)
    engines = [p for p in pages if p.startswith("engines/") and p != "engines/index.md"
               and "~" not in p]  # not their graph pages (graph.md.j2)
    assert len(engines) == 5
    for rel, text in pages.items():
        if rel not in engines:
            assert text == default_site[rel], f"{rel} changed, but only engine.md.j2 is ours"
            continue
        # The line follows the Provenance section: before "What changed", or at the end.
        before, sep, after = default_site[rel].partition("\n## What changed\n")
        expected = before.rstrip("\n") + f"\n\n{TEAM_LINE}\n" + sep.lstrip("\n") + after
        assert text == expected, f"{rel}: more than the provenance block changed"


def test_a_block_replaced_by_nothing_removes_exactly_its_section(
        tmp_path: Path, default_site: dict[str, str]) -> None:
    own = _folder(tmp_path, "tpl", {
        "engine.md.j2": '{% extends "trtdoc/engine.md.j2" %}{% block triton %}{% endblock %}',
        "index.md.j2": '{% extends "trtdoc/index.md.j2" %}\n'
                       "{% block title %}\n# Our engines\n\n{% endblock %}\n"})
    pages = _site(tmp_path, own)
    for rel, text in pages.items():
        default = default_site[rel]
        if rel == "engines/index.md":
            assert text == default.replace("\n# Engines\n", "\n# Our engines\n", 1)
        elif rel.startswith("engines/") and "~" not in rel:  # not a graph page
            triton = re.search(r"(?s)\n## Serve with Triton\n.*?\n(?=## Reproduce\n)", default)
            assert triton is not None
            assert text == default.replace(triton.group(0), "\n", 1)
        else:
            assert text == default


def test_blocks_add_and_remove_not_a_byte(tmp_path: Path) -> None:
    """The shipped templates with every block tag taken out render the same raw text (before
    the page's whitespace clean-up) as the shipped ones: the tags add no byte and take none."""
    own = tmp_path / "unblocked"
    shutil.copytree(shipped_templates(), own)
    tag = re.compile(r"(?m)^\{% (?:block \w+|endblock \w+) %\}\n")
    for path in own.glob("*.j2"):
        path.write_text(tag.sub("", path.read_text()))
    assert not any("{% block" in p.read_text() for p in own.glob("*.j2"))
    shipped, unblocked = make_environment(None), make_environment(own)
    records = fixed_records()
    deployment = load_deployment(REPO / "deploy.yaml")
    view = deployment_view(records, deployment)
    gates = _gates()
    for record in records:
        for previous, gate, dep in ((fixed_previous().get(record.name), gates.get(record.name),
                                     view), (None, None, None)):
            context = engine_context(record, previous, fp32_baseline(record, records), gate, dep)
            a = shipped.get_template("engine.md.j2").render(**context)
            b = unblocked.get_template("engine.md.j2").render(**context)
            assert a == b, record.name


def test_templates_from_trtdoc_yml_and_from_the_flag(tmp_path: Path) -> None:
    """``templates:`` in trtdoc.yml and ``--templates`` (which wins) both reach the pages, and
    the README's example does what it says."""
    project = tmp_path / "team"
    project.mkdir()
    shutil.copytree(RECORDS, project / "records", ignore=shutil.ignore_patterns("*.py"))
    example = re.search(r"(?s)\n```jinja\n(.*?)```\n", (REPO / "README.md").read_text())
    assert example is not None and TEAM_LINE in example.group(1)
    _folder(project, "ours", {"engine.md.j2": example.group(1)})  # the README's own example
    _folder(project, "theirs", {"engine.md.j2": PROVENANCE_PLUS.replace(
        TEAM_LINE, "Owned by the platform team.")})
    (project / "trtdoc.yml").write_text("records: records/\nsite: site/\ntemplates: ours/\n")
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    trtdoc = [sys.executable, "-m", "trtdoc.cli"]

    def render(*args: str) -> str:
        done = subprocess.run([*trtdoc, "render", *args], cwd=project, env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return (project / "site" / "engines" / "bert-tiny.md").read_text()

    page = render()
    assert f"\n{TEAM_LINE}\n" in page and "platform team" not in page
    page = render("--templates", "theirs")
    assert "\nOwned by the platform team.\n" in page and TEAM_LINE not in page


# --------------------------------------------------------------------------------------------
# Names and errors
# --------------------------------------------------------------------------------------------
def test_trtdoc_prefix_is_the_shipped_template_whatever_the_folder_holds(tmp_path: Path) -> None:
    own = _folder(tmp_path, "tpl", {"diff.md.j2": "ours\n"})
    (own / "trtdoc").mkdir()
    (own / "trtdoc" / "diff.md.j2").write_text("never read\n")
    env = make_environment(own)
    assert env.get_template("diff.md.j2").render() == "ours\n"
    shipped = env.get_template("trtdoc/diff.md.j2")
    assert shipped.filename == str(shipped_templates() / "diff.md.j2")


def test_a_template_that_extends_itself_is_one_located_line(tmp_path: Path) -> None:
    own = _folder(tmp_path, "tpl", {"engine.md.j2": PROVENANCE_PLUS.replace(
        "trtdoc/engine.md.j2", "engine.md.j2")})
    with pytest.raises(RenderError) as exc:
        _site(tmp_path, own)
    assert str(exc.value) == ("engine.md.j2: extends or includes itself, so it never ends; to "
                              'build on the shipped template, extend "trtdoc/engine.md.j2" '
                              "instead")


def test_jinjas_attr_lookup_written_with_trtdocs_attr_is_one_located_line(
        tmp_path: Path) -> None:
    """trtdoc's ``attr`` (an HTML attribute value's escaping) has Jinja's attribute lookup's
    name: ``r|attr("name")`` is told so on one line, not an internal TypeError."""
    own = _folder(tmp_path, "tpl", {"engine.md.j2": PROVENANCE_PLUS.replace(
        TEAM_LINE, 'Built as {{ r|attr("name") }}.')})
    with pytest.raises(RenderError) as exc:
        _site(tmp_path, own)
    assert str(exc.value) == str(own / "engine.md.j2") + (
        ":4: FilterArgumentError: trtdoc's `attr` filter escapes a value for an "
        "HTML attribute and takes no argument; to read an attribute write `value.name`, not "
        '`value|attr("name")` (Jinja\'s attribute lookup)')


# --------------------------------------------------------------------------------------------
# The list of templates, blocks and variables (trtdoc/render/template_docs.py)
# --------------------------------------------------------------------------------------------
def _block_paths(node: nodes.Node, outer: tuple[str, ...] = ()) -> Iterator[str]:
    for child in node.iter_child_nodes():
        if isinstance(child, nodes.Block):
            path = (*outer, child.name)
            yield " > ".join(path)
            yield from _block_paths(child, path)
        else:
            yield from _block_paths(child, outer)


def test_every_shipped_template_is_listed() -> None:
    shipped = sorted(p.name for p in shipped_templates().glob("*.j2"))
    assert shipped == sorted(DOCS)


@pytest.mark.parametrize("name", sorted(DOCS))
def test_blocks_listed_are_the_blocks_the_template_defines(name: str) -> None:
    env = make_environment(None)
    tree = env.parse((shipped_templates() / name).read_text())
    defined = [b.name for b in tree.find_all(nodes.Block)]
    assert list(DOCS[name].block_names) == defined
    assert [path for path, _ in DOCS[name].blocks] == list(_block_paths(tree))


@pytest.mark.parametrize("name", sorted(DOCS))
def test_variables_listed_cover_what_the_template_reads(name: str) -> None:
    env = make_environment(None)
    tree = env.parse((shipped_templates() / name).read_text())
    # Jinja counts a name set inside an {% if %} as read from outside: it is the template's own.
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx == "store"}
    reads = meta.find_undeclared_variables(tree) - assigned
    listed = set(DOCS[name].variable_names)
    if name.startswith("_"):  # a partial lists exactly what it reads from its includer
        assert reads == listed
    else:
        assert reads <= listed, f"{name} reads {sorted(reads - listed)}, which are not listed"


def _huge_engine() -> EngineRecord:
    """bert-tiny with enough layers for a second layer page."""
    bert = next(r for r in fixed_records() if r.name == "bert-tiny")
    src = bert.inspection.layers
    layers = tuple(dataclasses.replace(src[i % len(src)], name=f"L{i:05d}")
                   for i in range(PAGE_ROWS + 10))
    return dataclasses.replace(bert, name="huge", inspection=dataclasses.replace(
        bert.inspection, layers=layers))


def test_variables_listed_are_what_a_real_render_passes(tmp_path: Path) -> None:
    """Each page template is extended by one of ours whose first block records the keys of
    the context it was rendered with; the renderer then renders a whole site and a diff."""
    own = tmp_path / "tpl"
    own.mkdir()
    for doc in template_docs.PAGES:
        first = doc.block_names[0]
        (own / doc.name).write_text(
            f'{{% extends "trtdoc/{doc.name}" %}}{{% block {first} %}}'
            f'{{{{ context_keys("{doc.name}") }}}}{{{{ super() }}}}{{% endblock %}}')
    seen: dict[str, set[str]] = {}

    @jinja2.pass_context
    def context_keys(context: Any, name: str) -> str:
        keys = set(context.parent) - set(context.environment.globals)
        seen.setdefault(name, set()).update(keys)
        return ""

    env = environment(own)  # the environment plan_site and diff_markdown use for this folder
    env.globals["context_keys"] = context_keys
    records = [*fixed_records(), _huge_engine()]
    plan_site(records, tmp_path / "site", templates_dir=own, previous=fixed_previous(),
              gates=_gates(), deployment=load_deployment(REPO / "deploy.yaml"))
    new = {r.name: r for r in records}
    diff_markdown(diff_records(fixed_previous(), new, old_label="main", new_label="HEAD"),
                  templates_dir=own)
    for doc in template_docs.PAGES:
        assert seen.get(doc.name) == set(doc.variable_names), doc.name


def test_readme_lists_the_templates_as_the_table_says() -> None:
    readme = (REPO / "README.md").read_text()
    assert template_docs.section_markdown() in readme, (
        f"the README's templates section is not current; run `{template_docs.COMMAND}`")
    assert template_docs.with_section(readme) == readme


def test_the_command_writes_and_checks_the_section(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Team\n\n{template_docs.BEGIN}\nold\n{template_docs.END}\n\nMore.\n")
    run = [sys.executable, "-m", "trtdoc.render.template_docs"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    stale = subprocess.run([*run, "--check", str(readme)], capture_output=True, text=True,
                           env=env)
    assert (stale.returncode, stale.stderr) == (1, f"{readme}: the templates section is not "
                                                f"current; run `{template_docs.COMMAND}`\n")
    subprocess.run([*run, str(readme)], check=True, capture_output=True, env=env)
    text = readme.read_text()
    assert text == f"# Team\n\n{template_docs.section_markdown()}\n\nMore.\n"
    assert subprocess.run([*run, "--check", str(readme)], env=env).returncode == 0
    readme.write_text("# Team\n")
    missing = subprocess.run([*run, str(readme)], capture_output=True, text=True, env=env)
    assert (missing.returncode, missing.stderr) == (
        1, f"{readme}: the README has no <!-- templates:begin ... <!-- templates:end --> "
           "markers; add them where the section belongs\n")


def test_a_block_the_shipped_template_lacks_is_one_located_line(tmp_path: Path) -> None:
    """Jinja ignores a block its parent has not got: `provenence` for `provenance` left the
    page as shipped, with no word, and the team looked for their line in vain."""
    own = _folder(tmp_path, "tpl", {"engine.md.j2": PROVENANCE_PLUS.replace(
        "block provenance", "block provenence")})
    with pytest.raises(RenderError) as exc:
        _site(tmp_path, own)
    message = str(exc.value)
    assert message.startswith("engine.md.j2: block 'provenence' is not a block of "
                              "'trtdoc/engine.md.j2', so it would change nothing; its blocks: ")
    assert "provenance, " in message
