"""Engine facts read from a plan file's header, with no GPU and no TensorRT import.

Layout of a TensorRT-RTX plan (little-endian), measured on TensorRT-RTX 1.7.1.116 plans built
for each compute capability on its own and in combinations:

====== ====== ===================================================================
offset size   meaning
====== ====== ===================================================================
0      4      magic ``b"vtrt"``
16     8      size of the whole plan in bytes (lets a truncated file be caught)
24     4      version bytes: major, minor, patch, build (1, 7, 1, 116)
28     4      ``b"vtrt"`` again
32     8      compute-capability bitmask: bit0 SM75, bit1 SM80, bit2 SM86, bit3 SM89,
              bit4 SM120, bit5 SM121 (a default build also sets bit6, which the 1.7
              Python API has no name for)
56     8      total weight bytes; equals the builder's "Total Weights Memory" line
====== ====== ===================================================================

A full TensorRT plan starts with ``b"ftrt"``. Tools that check plans without TensorRT test for
that magic, including Torch-TensorRT's engine serialiser and several readers of Ultralytics
``.engine`` files (found with the code search, not confirmed against NVIDIA documentation).
Such a plan keeps its version at bytes 24..27, as NVIDIA suggested in NVIDIA/TensorRT issue
#3073. Nothing else in a TensorRT header is documented, so only the version is read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field

from trtdoc.errors import InspectError
from trtdoc.values import TARGETS, EngineBackend, Target

HEADER_BYTES = 64
RTX_MAGIC = b"vtrt"
TRT_MAGIC = b"ftrt"
# Bit i of the RTX bitmask. Unknown bits are reported as "bit<i>" rather than dropped, so a
# newer plan never silently loses a target. The targets are listed in bit order.
RTX_COMPUTE_CAPABILITIES: tuple[Target, ...] = TARGETS


@dataclass(frozen=True)
class EngineFacts:
    """What the plan header says about an engine."""

    __pydantic_config__ = {"extra": "forbid"}  # records are decoded strictly: see record.py

    backend: EngineBackend
    version: str  # "1.7.1.116": the TensorRT(-RTX) that built the plan
    compute_capabilities: tuple[str, ...]  # ("sm86", "sm120") for TensorRT-RTX, else ()
    weights_bytes: Annotated[int, Field(ge=0)] | None  # TensorRT-RTX only
    size_bytes: Annotated[int, Field(ge=0)]  # the plan's size on disk / in memory


def _u64(head: bytes, offset: int) -> int:
    return int.from_bytes(head[offset:offset + 8], "little")


def engine_facts_from_header(data: bytes | bytearray | memoryview | Path | str) -> EngineFacts:
    """Backend, version, targets and weight size from the first 64 bytes of a plan.

    ``data`` is the plan itself, or the path of a plan file (of which only the header is read).
    A file that is not a plan, or is cut short, raises :class:`InspectError` naming the file.
    """
    source: Path | None = None
    if isinstance(data, (str, os.PathLike)):
        source = Path(data)
        import stat

        try:
            # O_NONBLOCK: a FIFO must not hang the command; only regular files are read.
            fd = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                         | getattr(os, "O_BINARY", 0))
            with os.fdopen(fd, "rb") as f:
                st = os.fstat(f.fileno())
                if not stat.S_ISREG(st.st_mode):
                    raise InspectError("not a regular file, so not an engine; pass the plan "
                                       "file build_serialized_network wrote", source=source)
                head = f.read(HEADER_BYTES)
                size = st.st_size
        except OSError as exc:
            raise InspectError(f"cannot read the engine ({exc.strerror or exc})",
                               source=source) from None
    else:
        head = bytes(data[:HEADER_BYTES])
        size = len(data)

    magic = head[:4]
    if magic == RTX_MAGIC:
        if size < HEADER_BYTES:
            raise InspectError(
                f"truncated TensorRT-RTX engine: {size} bytes, shorter than its "
                f"{HEADER_BYTES}-byte header; copy or rebuild it", source=source)
        declared = _u64(head, 16)
        if size < declared:
            raise InspectError(
                f"truncated TensorRT-RTX engine: {size} of the {declared} bytes its header "
                "declares; copy or rebuild it", source=source)
        mask = _u64(head, 32)
        targets = tuple(
            RTX_COMPUTE_CAPABILITIES[bit] if bit < len(RTX_COMPUTE_CAPABILITIES) else f"bit{bit}"
            for bit in range(64) if mask >> bit & 1
        )
        return EngineFacts("tensorrt-rtx", _version(head), targets, _u64(head, 56), size)
    if magic == TRT_MAGIC:
        if size < 28:
            raise InspectError(f"truncated TensorRT engine: {size} bytes, too short to hold "
                               "its version; copy or rebuild it", source=source)
        major, minor = head[24], head[25]
        # TensorRT majors so far are 1..11. Anything far outside that means the bytes are not
        # what this module thinks they are, and a wrong version is worse than none.
        if not 1 <= major <= 50 or minor > 99:
            raise InspectError(
                f"not a TensorRT engine this version of trtdoc can read: magic {magic!r} but "
                f"version bytes {head[24:28].hex(' ')}", source=source)
        return EngineFacts("tensorrt", _version(head), (), None, size)
    # Which bytes it starts with is not shown: the file may be anyone's secret (/etc/shadow).
    what = "it does not start" if magic else "it is empty, not starting"
    raise InspectError(
        f"not a TensorRT engine: {what} with {TRT_MAGIC!r} (TensorRT) or {RTX_MAGIC!r} "
        "(TensorRT-RTX); pass the plan that build_serialized_network wrote", source=source)


def _version(head: bytes) -> str:
    return ".".join(str(b) for b in head[24:28])
