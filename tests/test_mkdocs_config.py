"""A mkdocs.yml that cannot show the pages is one located line per missing piece, from
`trtdoc check`, `build` and `render` (trtdoc/render/mkdocs_config.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import REPO, relu_model, write

from trtdoc.cli.group import cli
from trtdoc.render.mkdocs_config import mkdocs_problems, pages_carry_tags

pytest.importorskip("tensorrt_rtx")

CONFIG = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
SPEC = """\
    name: relu
    model: ../models/relu.onnx
    backend: tensorrt-rtx
    targets: [sm86]
    tags: [demo]
"""
FENCE = ("{name: mermaid, class: mermaid, format: "
         "!!python/name:pymdownx.superfences.fence_code_format }")

# Each piece the pages need: how to delete it from this repository's mkdocs.yml, the key whose
# line the problem points at (None: the key is gone, so the file's last line), and the line.
PIECES = {
    "admonition": (r"^  - admonition\n", "markdown_extensions:",
                   "markdown_extensions: admonition is not enabled: the pages' notes "
                   "(`!!! failure`, `!!! warning`) show as plain paragraphs. Hint: add "
                   "`- admonition` under markdown_extensions:"),
    "attr_list": (r"^  - attr_list\n", "markdown_extensions:",
                  "markdown_extensions: attr_list is not enabled: mkdocs-material's attribute "
                  "lists on the pages are not applied. Hint: add `- attr_list` under "
                  "markdown_extensions:"),
    "md_in_html": (r"^  - md_in_html.*\n", "markdown_extensions:",
                   "markdown_extensions: md_in_html is not enabled: the architecture matrix "
                   "(a <div markdown> block) shows as raw | … | text. Hint: add `- md_in_html` "
                   "under markdown_extensions:"),
    "pymdownx.details": (r"^  - pymdownx.details\n", "markdown_extensions:",
                         "markdown_extensions: pymdownx.details is not enabled: the "
                         "collapsible sections (`???`: layers, operators, builder warnings) "
                         "show as plain paragraphs. Hint: add `- pymdownx.details` under "
                         "markdown_extensions:"),
    "mermaid fence": (r"^  - pymdownx.superfences:\n(      .*\n)+", "markdown_extensions:",
                      "markdown_extensions: pymdownx.superfences with the Mermaid fence is not "
                      "enabled: every diagram shows as Mermaid source. Hint: add "
                      f"`- pymdownx.superfences: {{custom_fences: [{FENCE}]}}` under "
                      "markdown_extensions:"),
    "tags plugin": (r"^  - tags\n", "plugins:",
                    "plugins: the tags plugin is not enabled: the engine pages carry tags, "
                    "which the site drops, and the tags page lists nothing. Hint: add `- tags` "
                    "under plugins:"),
    "docs_dir": (r"^docs_dir: site\n", None,
                 "docs_dir: not set, so mkdocs reads docs, but trtdoc writes the pages to "
                 "site: mkdocs would not show them. Hint: add `docs_dir: site`"),
    "stylesheet": (r"^extra_css:\n  - assets/stylesheets/trtdoc.css\n", None,
                   "extra_css: the stylesheet assets/stylesheets/trtdoc.css is not in "
                   "extra_css: wide tables and long names on the pages are not laid out to be "
                   "read. Hint: add `extra_css: [assets/stylesheets/trtdoc.css]`"),
}


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="trtdoc")


def config_lines(result: Result, name: str = "mkdocs.yml") -> list[str]:
    assert "Traceback" not in result.output + result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith(name + ":")]


def line_of(text: str, key: str | None) -> int:
    """The line of ``key`` in ``text``; None: its last line."""
    lines = text.rstrip().split("\n")
    return len(lines) if key is None else lines.index(key) + 1


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project of one tagged engine with this repository's mkdocs.yml, built once."""
    root = tmp_path_factory.mktemp("team") / "repo"
    (root / ".git").mkdir(parents=True)
    relu_model(root / "models" / "relu.onnx")
    write(root, "specs/relu.yaml", SPEC)
    write(root, "trtdoc.yml", "specs: specs/\n")
    (root / "mkdocs.yml").write_text(CONFIG, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        result = run("build")
    assert result.exit_code == 0, result.stderr  # this repository's mkdocs.yml passes
    assert config_lines(result) == []
    return root


@pytest.fixture
def team(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The project as its working directory; its mkdocs.yml and trtdoc.yml put back after."""
    monkeypatch.chdir(project)
    saved = {name: (project / name).read_bytes() for name in ("mkdocs.yml", "trtdoc.yml")}
    yield project
    for name, data in saved.items():
        (project / name).write_bytes(data)
    for extra in (project / "docs").glob("*") if (project / "docs").is_dir() else ():
        extra.unlink()


def test_this_repositorys_mkdocs_yml_passes() -> None:
    assert mkdocs_problems(REPO / "mkdocs.yml", site=REPO / "site", needs_tags=True) == []


@pytest.mark.parametrize("command", [("render",), ("check",), ("build",), ("build", "--check")])
@pytest.mark.parametrize("piece", PIECES)
def test_each_missing_piece_is_its_one_located_line(team: Path, piece: str,
                                                    command: tuple[str, ...]) -> None:
    pattern, key, message = PIECES[piece]
    text, n = re.subn(pattern, "", CONFIG, count=1, flags=re.M)
    assert n == 1, f"{piece}: not found in mkdocs.yml"
    (team / "mkdocs.yml").write_text(text, encoding="utf-8")
    result = run(*command)
    assert result.exit_code == 1, result.stderr
    assert config_lines(result) == [f"mkdocs.yml:{line_of(text, key)}:1: {message}"]


def test_a_wrong_mermaid_fence_points_at_the_fence(team: Path) -> None:
    text = CONFIG.replace("format: !!python/name:pymdownx.superfences.fence_code_format",
                          "format: !!python/name:pymdownx.superfences.fence_div_format")
    (team / "mkdocs.yml").write_text(text, encoding="utf-8")
    result = run("render")
    assert result.exit_code == 1
    assert config_lines(result) == [
        f"mkdocs.yml:{line_of(text, '        - name: mermaid')}:11: markdown_extensions: the "
        "Mermaid fence of pymdownx.superfences needs class mermaid and format "
        "pymdownx.superfences.fence_code_format (the code block mkdocs-material turns into a "
        f"diagram): every diagram shows as Mermaid source. Hint: write it as `{FENCE}`"]
    text = re.sub(r"^      custom_fences:\n(        .*\n)+", "      linenums: false\n", CONFIG,
                  flags=re.M)
    (team / "mkdocs.yml").write_text(text, encoding="utf-8")
    assert config_lines(run("render")) == [
        f"mkdocs.yml:{line_of(text, '  - pymdownx.superfences:')}:5: markdown_extensions: "
        "pymdownx.superfences has no Mermaid fence: every diagram shows as Mermaid source. "
        f"Hint: add `{FENCE}` to its custom_fences"]


def test_every_missing_piece_at_once(team: Path) -> None:
    (team / "mkdocs.yml").write_text("site_name: team engines\ntheme: material\n")
    result = run("render")
    assert result.exit_code == 1
    lines = config_lines(result)
    assert len(lines) == 8 and all(line.startswith("mkdocs.yml:2:1: ") for line in lines)
    assert "1 problem" not in result.stderr and "8 problem(s) found" in result.stderr


def test_the_hints_are_yaml_that_mkdocs_builds(team: Path) -> None:
    """The one-line superfences entry the hint gives, in a mkdocs.yml without `tables`:
    nothing to say (mkdocs always enables tables), and `mkdocs build --strict` makes HTML
    tables and a Mermaid block of the pages."""
    text = re.sub(PIECES["mermaid fence"][0],
                  f"  - pymdownx.superfences: {{custom_fences: [{FENCE}]}}\n", CONFIG,
                  flags=re.M).replace("  - tables\n", "").replace("site_dir: public",
                                                                   "site_dir: public-test")
    (team / "mkdocs.yml").write_text(text, encoding="utf-8")
    assert config_lines(run("render")) == []
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q"],
                           cwd=team, capture_output=True, text=True,
                           env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"})
    assert built.returncode == 0, built.stderr
    page = (team / "public-test" / "engines" / "relu" / "index.html").read_text()
    assert "<table>" in page and '<pre class="mermaid">' in page


def test_a_project_without_mkdocs_yml_hears_nothing(team: Path) -> None:
    (team / "mkdocs.yml").unlink()
    for command in (("render",), ("check",), ("build",)):
        result = run(*command)
        assert result.exit_code == 0, result.stderr
        assert "mkdocs" not in result.stderr


def test_the_mkdocs_key_names_another_file(team: Path) -> None:
    (team / "mkdocs.yml").write_text("site_name: the other one\n")  # not read
    text = re.sub(PIECES["md_in_html"][0], "", CONFIG, flags=re.M).replace(
        "docs_dir: site", "docs_dir: ../site")
    write(team, "docs/site.yml", text)
    write(team, "trtdoc.yml", "specs: specs/\nmkdocs: docs/site.yml\n")
    result = run("render")
    assert result.exit_code == 1
    assert config_lines(result) == []
    assert config_lines(result, "docs/site.yml") == [
        f"docs/site.yml:{line_of(text, 'markdown_extensions:')}:1: {PIECES['md_in_html'][2]}"]
    write(team, "trtdoc.yml", "specs: specs/\nmkdocs: docs/none.yml\n")
    result = run("render")
    assert result.exit_code == 1
    assert "trtdoc.yml:2:9: mkdocs: 'docs/none.yml' does not exist. Hint: fix the path; it " \
           "is relative to trtdoc.yml" in result.stderr


def test_pages_sent_elsewhere_are_not_the_projects_site(team: Path) -> None:
    """`--site` elsewhere is a one-off render: the project's mkdocs.yml does not show it."""
    (team / "mkdocs.yml").write_text(re.sub(PIECES["md_in_html"][0], "", CONFIG, flags=re.M))
    result = run("render", "--site", "scratch")
    assert result.exit_code == 0 and config_lines(result) == []


def test_pages_without_tags_need_no_tags_plugin(tmp_path: Path) -> None:
    write(tmp_path, "engines/a.md", '---\ntitle: "a"\ntags: []\n---\n# a\ntags: [x]\n')
    assert not pages_carry_tags(tmp_path)
    write(tmp_path, "engines/b.md", '---\ntitle: "b"\ntags: ["x"]\n---\n# b\n')
    assert pages_carry_tags(tmp_path)


# --------------------------------------------------------------------------------------------
# mkdocs.yml is untrusted: anything is one line, nothing in it runs
# --------------------------------------------------------------------------------------------
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{k}: &{k} [{', '.join(['*' + p] * 9)}]\n"
    for p, k in zip("abcdefgh", "bcdefghi", strict=True))
HOSTILE = {
    "not YAML": ("site_name: [unclosed\n",
                 "mkdocs.yml:2:1: malformed YAML: expected ',' or ']', but got '<stream end>'. "
                 "Hint: fix the YAML syntax (indentation, colons, quotes)"),
    "a list": ("- site_name\n- docs_dir\n",
               "mkdocs.yml: not a mkdocs configuration (the top level must be a mapping of "
               "site_name, docs_dir, markdown_extensions, ...); nothing from it was checked"),
    "huge": ("site_name: x\n" + "# padding\n" * 120_000,
             "mkdocs.yml: the file is 1.1 MiB, more than the 1.0 MiB a mkdocs.yml may be; "
             "nothing was parsed. Hint: a mkdocs.yml is a few kilobytes"),
    "alias bomb": (BOMB,
                   "mkdocs.yml:1:4: YAML aliases expand to more than 100000 nodes. Hint: write "
                   "the values out or use fewer aliases"),
    "os.system": ("!!python/object/apply:os.system ['touch PWNED']\n",
                  "mkdocs.yml: not a mkdocs configuration (the top level must be a mapping of "
                  "site_name, docs_dir, markdown_extensions, ...); nothing from it was checked"),
    "not UTF-8": ("site_name: caf\xe9\n",
                  "mkdocs.yml:1:15: the file is not UTF-8 text; nothing from it is shown. Hint: "
                  "save mkdocs.yml as UTF-8"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_mkdocs_yml_is_one_line(team: Path, case: str) -> None:
    text, line = HOSTILE[case]
    (team / "mkdocs.yml").write_bytes(text.encode("latin-1" if "UTF" in case else "utf-8"))
    result = run("render")
    assert result.exit_code == 1
    assert config_lines(result) == [line]
    assert not (team / "PWNED").exists()


def test_python_tags_inside_the_file_never_run(team: Path) -> None:
    text = CONFIG.replace("site_name: trtdoc engines",
                          "site_name: !!python/object/apply:os.system ['touch PWNED']\n"
                          "extra: !!python/object/new:os.system ['touch PWNED']\n"
                          "copyright: !!python/name:os.system\n"
                          "site_url: !ENV [SITE_URL, 'https://example.org/']")
    (team / "mkdocs.yml").write_text(text, encoding="utf-8")
    result = run("render")
    assert result.exit_code == 0, result.stderr
    assert not (team / "PWNED").exists()


def test_a_page_that_is_a_fifo_is_skipped_not_read(tmp_path: Path) -> None:
    (tmp_path / "engines").mkdir()
    os.mkfifo(tmp_path / "engines" / "a.md")
    assert not pages_carry_tags(tmp_path)  # returns: nothing waits for a writer


def test_build_check_does_not_say_a_build_fixes_mkdocs_yml(team: Path) -> None:
    """Nothing would change, so the advice is the problem count (as `check` ends), not "run
    `trtdoc build` and commit the result", which changes nothing in mkdocs.yml."""
    text, n = re.subn(PIECES["md_in_html"][0], "", CONFIG, count=1, flags=re.M)
    assert n == 1
    (team / "mkdocs.yml").write_text(text, encoding="utf-8")
    result = run("build", "--check")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "1 problem(s) found"


def test_without_the_key_every_hint_adds_it_once(team: Path) -> None:
    """Each missing extension's hint used to add `markdown_extensions: [X]` for its own X: done
    as told, the file had the key five times. Now every hint is the same one key; done once,
    nothing about extensions is left."""
    (team / "mkdocs.yml").write_text(CONFIG.split("markdown_extensions:")[0]
                                     + "extra_css: [assets/stylesheets/trtdoc.css]\n",
                                     encoding="utf-8")
    lines = [line for line in config_lines(run("render")) if "markdown_extensions:" in line]
    hints = {line.split("Hint: add `")[1] for line in lines}
    assert len(lines) == 5 and len(hints) == 1, lines
    (key,) = hints
    assert key.endswith("` (one key for all 5)")
    with (team / "mkdocs.yml").open("a", encoding="utf-8") as f:
        f.write(key.removesuffix("` (one key for all 5)") + "\n")
    assert config_lines(run("render")) == []
