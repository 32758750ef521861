"""The wheel a user installs: it carries the templates and the record schema, and finds them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import REPO

RECORDS = REPO / "tests" / "data" / "records"


def test_wheel_outside_the_checkout_renders_with_its_own_templates(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist),
                    str(REPO)], check=True, capture_output=True, text=True)
    (wheel,) = dist.glob("trtdoc-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "trtdoc/_templates/engine.md.j2" in names
    assert "trtdoc/schema/record.schema.json" in names
    assert "trtdoc/py.typed" in names
    # The site renders from the installed package: its stylesheet, and what `trtdoc init`
    # writes (tests/test_init.py installs this wheel and uses them).
    assert "trtdoc/assets/trtdoc.css" in names
    assert {f"trtdoc/scaffold/{n}" for n in ("trtdoc.yml", "mkdocs.yml", "example.yaml",
                                             "gitignore", "workflow.yml")} <= set(names)
    assert not any(n.startswith(("tests/", "templates/")) for n in names)
    (metadata,) = (n for n in names if n.endswith(".dist-info/METADATA"))
    meta = zipfile.ZipFile(wheel).read(metadata).decode()
    requires = [line for line in meta.splitlines() if line.startswith("Requires-Dist:")]
    # Only the tests read Markdown as GitHub does: markdown-it-py is not a user's dependency.
    assert [r for r in requires if "markdown-it-py" in r] == [
        "Requires-Dist: markdown-it-py>=3.0; extra == 'test'"]
    assert "Classifier: Typing :: Typed" in meta.splitlines()

    installed = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(installed)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import sys, trtdoc.render.environment as env, trtdoc.render.write as r\n"
        "import trtdoc.record.files as rec\n"
        "print(env.shipped_templates())\n"
        "records = [rec.read_record(p) for p in sorted(__import__('pathlib').Path(sys.argv[1])"
        ".glob('*.json'))]\n"
        "r.render_site(records, __import__('pathlib').Path('site'))\n"
    )
    # Only the extracted wheel and the dependencies are importable: not the checkout.
    deps = [p for p in sys.path if "site-packages" in p]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(installed), *deps])}
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path[:0] = "
                          f"{[str(installed), *deps]!r}\n" + script, str(RECORDS)],
                         cwd=elsewhere, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()) == installed / "trtdoc" / "_templates"
    assert (elsewhere / "site" / "engines" / "bert-tiny.md").read_text().startswith("---\n")
