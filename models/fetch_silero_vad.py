"""Reproduce models/silero_vad_16k_sequence.onnx from the pinned silero-vad wheel.

    python models/fetch_silero_vad.py          # write it (pip download, sha256-checked)
    python models/fetch_silero_vad.py verify   # compare with the checked-in file

silero-vad 6.2.3 (MIT, Copyright (c) 2020-present Silero Team, https://github.com/snakers4/
silero-vad) ships ``silero_vad/data/silero_vad_16k_sequence.onnx``: a voice-activity LSTM over
a sequence of 576-sample chunks of 16 kHz audio, with states fixed at one sequence.
Inputs: ``input`` float [sequence_length, 576], ``h`` and ``c`` float [1, 1, 128]; outputs
``speech_probs`` [sequence_length], ``hn`` and ``cn`` [1, 1, 128]. At 1.2 MB it is checked in;
tests/test_sample_layouts.py builds it from [N, T, 576] chunks and [N, 1, 128] states.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from pinned_wheel import member_bytes

HERE = Path(__file__).resolve().parent
MODEL = HERE / "silero_vad_16k_sequence.onnx"
WHEEL = "silero_vad-6.2.3-py3-none-any.whl"
WHEEL_SHA256 = "7b7f5436cfcb02fae583a05b512ea96467fd449fe54cb49a5e4f06c51a1e43b8"
MEMBER = "silero_vad/data/silero_vad_16k_sequence.onnx"
MODEL_SHA256 = "9ccdacc4719d8aa7e45a77536bfabec45a03ba1f2fad5e241ab4060b24238a85"
MODEL_BYTES = 1_246_165


def model_bytes(downloads: Path) -> bytes:
    """The member of the pinned wheel, downloaded with pip and checked by sha256."""
    data = member_bytes("silero-vad==6.2.3", WHEEL, WHEEL_SHA256, MEMBER, MODEL_SHA256,
                        downloads)
    assert len(data) == MODEL_BYTES  # the sha256 says so; the size is documentation
    return data


def main() -> int:
    verify = sys.argv[1:] == ["verify"]
    with tempfile.TemporaryDirectory() as tmp:
        data = model_bytes(HERE.parent / "build" / "downloads" if not verify else Path(tmp))
    if verify:
        same = MODEL.is_file() and MODEL.read_bytes() == data
        print(f"verify: {MODEL} " + ("is the pinned file" if same else "DIFFERS"))
        return 0 if same else 1
    MODEL.write_bytes(data)
    print(f"wrote {MODEL} ({len(data):,} bytes, sha256 {MODEL_SHA256})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
