"""How much trtdoc reads from an imported export: bytes of a file, layers, one JSON value.

The readers look these up here at call time (``limits.MAX_LAYERS``), so a test or a benchmark
that sets ``trtdoc.inspect.limits.MAX_LAYERS`` changes every reader at once.
"""

from __future__ import annotations

# Limits on imported exports. Real exports are far below them (ResNet-18's layer JSON is 31 KB
# for 36 layers; a 1,000-layer LLM engine's is a few MB). They are set so that the largest
# export one could make, 10^6 layers in trtexec's layout (about 850 MiB with the ResNet-18
# layers' shapes), imports with room to spare, while a stray or hostile file stays bounded:
# the files are read as a stream, so memory grows with the layers kept, about 0.5 KB each,
# never with the size of the text.
MAX_EXPORT_BYTES = 2 * 1024 * 1024 * 1024
MAX_LAYERS = 2_000_000
# Inferences in a trtexec --exportTimes file (about 270 bytes each, so 2 GiB is 8 million):
# each is kept as one 8-byte float until the summary is made.
MAX_INFERENCES = 10_000_000
# The largest single JSON value read whole: one layer, the I/O tensor list, or any other key's
# value (a real layer is under 10 KB; TensorRT truncates Metadata at 4,000 characters).
MAX_JSON_VALUE_CHARS = 64 << 20
# Weights one layer's "Weights" or "Bias" may count (10^12: far above any engine's); a larger
# or non-integer count is left out, as a missing one is.
MAX_WEIGHT_COUNT = 10**12
