"""`trtdoc init` and a team's own repository, end to end, as a team would do it.

The wheel is built from this checkout and installed into a fresh virtual environment (its
dependencies come from the test environment's site-packages through a ``.pth`` file, so nothing
is downloaded, and the checkout itself is not importable there). In a new git repository:
`trtdoc init`, one spec of the shared mobilenet_v2 model with fp32 and fp16 variants, `npm
install` (Mermaid), `trtdoc build`, then `mkdocs build --strict` and `zensical build`. Both
sites are opened in headless Chromium with every host but loopback blocked: each diagram
becomes an SVG, the compatibility matrix is an HTML table and the tags page lists the engines.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from conftest import MODELS, REPO, write

CHROMIUM = os.environ.get("TRTDOC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--no-first-run"]
WORKFLOW_SCHEMA = [sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                   "vendor.github-workflows"]
SCAFFOLDED = [
    "trtdoc.yml", "mkdocs.yml", "specs/example.yaml", "site/index.md", "site/tags.md",
    "package.json", ".pre-commit-config.yaml", ".github/workflows/trtdoc.yml",
    "records/.gitkeep", "schema/spec.schema.json", "schema/deploy.schema.json",
    "schema/project.schema.json", "schema/record.schema.json",
]
SPEC = """\
# yaml-language-server: $schema=../schema/spec.schema.json
name: mobilenet-v2
description: MobileNet-V2 (width 0.35) for the edge camera line.
owner: vision-team
tags: [vision, classification]
model: ../models/mobilenet_v2_035.onnx
backend: tensorrt-rtx
profiles:
  - input: {min: [1, 3, 224, 224], opt: [2, 3, 224, 224], max: [4, 3, 224, 224]}
targets: [sm86, sm89]
variants:
  precision: [fp32, fp16]
