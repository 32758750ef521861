"""GPU model names and their compute capabilities, as NVIDIA lists them.

A deployment target names its GPU by model ("L4", "RTX A6000", "Jetson AGX Orin") or by compute
capability ("8.9", "sm89"). Names are matched without case, spaces, hyphens and the "NVIDIA"
and "GeForce" prefixes, so "nvidia l40s", "L40S" and "GeForce RTX 4090" all resolve. An
unknown name is an error that suggests the nearest known one; nothing is guessed.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

CUDA_GPUS_URL = "https://developer.nvidia.com/cuda-gpus"
CUDA_LEGACY_GPUS_URL = "https://developer.nvidia.com/cuda-legacy-gpus"

# Compute capability → (architecture family, kind, models). "kind" is data-centre, workstation,
# consumer or jetson. From CUDA_GPUS_URL and, for 7.2 and older, CUDA_LEGACY_GPUS_URL.
_TABLE: dict[str, tuple[str, str, tuple[str, ...]]] = {}


def _add(cc: str, family: str, kind: str, *models: str) -> None:
    prev = _TABLE.get(f"{cc}/{kind}")
    _TABLE[f"{cc}/{kind}"] = (family, kind, (prev[2] if prev else ()) + models)


_add("12.1", "Blackwell", "data-centre", "GB10", "DGX Spark")
_add("12.0", "Blackwell", "data-centre", "RTX PRO 6000 Blackwell Server Edition",
     "RTX PRO 4500 Blackwell Server Edition")
_add("12.0", "Blackwell", "workstation", "RTX PRO 6000 Blackwell",
     "RTX PRO 6000 Blackwell Workstation Edition",
     "RTX PRO 6000 Blackwell Max-Q Workstation Edition",
     "RTX PRO 5000 Blackwell", "RTX PRO 4500 Blackwell", "RTX PRO 4000 Blackwell",
     "RTX PRO 4000 Blackwell SFF Edition", "RTX PRO 2000 Blackwell")
_add("12.0", "Blackwell", "consumer", "RTX 5090", "RTX 5080", "RTX 5070 Ti", "RTX 5070",
     "RTX 5060 Ti", "RTX 5060", "RTX 5050")
_add("11.0", "Blackwell", "jetson", "Jetson T5000", "Jetson T4000", "Jetson AGX Thor")
_add("10.3", "Blackwell", "data-centre", "GB300", "B300")
_add("10.0", "Blackwell", "data-centre", "GB200", "B200")
_add("9.0", "Hopper", "data-centre", "GH200", "H200", "H100", "H100 NVL", "H100 PCIe", "H100 SXM",
     "H800", "H20")
_add("8.9", "Ada Lovelace", "data-centre", "L4", "L40", "L40S", "L20")
_add("8.9", "Ada Lovelace", "workstation", "RTX 6000 Ada", "RTX 5000 Ada", "RTX 4500 Ada",
     "RTX 4000 Ada", "RTX 4000 SFF Ada", "RTX 2000 Ada")
_add("8.9", "Ada Lovelace", "consumer", "RTX 4090", "RTX 4080", "RTX 4070 Ti", "RTX 4070",
     "RTX 4060 Ti", "RTX 4060", "RTX 4050")
_add("8.7", "Ampere", "jetson", "Jetson AGX Orin", "Jetson Orin NX", "Jetson Orin Nano")
_add("8.6", "Ampere", "data-centre", "A40", "A10", "A10G", "A16", "A2")
_add("8.6", "Ampere", "workstation", "RTX A6000", "RTX A5000", "RTX A4000", "RTX A3000",
     "RTX A2000")
_add("8.6", "Ampere", "consumer", "RTX 3090 Ti", "RTX 3090", "RTX 3080 Ti", "RTX 3080",
     "RTX 3070 Ti", "RTX 3070", "RTX 3060 Ti", "RTX 3060", "RTX 3050 Ti", "RTX 3050")
_add("8.0", "Ampere", "data-centre", "A100", "A800", "A30")
_add("7.5", "Turing", "data-centre", "T4")
_add("7.5", "Turing", "workstation", "Quadro RTX 8000", "Quadro RTX 6000", "Quadro RTX 5000",
     "Quadro RTX 4000", "T1000", "T600", "T400")
_add("7.5", "Turing", "consumer", "TITAN RTX", "RTX 2080 Ti", "RTX 2080 Super", "RTX 2080",
     "RTX 2070 Super", "RTX 2070", "RTX 2060 Super", "RTX 2060", "GTX 1660 Ti", "GTX 1660 Super",
     "GTX 1660", "GTX 1650")
_add("7.2", "Volta", "jetson", "Jetson AGX Xavier", "Jetson Xavier NX")
_add("7.0", "Volta", "data-centre", "V100")
_add("7.0", "Volta", "workstation", "Quadro GV100", "TITAN V")
_add("6.1", "Pascal", "data-centre", "P40", "P4")
_add("6.1", "Pascal", "consumer", "GTX 1080 Ti", "GTX 1080", "GTX 1070 Ti", "GTX 1070",
     "GTX 1060", "GTX 1050", "TITAN Xp")
_add("6.0", "Pascal", "data-centre", "P100")
_add("5.3", "Maxwell", "jetson", "Jetson Nano")


@dataclass(frozen=True)
class Gpu:
    """A GPU a target names: its model (or None when given as a compute capability)."""

    model: str | None
    compute_capability: str  # "8.9"
    family: str | None  # "Ada Lovelace"; None for a compute capability no listed GPU has
    kind: str | None  # data-centre | workstation | consumer | jetson
    source: str

    @property
    def key(self) -> str:
        """``sm89``: the spelling of specs' ``targets`` and TensorRT-RTX's ComputeCapability."""
        return "sm" + self.compute_capability.replace(".", "")

    @property
    def cc(self) -> tuple[int, int]:
        major, minor = self.compute_capability.split(".")
        return int(major), int(minor)

    @property
    def display(self) -> str:
        return (f"{self.model} ({self.compute_capability})" if self.model
                else f"compute capability {self.compute_capability}")


def _norm(name: str) -> str:
    text = name.lower()
    for prefix in ("nvidia", "geforce", "tesla"):
        text = re.sub(rf"\b{prefix}\b", "", text)
    return re.sub(r"[\s_\-]+", "", text)


_BY_NAME: dict[str, Gpu] = {}
for _key, (_family, _kind, _models) in _TABLE.items():
    _cc = _key.split("/")[0]
    _source = CUDA_LEGACY_GPUS_URL if float(_cc) <= 7.2 else CUDA_GPUS_URL
    for _model in _models:
        _BY_NAME[_norm(_model)] = Gpu(_model, _cc, _family, _kind, _source)
GPU_MODELS: tuple[str, ...] = tuple(g.model for g in _BY_NAME.values() if g.model)
_LONGEST_FIRST = sorted(_BY_NAME, key=len, reverse=True)
COMPUTE_CAPABILITIES = tuple(sorted({g.compute_capability for g in _BY_NAME.values()},
                                    key=lambda c: tuple(map(int, c.split(".")))))
_FAMILY_OF_CC = {g.compute_capability: g.family for g in _BY_NAME.values()}
_KIND_OF_CC: dict[str, set[str]] = {}
for _gpu in _BY_NAME.values():
    _KIND_OF_CC.setdefault(_gpu.compute_capability, set()).add(_gpu.kind or "")

# "8.9", "sm89", "sm_89", "SM 8.9", "compute_89"
_CC_RE = re.compile(r"^(?:(?:sm|compute)[\s_]*)?([0-9]{1,3})(?:\.([0-9]))?$", re.IGNORECASE)


class UnknownGpu(ValueError):
    """A GPU name no table here lists; ``suggestion`` is the nearest known name, if any."""

    def __init__(self, given: str, suggestion: str | None, *, known_cc: bool = False) -> None:
        self.given, self.suggestion = given, suggestion
        self.bad_compute_capability = known_cc
        super().__init__(given)


def find_gpu(text: str) -> Gpu:
    """The GPU a target's ``gpu:`` names; :class:`UnknownGpu` when it is not known."""
    given = text.strip()
    match = _CC_RE.match(given)
    if match and (match.group(2) is not None or given[:1].isalpha()):
        major, minor = match.group(1), match.group(2)
        if minor is None:  # sm89 → 8.9, sm120 → 12.0, sm100 → 10.0
            digits = major if len(major) > 1 else major + "0"
            major, minor = digits[:-1], digits[-1]
        cc = f"{int(major)}.{minor}"
        if cc not in _FAMILY_OF_CC:  # sm999, sm1: no GPU has it; a verdict on it is made up
            raise UnknownGpu(given, None, known_cc=True)
        kinds = _KIND_OF_CC[cc]
        return Gpu(None, cc, _FAMILY_OF_CC[cc], next(iter(kinds)) if len(kinds) == 1 else None,
                   CUDA_GPUS_URL)
    norm = _norm(given)
    gpu = _BY_NAME.get(norm)
    if gpu is not None:
        return gpu
    # nvidia-smi's names carry the form factor and memory: "NVIDIA A100-SXM4-80GB",
    # "Tesla V100-SXM2-16GB", "NVIDIA H100 80GB HBM3". The longest known model they start with.
    for known in _LONGEST_FIRST:
        rest = norm[len(known):]
        if norm.startswith(known) and (not rest[:1].isdigit() or re.match(r"[0-9]+gb", rest)):
            return _BY_NAME[known]
    close = difflib.get_close_matches(norm, list(_BY_NAME), n=1, cutoff=0.6)
    raise UnknownGpu(given, _BY_NAME[close[0]].model if close else None)


def is_jetson(gpu: Gpu) -> bool:
    """Jetson modules (their compute capabilities 5.3, 7.2, 8.7, 11.0 are Jetson-only)."""
    return gpu.kind == "jetson"
