"""Checks that need more than the spec file: the model's inputs, data files, backend limits.

``trtdoc check`` runs ``load_specs`` and then these, and reports every problem in one pass.
Nothing here builds, and the model is read without its weights.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from trtdoc.errors import SpecError, display_path
from trtdoc.model import ModelError, ModelFacts, model_facts_from_onnx, model_files
from trtdoc.spec import QUANTIZED, LoadedSpec, ShapeRange, load_specs, sort_errors

# Settings only one TensorRT flavour has. TensorRT-RTX compiles for chosen compute
# capabilities; full TensorRT instead has hardware- and version-compatibility modes.
RTX_ONLY = ("targets",)
TRT_ONLY = ("hardware_compatibility",)


def check_spec(item: LoadedSpec, facts_cache: dict[Path, ModelFacts | ModelError]
               ) -> list[SpecError]:
    """Every problem with one loaded spec that needs its model or files to see."""
    spec, loc = item.spec, item.locator
    errors: list[SpecError] = []

    if spec.precision in QUANTIZED and spec.calibration is None:
        errors.append(loc.error(
            ("precision",), f"{spec.precision} needs calibration data",
            "add `calibration: {data: path/to/samples.npz, batches: 8}`"))
    if spec.calibration is not None and not spec.calibration.data.exists():
        errors.append(loc.error(
            ("calibration", "data"),
            f"calibration data {display_path(spec.calibration.data)} does not exist",
            "point calibration.data at an .npz, .npy or a folder of them"))
    if spec.accuracy is not None and spec.accuracy.data is not None \
            and not spec.accuracy.data.exists():
        errors.append(loc.error(("accuracy", "data"),
                                f"held-out data {display_path(spec.accuracy.data)} does not exist",
                                "point accuracy.data at an .npz, .npy or a folder of them"))

    rtx_set = [k for k in RTX_ONLY if getattr(spec, k)]
    trt_set = [k for k in TRT_ONLY if getattr(spec, k) != "none"]
    if spec.backend == "tensorrt" and rtx_set:
        errors.append(loc.error(
            ("targets",), "TensorRT has no compute-capability targets; it builds for the GPU "
            "it runs on", "remove targets, or use `backend: tensorrt-rtx`"))
    if spec.backend == "tensorrt-rtx" and trt_set:
        errors.append(loc.error(
            ("hardware_compatibility",), "TensorRT-RTX has no hardware-compatibility modes",
            "remove hardware_compatibility and list compute capabilities in `targets` instead"))
    if spec.backend == "auto" and rtx_set and trt_set:
        errors.append(loc.error(
            ("hardware_compatibility",), "targets (TensorRT-RTX only) and "
            "hardware_compatibility (TensorRT only) cannot both be used",
            "choose a backend and keep only its setting"))
    if spec.precision_method == "builder_flags" and spec.backend == "tensorrt-rtx":
        errors.append(loc.error(
            ("precision_method",), "TensorRT-RTX is strongly typed and has no precision flags",
            "use `precision_method: model`"))

    model_path = spec.model
    if model_path not in facts_cache:
        try:
            facts_cache[model_path] = model_facts_from_onnx(model_path)
        except ModelError as exc:
            facts_cache[model_path] = exc
    facts = facts_cache[model_path]
    if isinstance(facts, ModelError):
        if facts.missing:
            errors.append(loc.error(
                ("model",), f"model file {display_path(model_path)} does not exist",
                "fix the path; it is relative to the spec file"))
        else:
            errors.append(loc.error(
                ("model",), f"{display_path(model_path)} is {facts.reason}",
                "point `model` at a complete .onnx file (export or copy it again if it was "
                "cut short)"))
        return errors
    if facts.external_data:
        # Only whether the files exist: their bytes are the weights, which check never reads.
        for extra in model_files(model_path)[1:]:
            if not extra.is_file():
                errors.append(loc.error(
                    ("model",), f"external data file {display_path(extra)} of "
                    f"{display_path(model_path)} does not exist",
                    "keep the model's external data files beside the .onnx file"))
    errors.extend(_check_profiles(item, facts))
    return errors


def _check_profiles(item: LoadedSpec, facts: ModelFacts) -> list[SpecError]:
    spec, loc = item.spec, item.locator
    errors: list[SpecError] = []
    inputs = {t.name: t for t in facts.inputs}
    dynamic = [t for t in facts.inputs if t.is_dynamic]
    if dynamic and not spec.profiles:
        for tensor in dynamic:
            dims = ",".join(str(d) for d in tensor.dims)
            errors.append(loc.error(
                ("profiles",), f"model input '{tensor.name}' has dynamic shape [{dims}] and no "
                "profile", f"add `profiles: [{{{tensor.name}: {{min: [...], opt: [...], "
                "max: [...]}}]`"))
    for i, profile in enumerate(spec.profiles):
        for name, rng in profile.shapes:
            t = inputs.get(name)
            if t is None:
                import difflib

                close = difflib.get_close_matches(name, list(inputs), n=1, cutoff=0.5)
                errors.append(loc.error(
                    ("profiles", i, name), f"the model has no input '{name}'",
                    f"did you mean '{close[0]}'?" if close else
                    f"model inputs are: {', '.join(sorted(inputs))}", at_key=True))
                continue
            order = _order_problem(rng)
            if order:
                message, hint = order
                errors.append(loc.error(("profiles", i, name), message, hint))
                continue
            if len(rng.min) != len(t.dims):
                errors.append(loc.error(
                    ("profiles", i, name, "min"),
                    f"rank {len(rng.min)} does not match the model input rank {len(t.dims)} "
                    f"[{','.join(str(d) for d in t.dims)}]",
                    "give one value per model dimension"))
                continue
            for d, model_dim in enumerate(t.dims):
                if isinstance(model_dim, int) and model_dim >= 0:
                    for which, shape in (("min", rng.min), ("opt", rng.opt), ("max", rng.max)):
                        if shape[d] != model_dim:
                            errors.append(loc.error(
                                ("profiles", i, name, which),
                                f"dimension {d} is {shape[d]} but the model fixes it at "
                                f"{model_dim}", f"set dimension {d} to {model_dim} in min, "
                                "opt and max"))
                            break
        for tensor in dynamic:
            if profile.get(tensor.name) is None:
                errors.append(loc.error(
                    ("profiles", i), f"dynamic model input '{tensor.name}' has no shape in "
                    "this profile", f"add `{tensor.name}: {{min: [...], opt: [...], "
                    "max: [...]}`"))
    return errors


def _order_problem(rng: ShapeRange) -> tuple[str, str] | None:
    ranks = (len(rng.min), len(rng.opt), len(rng.max))
    if len(set(ranks)) > 1:
        return (f"min, opt and max have different ranks {ranks}",
                "give every shape one value per model dimension")
    for d, (lo, mid, hi) in enumerate(zip(rng.min, rng.opt, rng.max, strict=True)):
        if min(lo, mid, hi) < 0:
            return (f"dimension {d} is negative ({lo}, {mid}, {hi})",
                    "a profile gives real sizes (>= 0), not -1 for a dynamic axis")
        if not lo <= mid <= hi:
            return (f"dimension {d} violates min <= opt <= max ({lo}, {mid}, {hi})",
                    "make min <= opt <= max in every dimension")
    return None


def check_specs(paths: Iterable[Path | str]) -> tuple[list[LoadedSpec], list[SpecError]]:
    """Load and check every spec under ``paths``; returns the good specs and all problems."""
    # A spec whose name is taken is still checked, so that all its problems show at once.
    loaded, errors = load_specs(paths, keep_duplicates=True)
    cache: dict[Path, ModelFacts | ModelError] = {}
    good: list[LoadedSpec] = []
    for item in loaded:
        problems = check_spec(item, cache)
        errors.extend(problems)
        if not problems and not item.duplicate:
            good.append(item)
    return good, sort_errors(errors)