"""
ENGINES = ("mobilenet-v2-fp16", "mobilenet-v2-fp32")


@dataclass(frozen=True)
class Venv:
    """A fresh virtual environment with the wheel installed; ``run`` runs a command there."""

    bin: Path
    env: dict[str, str]

    def run(self, *args: str | Path, cwd: Path,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(a) for a in args], cwd=cwd, env=self.env,
                              capture_output=True, text=True, timeout=600)
        if check:
            assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
        return done


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    pytest.importorskip("tensorrt_rtx")
    root = tmp_path_factory.mktemp("installed")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(root / "dist"), str(REPO)], check=True, capture_output=True)
    (wheel,) = (root / "dist").glob("trtdoc-*.whl")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")],
                   check=True)
    python = root / "venv" / "bin" / "python"
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip()
    # The dependencies, from this environment: listed after the venv's own site-packages (so
    # the wheel's trtdoc wins), and without their .pth files (so no editable trtdoc either).
    Path(site_packages, "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"]
                                                            + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--no-deps", "-q", str(wheel)], check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{root / 'venv' / 'bin'}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
               NO_MKDOCS_2_WARNING="1", XDG_CACHE_HOME=str(root / "cache"),
               PRE_COMMIT_HOME=str(root / "pre-commit"), GIT_AUTHOR_NAME="team",
               GIT_AUTHOR_EMAIL="team@example.com", GIT_COMMITTER_NAME="team",
               GIT_COMMITTER_EMAIL="team@example.com")
    installed = Venv(root / "venv" / "bin", env)
    where = installed.run(python, "-c", "import trtdoc; print(trtdoc.__file__)", cwd=root)
    assert where.stdout.startswith(site_packages), where.stdout  # not the checkout
    return installed


def test_init_writes_a_working_project_and_never_overwrites(venv: Venv,
                                                            tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    venv.run("git", "init", "-q", cwd=repo)
    write(repo, ".gitignore", "*.pyc\nbuild/")  # the team's own, without a final newline
    write(repo, "site/index.md", "# Our own home page\n")
    first = venv.run(venv.bin / "trtdoc", "init", cwd=repo)
    assert first.stdout.splitlines() == [
        *(f"wrote     {p}" for p in SCAFFOLDED if p != "site/index.md"),
        "appended  .gitignore: public/, node_modules/, site/assets/javascripts/vendor/, "
        ".trtdoc.lock, .trtdoc.lock.owner",
        "left      site/index.md (it exists; not changed)",
        "next: edit specs/example.yaml (or add a spec), then `npm install` (Mermaid, "
        "optional), `trtdoc build` and `mkdocs serve`"]
    assert (repo / "site/index.md").read_text() == "# Our own home page\n"
    gitignore = (repo / ".gitignore").read_text()
    assert gitignore.startswith("*.pyc\nbuild/\n# the HTML site") and gitignore.count(
        "build/") == 1
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file() and ".git" not in
              p.parts}
    again = venv.run(venv.bin / "trtdoc", "init", ".", cwd=repo)
    assert [line.split()[0] for line in again.stdout.splitlines()] == ["left"] * 14 + ["next:"]
    assert {p: p.read_bytes() for p in before} == before

    # Every $schema line names a file that is there, in the team's repository.
    for path in (repo / "trtdoc.yml", repo / "specs" / "example.yaml"):
        first_line = path.read_text().splitlines()[0]
        assert first_line.startswith("# yaml-language-server: $schema="), path
        target = path.parent / first_line.split("=", 1)[1]
        assert json.loads(target.read_text())["$id"].endswith(target.name)
    # The workflow is a valid GitHub workflow that runs the gates, builds the site strictly
    # and publishes it to GitHub Pages from main.
    workflow = repo / ".github" / "workflows" / "trtdoc.yml"
    valid = subprocess.run([*WORKFLOW_SCHEMA, str(workflow)], capture_output=True, text=True)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    jobs = yaml.safe_load(workflow.read_text())["jobs"]
    runs = [s.get("run", s.get("uses", "")).strip() for s in jobs["docs"]["steps"]]
    assert runs.index("trtdoc check") < runs.index("trtdoc build --check") < runs.index(
        "trtdoc render") < runs.index("mkdocs build --strict") < runs.index(
        "actions/upload-pages-artifact@v3")
    assert [s["uses"] for s in jobs["pages"]["steps"]] == ["actions/deploy-pages@v4"]
    assert jobs["pages"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert "refs/heads/main" in jobs["pages"]["if"]
    # The pre-commit hooks are trtdoc's own (.pre-commit-hooks.yaml), run from this install.
    ours = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    (local,) = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())["repos"]
    assert {h["id"]: (h["entry"], h.get("files"), h["pass_filenames"]) for h in
            local["hooks"]} == {k: (h["entry"], h.get("files"), h["pass_filenames"])
                                for k, h in ours.items()}

    # Before the team has a model: the example spec is skipped, and everything passes.
    assert venv.run(venv.bin / "trtdoc", "check", cwd=repo).returncode == 0
    venv.run(venv.bin / "trtdoc", "build", cwd=repo)
    venv.run(venv.bin / "trtdoc", "build", "--check", cwd=repo)
    built = venv.run(venv.bin / "python", "-m", "mkdocs", "build", "--strict", cwd=repo)
    assert "WARNING" not in built.stderr, built.stderr
    assert (repo / "site" / "assets" / "stylesheets" / "trtdoc.css").read_bytes() == (
        REPO / "trtdoc" / "assets" / "trtdoc.css").read_bytes()

    # A folder that does not exist yet is made; a file is one line.
    venv.run(venv.bin / "trtdoc", "init", "new/team", cwd=tmp_path)
    assert (tmp_path / "new" / "team" / "mkdocs.yml").read_text().startswith("# The ")
    assert 'site_name: "team engines"' in (tmp_path / "new/team/mkdocs.yml").read_text()
    bad = venv.run(venv.bin / "trtdoc", "init", "repo/trtdoc.yml", cwd=tmp_path, check=False)
    assert (bad.returncode, bad.stderr) == (1, "error: repo/trtdoc.yml: is a file, not a "
                                               "folder; name a new or existing folder for the "
                                               "project\n")


@pytest.fixture(scope="module")
def project(venv: Venv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A team's repository after init, one spec with an fp16 variant, npm install and build."""
    if shutil.which("npm") is None:
        pytest.skip("npm is missing: install Node.js (npm bundles Mermaid into the site)")
    repo = tmp_path_factory.mktemp("team") / "vision-engines"
    repo.mkdir()
    venv.run("git", "init", "-q", "-b", "main", cwd=repo)
    venv.run(venv.bin / "trtdoc", "init", cwd=repo)
    (repo / "models").mkdir()
    shutil.copy(MODELS / "mobilenet_v2_035.onnx", repo / "models")
    write(repo, "specs/mobilenet_v2.yaml", SPEC)
    venv.run("npm", "install", "--prefer-offline", "--no-audit", "--no-fund", cwd=repo)
    venv.run(venv.bin / "trtdoc", "build", cwd=repo)
    return repo


