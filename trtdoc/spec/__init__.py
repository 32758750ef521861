"""YAML engine specs → validated, frozen ``EngineSpec`` objects.

This is the boundary: pydantic validates here and nowhere else. Everything inward receives
frozen dataclasses. Every problem is collected (not just the first), and each is addressed as
``file:line:col: key.path: message. Hint: fix`` so a user with three typos sees three lines.

One module per concern, in import order (each imports only those above it):

* ``limits.py``: size and count limits on spec files;
* ``text.py``: text from a file, shown safely in an error line;
* ``json_schema.py``: JSON Schema keywords and generator shared by every YAML file's schema;
* ``names.py``: what an engine name may be;
* ``locations.py``: where each value came from (file:line:col), and errors that point there;
* ``files.py``: refusing what is not a plain, small, UTF-8 file before parsing it;
* ``yaml_source.py``: YAML read with the position of every value, bounded against bombs;
* ``types.py``: the frozen ``EngineSpec`` and its parts, handed to the build stage;
* ``fields.py``: value types (sizes, dims, paths, numbers, flags) with validators and schema;
* ``schema.py``: the pydantic models of a spec file and its JSON Schema;
* ``error_lines.py``: pydantic's errors as located one-line messages;
* ``variants.py``: ``variants:`` expanded into one document per combination;
* ``freeze.py``: a validated model → the frozen ``EngineSpec``;
* ``load.py``: finding spec files, ``_defaults.yaml`` merging, ``load_specs``.

The value lists (precisions, targets, ...) live in :mod:`trtdoc.values`. What a spec value
does to the builder lives in ``builder_config.py``; how it reads on a page lives in
``parameters.py``.
"""

from __future__ import annotations

from trtdoc.errors import SpecError, SpecErrors
from trtdoc.spec.error_lines import located_errors
from trtdoc.spec.fields import (
    KNOWN_FLAGS,
    SIZE_PATTERN,
    Dims,
    Flag,
    Float,
    PathText,
    Size,
    parse_size,
)
from trtdoc.spec.files import path_problem
from trtdoc.spec.json_schema import SCHEMA_ID, JsonSchema, SchemaGenerator, any_case
from trtdoc.spec.limits import (
    EXCERPT_CHARS,
    MAX_ACCURACY_SAMPLES,
    MAX_ALIAS_NODES,
    MAX_CALIBRATION_BATCHES,
    MAX_DIM,
    MAX_PATH_CHARS,
    MAX_POOL_BYTES,
    MAX_PROBLEMS_PER_FILE,
    MAX_PROFILES,
    MAX_RANK,
    MAX_SPEC_BYTES,
    MAX_VARIANTS,
    MAX_YAML_DEPTH,
)
from trtdoc.spec.load import (
    DEFAULTS_FILE,
    SPEC_SUFFIXES,
    LoadedSpec,
    find_spec_files,
    load_specs,
    load_specs_or_raise,
)
from trtdoc.spec.locations import (
    KeyPath,
    Location,
    Locator,
    MoreProblems,
    UnresolvableFileError,
    format_key,
    sort_errors,
)
from trtdoc.spec.names import NAME_SCHEMA, RESERVED_NAMES, name_problem
from trtdoc.spec.schema import RAY_NVIDIA_GPUS, RAY_OWN_RESOURCES, spec_schema
from trtdoc.spec.text import excerpt, shown_path
from trtdoc.spec.types import (
    Accuracy,
    BuildOn,
    Calibration,
    EngineSpec,
    OutputTolerance,
    Profile,
    ShapeRange,
    Tolerance,
)
from trtdoc.spec.yaml_source import NOT_A_SPEC, read_yaml_document
from trtdoc.values import BACKENDS, HARDWARE_COMPATIBILITY, PRECISIONS, QUANTIZED, TARGETS

__all__ = [
    "BACKENDS",
    "DEFAULTS_FILE",
    "EXCERPT_CHARS",
    "HARDWARE_COMPATIBILITY",
    "KNOWN_FLAGS",
    "MAX_ACCURACY_SAMPLES",
    "MAX_ALIAS_NODES",
    "MAX_CALIBRATION_BATCHES",
    "MAX_DIM",
    "MAX_PATH_CHARS",
    "MAX_POOL_BYTES",
    "MAX_PROBLEMS_PER_FILE",
    "MAX_PROFILES",
    "MAX_RANK",
    "MAX_SPEC_BYTES",
    "MAX_VARIANTS",
    "MAX_YAML_DEPTH",
    "NAME_SCHEMA",
    "NOT_A_SPEC",
    "PRECISIONS",
    "QUANTIZED",
    "RAY_NVIDIA_GPUS",
    "RAY_OWN_RESOURCES",
    "RESERVED_NAMES",
    "SCHEMA_ID",
    "SIZE_PATTERN",
    "SPEC_SUFFIXES",
    "TARGETS",
    "Accuracy",
    "BuildOn",
    "Calibration",
    "Dims",
    "EngineSpec",
    "Flag",
    "Float",
    "JsonSchema",
    "KeyPath",
    "LoadedSpec",
    "Location",
    "Locator",
    "MoreProblems",
    "OutputTolerance",
    "PathText",
    "Profile",
    "SchemaGenerator",
    "ShapeRange",
    "Size",
    "SpecError",
    "SpecErrors",
    "Tolerance",
    "UnresolvableFileError",
    "any_case",
    "excerpt",
    "find_spec_files",
    "format_key",
    "load_specs",
    "load_specs_or_raise",
    "located_errors",
    "name_problem",
    "parse_size",
    "path_problem",
    "read_yaml_document",
    "shown_path",
    "sort_errors",
    "spec_schema",
]
