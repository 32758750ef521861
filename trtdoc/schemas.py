"""The JSON Schemas trtdoc ships in ``trtdoc/schema/``, one per file it reads.

Each is generated from the code that validates that file, never kept by hand: a spec and the
project file from their pydantic models (``spec/schema.py``, ``project_file.py``), a build
record from its typed classes (``record/types.py``), the deployment file from the types that read it
(``compat/deploy.py``). ``trtdoc schema KIND`` prints one; a test fails when
a shipped file is not what this generates.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).parent / "schema"


def _spec() -> dict[str, Any]:
    from trtdoc.spec.schema import spec_schema

    return spec_schema()


def _deploy() -> dict[str, Any]:
    from trtdoc.compat.deploy import deployment_schema

    return deployment_schema()


def _project() -> dict[str, Any]:
    from trtdoc.project_file import project_schema

    return project_schema()


def _record() -> dict[str, Any]:
    from trtdoc.record.codec import record_schema

    return record_schema()


GENERATORS: dict[str, Callable[[], dict[str, Any]]] = {
    "spec": _spec, "deploy": _deploy, "project": _project, "record": _record}
KINDS = tuple(GENERATORS)


def schema_path(kind: str) -> Path:
    """Where the shipped schema of ``kind`` is: ``trtdoc/schema/<kind>.schema.json``."""
    return SCHEMA_DIR / schema_file_name(kind)


def schema_text(kind: str) -> str:
    """The schema of ``kind`` as the shipped file holds it."""
    return json.dumps(GENERATORS[kind](), indent=1, ensure_ascii=False) + "\n"


def regenerate_command(kind: str) -> str:
    return f"trtdoc schema {kind} > trtdoc/schema/{kind}.schema.json"


def schema_file_name(kind: str) -> str:
    return f"{kind}.schema.json"


def write_schemas(folder: Path) -> tuple[list[Path], list[Path]]:
    """Write every schema into ``folder`` (a team's ``schema/``, which the ``$schema`` lines
    of its files name), each only if its bytes differ: the written and the unchanged."""
    from trtdoc.record.files import write_changed

    return write_changed((folder / schema_file_name(kind), schema_text(kind).encode())
                         for kind in KINDS)