def test_the_team_project_builds_checks_and_commits(venv: Venv, project: Path) -> None:
    assert sorted(p.name for p in (project / "records").glob("*.json")) == [
        f"{e}.json" for e in ENGINES]
    # `trtdoc render` copied the bundled Mermaid; git ignores it, and the engines.
    vendor = project / "site" / "assets" / "javascripts" / "vendor" / "mermaid.min.js"
    assert vendor.read_bytes() == (
        project / "node_modules" / "mermaid" / "dist" / "mermaid.min.js").read_bytes()
    venv.run("git", "add", "-A", cwd=project)
    tracked = venv.run("git", "ls-files", cwd=project).stdout.split()
    assert "site/assets/stylesheets/trtdoc.css" in tracked
    assert not [p for p in tracked if p.startswith(("build/", "node_modules/", "public/",
                                                    "site/assets/javascripts/"))
                or p.endswith(".trtdoc.lock")]
    # The hooks init configured pass on the fresh build, with the trtdoc of this install.
    hooks = venv.run(sys.executable, "-m", "pre_commit", "run", "--all-files", cwd=project)
    assert hooks.stdout.count("Passed") == 2, hooks.stdout


@pytest.mark.browser
def test_the_team_site_builds_with_mkdocs_and_zensical_and_works_offline(
        venv: Venv, project: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        pytest.skip(f"headless Chromium not found at {CHROMIUM}; `apt-get install chromium`")
    repo = tmp_path / "vision-engines"  # a copy: the two builds write the same public/
    shutil.copytree(project, repo, symlinks=True, ignore=shutil.ignore_patterns(
        "node_modules", "build"))
    built = venv.run(venv.bin / "python", "-m", "mkdocs", "build", "--strict", cwd=repo)
    assert "WARNING" not in built.stderr, built.stderr
    (repo / "public").rename(repo / "public-mkdocs")
    venv.run(venv.bin / "python", "-m", "zensical", "build", "--clean", "--strict", cwd=repo)
    failures: list[str] = []
    external: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for builder, public in (("mkdocs", repo / "public-mkdocs"),
                                    ("zensical", repo / "public")):
                with _serve(public) as base:
                    failures += [f"{builder}: {f}" for f in
                                 _check_site(browser, base, public, external)]
        finally:
            browser.close()
    assert not external, f"requests left the host: {sorted(set(external))}"
    assert not failures, "\n".join(failures)


def test_a_mkdocs_yml_without_md_in_html_is_a_located_error(venv: Venv, project: Path,
                                                            tmp_path: Path) -> None:
    repo = tmp_path / "vision-engines"
    shutil.copytree(project, repo, symlinks=True, ignore=shutil.ignore_patterns(
        "node_modules", "build"))
    config = (repo / "mkdocs.yml").read_text()
    line = next(i for i, text in enumerate(config.splitlines(), 1) if "md_in_html" in text)
    (repo / "mkdocs.yml").write_text(config.replace(
        "  - md_in_html  # the architecture matrix is Markdown inside a <div markdown>\n", ""))
    done = venv.run(venv.bin / "trtdoc", "render", cwd=repo, check=False)
    assert done.returncode == 1, done.stderr
    located = [text[text.index("mkdocs.yml:"):] for text in done.stderr.splitlines()
               if "mkdocs.yml:" in text]
    assert len(located) == 1 and "md_in_html" in located[0], done.stderr
    # Located where the extension was, or at the list it is missing from.
    assert 1 <= int(located[0].split(":")[1]) <= line, located


# --------------------------------------------------------------------------------------------
# The browser
# --------------------------------------------------------------------------------------------
# mkdocs-material (and Zensical) draw each diagram into a closed shadow root: opened here so
# the test can see the SVG.
OPEN_SHADOW_ROOTS = """
const attach = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) {
  return attach.call(this, Object.assign({}, init, {mode: "open"}));
};
"""
DIAGRAMS = """
() => ({
  source: document.querySelectorAll("pre.mermaid").length,
  svg: [...document.querySelectorAll("div.mermaid")]
    .filter(h => h.shadowRoot && h.shadowRoot.querySelector("svg")).length,
})
"""


@contextlib.contextmanager
def _serve(public: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(public)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _check_site(browser: object, base: str, public: Path, external: list[str]) -> list[str]:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore
    context.add_init_script(OPEN_SHADOW_ROOTS)

    def route(r: object) -> None:
        url = r.request.url  # type: ignore[attr-defined]
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:")):
            r.continue_()  # type: ignore[attr-defined]
        else:
            external.append(url)
            r.abort()  # type: ignore[attr-defined]

    context.route("**/*", route)
    page = context.new_page()
    failures: list[str] = []
    diagrams = 0
    pages = sorted(p.relative_to(public).parent.as_posix() + "/"
                   for p in public.rglob("index.html") if "assets" not in p.parts)
    for rel in pages:
        expected = (public / rel / "index.html").read_text().count('class="mermaid"')
        page.goto(f"{base}/{rel}".replace("/./", "/"), wait_until="load")
        if expected:
            with contextlib.suppress(PlaywrightTimeout):
                page.wait_for_function(f"() => ({DIAGRAMS})().svg >= {expected}",
                                       timeout=15000)
        state = page.evaluate(DIAGRAMS)
        if state != {"source": 0, "svg": expected}:
            failures.append(f"{rel}: diagrams {state}, expected {expected} as SVG")
        diagrams += state["svg"]
        css = page.evaluate("() => [...document.styleSheets].some(s => s.href && "
                            "s.href.endsWith('/assets/stylesheets/trtdoc.css') && "
                            "s.cssRules.length > 0)")
        if not css:
            failures.append(f"{rel}: the trtdoc stylesheet did not load")
    if diagrams < 2 * len(ENGINES):
        failures.append(f"only {diagrams} diagrams on {len(pages)} pages")

    page.goto(f"{base}/compatibility/", wait_until="load")
    matrix = page.evaluate("""() => [...document.querySelectorAll('.trtdoc-matrix')].map(m => ({
        rows: m.querySelectorAll('table tr').length,
        pipes: [...m.querySelectorAll('p')].some(p => p.textContent.includes('|')) }))""")
    if not matrix or matrix[0]["rows"] < 1 + len(ENGINES) or matrix[0]["pipes"]:
        failures.append(f"compatibility/: the architecture matrix is not a table: {matrix}")

    page.goto(f"{base}/tags/", wait_until="load")
    links = page.evaluate("() => [...document.querySelectorAll('article a')]"
                          ".map(a => a.getAttribute('href'))")
    for tag in ("vision", "classification"):
        if not page.get_by_text(tag, exact=True).count():
            failures.append(f"tags/: no tag {tag!r}")
    for engine in ENGINES:
        if not any(f"engines/{engine}/" in (href or "") for href in links):
            failures.append(f"tags/: no link to {engine} in {links}")
    context.close()
    return failures


# --------------------------------------------------------------------------------------------
# The site's assets, as render and build keep them (the checkout's trtdoc: no wheel needed)
# --------------------------------------------------------------------------------------------
def test_render_keeps_the_stylesheet_and_the_bundled_mermaid_current(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from trtdoc.cli.group import cli

    stylesheet = tmp_path / "site" / "assets" / "stylesheets" / "trtdoc.css"
    vendor = tmp_path / "site" / "assets" / "javascripts" / "vendor" / "mermaid.min.js"
    shipped = (REPO / "trtdoc" / "assets" / "trtdoc.css").read_bytes()
    write(tmp_path, "trtdoc.yml", "specs: [specs/]\n")
    write(tmp_path, "specs/example.yaml", "# name: later\n")
    (tmp_path / "records").mkdir()
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")  # node_modules is found beside trtdoc.yml

    def run(*args: str) -> tuple[int, str]:
        done = CliRunner().invoke(cli, list(args))
        return done.exit_code, done.stdout

    assert run("render")[0] == 0
    assert stylesheet.read_bytes() == shipped and not vendor.exists()  # no npm: the CDN
    written = stylesheet.stat().st_mtime_ns
    assert run("render")[0] == 0 and stylesheet.stat().st_mtime_ns == written  # same bytes
    stylesheet.write_text("/* edited by hand */\n")
    assert run("build", "--check") == (1, "would change: ../site/assets/stylesheets/"
                                          "trtdoc.css\n")
    write(tmp_path, "node_modules/mermaid/dist/mermaid.min.js", "/* mermaid */\n")
    assert run("render")[0] == 0
    assert stylesheet.read_bytes() == shipped
    assert vendor.read_text() == "/* mermaid */\n"
    assert run("build", "--check")[0] == 0  # Mermaid is not checked in: never "would change"


def test_this_repositorys_stylesheet_is_the_shipped_one() -> None:
    """site/ here is a project like any other: its stylesheet is render's generated copy."""
    assert (REPO / "site" / "assets" / "stylesheets" / "trtdoc.css").read_bytes() == (
        REPO / "trtdoc" / "assets" / "trtdoc.css").read_bytes()


def test_the_example_spec_uncommented_is_a_valid_spec(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """What a team does first: uncomment the example (the lines below its `#` line) and put
    a model where it says."""
    from trtdoc.spec.load import load_specs

    lines = (REPO / "trtdoc" / "scaffold" / "example.yaml").read_text().splitlines()
    spec = [line.removeprefix("# ") for line in lines[lines.index("#") + 1:]]
    write(tmp_path, "specs/my.yaml", "\n".join(spec) + "\n")
    (tmp_path / "models").mkdir()
    shutil.copy(MODELS / "mobilenet_v2_035.onnx", tmp_path / "models" / "my_model.onnx")
    monkeypatch.chdir(tmp_path)
    loaded, errors = load_specs(["specs"])
    assert [str(e) for e in errors] == []
    assert [s.spec.name for s in loaded] == ["my-model-fp32", "my-model-fp16"]


def test_init_appends_to_a_gitignore_that_is_not_utf8(tmp_path: Path) -> None:
    """git reads .gitignore as bytes; a Latin-1 comment of the team's is not a reason to fail
    (it was a UnicodeDecodeError, reported as a trtdoc bug)."""
    from trtdoc.init import init_project

    (tmp_path / ".gitignore").write_bytes(b"# caf\xe9\nbuild/\n")
    result = init_project(tmp_path)
    assert result.appended[0][0] == ".gitignore"
    assert "public/" in result.appended[0][1]
    assert "build/" not in result.appended[0][1]
    assert (tmp_path / ".gitignore").read_bytes().startswith(b"# caf\xe9\nbuild/\n# ")


def test_init_says_when_a_folder_stands_where_a_file_belongs(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from trtdoc.cli.group import cli

    (tmp_path / "mkdocs.yml").mkdir()
    done = CliRunner().invoke(cli, ["init", str(tmp_path)], prog_name="trtdoc")
    assert done.exit_code == 0, done.output
    assert (f"left      {tmp_path}/mkdocs.yml (a folder is there, not a file: move it and run "
            "`trtdoc init` again)") in done.output.splitlines()


def test_init_says_what_a_teams_own_mkdocs_yml_lacks(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A mkdocs.yml that is there is left, and init says at once what the pages need of it
    (it said nothing, and the next `trtdoc check` failed with seven lines)."""
    from click.testing import CliRunner

    from trtdoc.cli.group import cli

    monkeypatch.chdir(tmp_path)
    write(tmp_path, "mkdocs.yml", "site_name: Ours\ndocs_dir: docs\n")
    done = CliRunner().invoke(cli, ["init"], prog_name="trtdoc")
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert "left      mkdocs.yml (it exists; not changed)" in lines
    assert ("to do     your mkdocs.yml cannot show the pages yet (8 line(s) below; `trtdoc "
            "check` checks them again):") in lines
    assert ("          mkdocs.yml:2:1: docs_dir: docs, but trtdoc writes the pages to site: "
            "mkdocs would not show them. Hint: set `docs_dir: site`") in lines
    # The tags plugin too: the example spec has tags (check asks for it once a page has some).
    assert sum(line.startswith("          mkdocs.yml:") for line in lines) == 8
    check = CliRunner().invoke(cli, ["check"], prog_name="trtdoc")
    assert check.exit_code == 1
    assert "7 problem(s) found" in check.stderr


def test_check_right_after_init_says_why_there_is_no_spec(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from trtdoc.cli.group import cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    assert CliRunner().invoke(cli, ["init"], prog_name="trtdoc").exit_code == 0
    done = CliRunner().invoke(cli, ["check"], prog_name="trtdoc")
    assert (done.exit_code, done.stdout) == (0, "0 spec(s) OK: no spec yet (a file of comments "
                                             "only, such as init's specs/example.yaml, is "
                                             "skipped)\n")


def test_the_next_step_line_can_be_pasted_into_a_shell(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from trtdoc.cli.group import cli

    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(cli, ["init", "our engines"], prog_name="trtdoc")
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[-1].startswith("next: cd 'our engines' && edit ")
