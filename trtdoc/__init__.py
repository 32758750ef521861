"""trtdoc: build TensorRT engines from checked-in specs and publish what is inside them."""

from __future__ import annotations

from trtdoc.versions import dist_version

# None when running from a checkout that was never installed.
__version__ = dist_version("trtdoc") or "0.0.0+unknown"
