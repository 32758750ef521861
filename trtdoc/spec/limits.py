"""Size and count limits on spec files: reading and checking one takes bounded time and memory.

Every spec file is untrusted (a pull request can add one, or a symlink to any file on the CI
host), so reading and checking one takes bounded time and memory whatever it holds. The
README's "Limits" section lists these; keep the two in step.
"""

from __future__ import annotations

# A spec is a few hundred bytes; refusing larger files before parsing bounds the parse (pure
# PyYAML takes about 6 s per MiB) and everything after it.
MAX_SPEC_BYTES = 1 << 20
# Nodes reached through aliases, summed over the walk ("billion laughs": nine levels of nine
# aliases are 9**9 nodes from 330 bytes). Counting, rather than refusing aliases to
# collections, keeps `<<: *defaults` and shared profiles working; a file without aliases is
# already bounded by MAX_SPEC_BYTES.
MAX_ALIAS_NODES = 100_000
# The deepest real key path is five levels (profiles[0].input.min[0]).
MAX_YAML_DEPTH = 32
# Lines shown per file; the rest are counted in one "... and K more problems" line.
MAX_PROBLEMS_PER_FILE = 20
# Engines one spec file may expand to through `variants:`.
MAX_VARIANTS = 64
MAX_PROFILES = 64
# nvinfer1::Dims holds at most 8 dimensions; dims are int64 in TensorRT but no real tensor
# has a dimension above int32.
MAX_RANK = 8
MAX_DIM = 2**31 - 1
# Memory pool sizes: 1 PiB is far above any GPU and well inside int64 bytes.
MAX_POOL_BYTES = 2**50
# Counts that drive how much the build holds in memory.
MAX_CALIBRATION_BATCHES = 10_000
MAX_ACCURACY_SAMPLES = 100_000
# An excerpt of an unknown key or a bad value in an error line (repr-style, so control
# characters are escaped): enough to recognise a typo, too little to leak a file into a CI log.
EXCERPT_CHARS = 40
# The longest path a spec may write (model, calibration.data, accuracy.data).
MAX_PATH_CHARS = 4096
# What a spec says about itself reaches every page, the index and the tags page: 30,000 tags
# in one spec (0.8 MiB, under MAX_SPEC_BYTES) made `mkdocs build` run past 180 s. A team
# tags an engine with a handful of words and describes it in a paragraph.
MAX_TAGS = 64
MAX_TAG_CHARS = 64
MAX_DESCRIPTION_CHARS = 4_000
# Findings one record may hold: a build writes one per kind (a few dozen kinds); a record with
# more was not written by trtdoc, and each finding is a line of `trtdoc lint` and of a page.
MAX_FINDINGS = 1_000
