"""The build key: one sha256 that changes exactly when the engine would, so an unchanged engine
is not built again (and ``build --check`` can tell a stale record without building)."""

from __future__ import annotations

import hashlib

from trtdoc.backends import BackendChoice
from trtdoc.spec.keys import spec_build_key
from trtdoc.spec.types import EngineSpec


def build_key(spec: EngineSpec, model_sha: str, choice: BackendChoice) -> str:
    """Changes exactly when the engine would: settings, model bytes, backend and its version,
    and for a converted model the converter's recipe and version. The last part changes when
    what a record names does (record-2: engines are stored by sha256)."""
    recipe = ""
    if spec.precision != "fp32" and spec.precision_method == "model":
        from trtdoc.precision.recipe import recipe_key

        recipe = recipe_key(spec.precision)
    parts = (spec_build_key(spec), model_sha, choice.name, choice.version, choice.cuda or "",
             recipe, "record-2")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
