from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# CI clones the repository beside ../shared; TRTDOC_SHARED points elsewhere when needed.
SHARED = Path(os.environ.get("TRTDOC_SHARED", REPO.parent / "shared"))
MODELS = SHARED / "models"
TREX = SHARED / "fixtures" / "trex"


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} is missing: clone the repository beside shared/ or set TRTDOC_SHARED")
    return SHARED
