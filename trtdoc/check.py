"""Checks that need more than the spec file: the model's inputs, data files, backend limits.

``trtdoc check`` runs ``load_specs`` and then these, and reports every problem in one pass.
Nothing here builds, and the model is read without its weights.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

from trtdoc.check_data import bytes_words, check_data
from trtdoc.errors import SpecError, display_path
from trtdoc.model import (
    ModelError,
    ModelFacts,
    input_dim_names_from_onnx,
    model_facts_from_onnx,
    model_files,
)
from trtdoc.refusals import (
    FROM_THE_FLOAT_MODEL,
    dynamically_quantised,
    refused_standard_ops,
)
from trtdoc.spec.files import path_problem
from trtdoc.spec.load import LoadedSpec, load_specs
from trtdoc.spec.locations import Locator, sort_errors
from trtdoc.spec.text import excerpt, shown_path
from trtdoc.spec.types import ShapeRange
from trtdoc.values import FP8_TARGETS, QUANTIZED

# Settings only one TensorRT flavour has. TensorRT-RTX compiles for chosen compute
# capabilities; full TensorRT instead has hardware- and version-compatibility modes.
RTX_ONLY = ("targets",)
TRT_ONLY = ("hardware_compatibility",)
# Domains TensorRT's ONNX parser reads: the standard one and TensorRT's own plugin domains.
# ONNX Runtime's com.microsoft contrib ops and the ai.onnx.ml operators are not among them.
PARSER_DOMAINS = ("", "ai.onnx", "trt", "trt.plugins")
# The build reads calibration and held-out arrays whole (numpy.load), and draws random inputs
# at a profile's opt shape; these bound what one spec makes it hold. Sizes come from the .npy
# headers (an .npz member's header is read from its stream, never the data), so a 10 GB array,
# or a small .npz that inflates to one, is refused without being loaded.
MAX_INPUT_BYTES = 2 << 30


def check_spec(item: LoadedSpec, facts_cache: dict[Path, ModelFacts | ModelError]
               ) -> list[SpecError]:
    """Every problem with one loaded spec that needs its model or files to see."""
    spec, loc = item.spec, item.locator
    errors: list[SpecError] = []

    if spec.precision in QUANTIZED and spec.calibration is None:
        errors.append(loc.error(
            ("precision",), f"{spec.precision} needs calibration data",
            "add `calibration: {data: path/to/samples.npz, batches: 8}`"))
    calibration_ok = accuracy_ok = False
    if spec.calibration is not None:
        found = _data_path_errors(loc, ("calibration", "data"), "calibration data",
                                  spec.calibration.data)
        errors.extend(found)
        calibration_ok = not found
    if spec.accuracy is not None and spec.accuracy.data is not None:
        found = _data_path_errors(loc, ("accuracy", "data"), "held-out data",
                                  spec.accuracy.data)
        errors.extend(found)
        accuracy_ok = not found

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

    if spec.precision == "fp8":
        old = [t for t in spec.targets if t not in FP8_TARGETS]
        if old:
            newer = ", ".join(FP8_TARGETS)
            errors.append(loc.error(
                ("targets",), f"fp8 needs compute capability 8.9 (Ada) or later, but targets "
                f"lists {', '.join(old)}", f"remove {', '.join(old)} from targets (fp8 runs "
                f"on {newer}), or build an int8 or fp16 variant for them"))

    model_path = spec.model
    problem = path_problem(model_path)
    if problem is not None:
        message, hint = problem
        if message == "does not exist":
            errors.append(loc.error(
                ("model",), f"model file {shown_path(model_path)} does not exist",
                "fix the path; it is relative to the spec file"))
        else:
            errors.append(loc.error(("model",), f"model {shown_path(model_path)} {message}",
                                    "point `model` at an .onnx file"
                                    if "folder" in message or "regular" in message else hint))
        return errors
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
                ("model",), f"{shown_path(model_path)} is {facts.reason}",
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
    errors.extend(_check_dim_names(item, facts))
    errors.extend(_check_domains(item, facts))
    errors.extend(_check_accuracy_outputs(item, facts))
    errors.extend(_check_keep_fp32(item, facts))
    errors.extend(_check_input_bytes(item, facts))
    axis_errors = _check_sample_axis(item, facts)
    errors.extend(axis_errors)
    if axis_errors:  # the data is read by those axes: check it once they are right
        calibration_ok = accuracy_ok = False
    if spec.calibration is not None and calibration_ok:
        from trtdoc.precision.samples import batch_axes

        errors.extend(check_data(loc, ("calibration", "data"), spec.calibration.data,
                                  spec.calibration.batches, "calibration.batches", facts,
                                  axes=batch_axes(spec.model,
                                                  dict(spec.calibration.sample_axis))))
    if spec.accuracy is not None and spec.accuracy.data is not None and accuracy_ok:
        from trtdoc.precision.samples import batch_axes

        # Held-out data is read as the build reads it: samples along each input's batch axis
        # (``state [2, B, 128]`` along axis 1, scalars whole), summed over a folder's files.
        errors.extend(check_data(loc, ("accuracy", "data"), spec.accuracy.data,
                                  spec.accuracy.samples, "accuracy.samples", facts,
                                  axes=batch_axes(spec.model,
                                                  dict(spec.accuracy.sample_axis))))
    return errors


def _data_path_errors(loc: Locator, setting: tuple[str, str], what: str, data: Path
                      ) -> list[SpecError]:
    problem = path_problem(data, folder_ok=True)
    if problem is None:
        return []
    message, hint = problem
    return [loc.error(setting, f"{what} {shown_path(data)} {message}",
                      f"point {'.'.join(setting)} at an .npz, .npy or a folder of them"
                      if message == "does not exist" or "regular" in message else hint)]


_ITEMSIZE = {"bool": 1, "int8": 1, "uint8": 1, "int4": 1, "uint4": 1, "float8e4m3fn": 1,
             "int16": 2, "uint16": 2, "float16": 2, "bfloat16": 2, "int32": 4, "uint32": 4,
             "float32": 4, "int64": 8, "uint64": 8, "float64": 8}


def _check_input_bytes(item: LoadedSpec, facts: ModelFacts) -> list[SpecError]:
    """What the build holds for inputs it draws: a batch at a profile's opt shape (random
    calibration and accuracy inputs are drawn at it), and, without held-out data, every
    accuracy sample at once."""
    spec, loc = item.spec, item.locator
    inputs = {t.name: t for t in facts.inputs}
    limit = f"{MAX_INPUT_BYTES >> 30} GiB"
    errors: list[SpecError] = []
    for i, profile in enumerate(spec.profiles):
        total = 0
        for name, rng in profile.shapes:
            tensor = inputs.get(name)
            if tensor is None or any(d < 0 for d in rng.opt):
                continue  # reported by _check_profiles
            total += math.prod(rng.opt) * _ITEMSIZE.get(tensor.dtype, 8)
        if total > MAX_INPUT_BYTES:
            errors.append(loc.error(
                ("profiles", i), f"one batch at this profile's opt shapes is "
                f"{bytes_words(total)}, more than the {limit} trtdoc draws as random inputs",
                "make opt a shape you run (min and max may be wider)"))
            return errors
    accuracy = spec.accuracy
    if accuracy is not None and accuracy.data is None:
        per_sample = 0
        opt = dict(spec.profiles[0].shapes) if spec.profiles else {}
        for tensor in facts.inputs:
            shape = opt[tensor.name].opt if tensor.name in opt else tensor.dims
            dims = tuple(d for d in shape if isinstance(d, int) and d >= 0)
            if len(dims) != len(shape):
                continue
            batch = dims[0] if dims and dims[0] else 1
            per_sample += math.prod(dims) // max(batch, 1) * _ITEMSIZE.get(tensor.dtype, 8)
        total = per_sample * accuracy.samples
        if total > MAX_INPUT_BYTES:
            errors.append(loc.error(
                ("accuracy", "samples"), f"{accuracy.samples} random samples are "
                f"{bytes_words(total)} of inputs, more than the {limit} trtdoc draws",
                "lower accuracy.samples, or give held-out data in accuracy.data"))
    return errors


def _check_sample_axis(item: LoadedSpec, facts: ModelFacts) -> list[SpecError]:
    """Each ``sample_axis`` entry names a model input and one of its axes."""
    spec, loc = item.spec, item.locator
    ranks = {t.name: len(t.dims) for t in facts.inputs}
    errors: list[SpecError] = []
    for block, pairs in (("calibration", spec.calibration.sample_axis if spec.calibration
                          else ()),
                         ("accuracy", spec.accuracy.sample_axis if spec.accuracy else ())):
        for name, axis in pairs:
            where = (block, "sample_axis", name)
            if name not in ranks:
                errors.append(loc.error(
                    where, f"'{name}' is not a model input",
                    f"name one of {', '.join(sorted(ranks))}", at_key=True))
            elif axis >= ranks[name]:
                errors.append(loc.error(
                    where, f"model input '{name}' has {ranks[name]} dimensions, so it has no "
                    f"axis {axis}", f"give an axis from 0 to {ranks[name] - 1}"
                    if ranks[name] else "remove it: a scalar input feeds every batch"))
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

                close = difflib.get_close_matches(name[:200], list(inputs), n=1, cutoff=0.5)
                errors.append(loc.error(
                    ("profiles", i, name), f"the model has no input {excerpt(name)}",
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


def _check_dim_names(item: LoadedSpec, facts: ModelFacts) -> list[SpecError]:
    """Dims that share a name must share their range: TensorRT treats them as one dimension."""
    spec, loc = item.spec, item.locator
    if not spec.profiles:
        return []
    named = _dim_names(spec.model)
    ranks = {t.name: len(t.dims) for t in facts.inputs}
    errors: list[SpecError] = []
    for i, profile in enumerate(spec.profiles):
        # name -> [(where, (min, opt, max))] in input and dimension order
        seen: dict[str, list[tuple[str, tuple[int, int, int]]]] = {}
        for name, rng in profile.shapes:
            dims = named.get(name)
            if dims is None or _order_problem(rng) or len(rng.min) != ranks.get(name):
                continue  # reported by _check_profiles
            for d, dim_name in enumerate(dims):
                if dim_name is not None and d < len(rng.min):
                    seen.setdefault(dim_name, []).append(
                        (f"{name}[{d}]", (rng.min[d], rng.opt[d], rng.max[d])))
        for dim_name, uses in sorted(seen.items()):
            if len({r for _, r in uses}) > 1:
                fixed = all(lo == opt == hi for _, (lo, opt, hi) in uses)
                # Each dim pinned to its own size reads better as sizes than as ranges.
                listed = ", ".join(f"{w} {r[0]}" if fixed else f"{w} {'/'.join(map(str, r))}"
                                   for w, r in uses)
                what = "sizes" if fixed else "min/opt/max"
                hint = ("give these dims distinct names when exporting (dynamic_axes / "
                        "dynamic_shapes)" + ("" if fixed else
                                             ", or give them equal min, opt and max"))
                errors.append(loc.error(
                    ("profiles", i), f"input dimensions named '{dim_name}' have different "
                    f"{what} ({listed}); TensorRT takes same-named dims as one, and the "
                    "build fails with 'contradictory IOptimizationProfile kMIN/kMAX "
                    "constraints'", hint))
    return errors


_DIM_NAMES: dict[tuple[object, ...], dict[str, tuple[str | None, ...]]] = {}


def _dim_names(model: Path) -> dict[str, tuple[str | None, ...]]:
    # Variants share a model: read its graph inputs once per file version.
    st = model.stat()
    key = (str(model.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
           st.st_ctime_ns)
    if key not in _DIM_NAMES:
        _DIM_NAMES[key] = input_dim_names_from_onnx(model)
    return _DIM_NAMES[key]


def _check_domains(item: LoadedSpec, facts: ModelFacts) -> list[SpecError]:
    """Ops the parser refuses fail the parse: those of domains it does not read, and the
    standard ops it refuses (:data:`trtdoc.refusals.REFUSED_OPS`), every one named."""
    foreign: dict[str, list[str]] = {}
    for key, count in facts.op_histogram:
        domain, sep, op = key.rpartition("::")
        if sep and domain not in PARSER_DOMAINS:
            foreign.setdefault(domain, []).append(f"{op} x{count}" if count > 1 else op)
    standard = refused_standard_ops(facts.op_histogram)
    if not foreign and not standard:
        return []
    listed = "; ".join(f"{d}: {', '.join(sorted(ops))}" for d, ops in sorted(foreign.items()))
    if dynamically_quantised(facts.op_histogram):
        hint = FROM_THE_FLOAT_MODEL
    else:
        hint = "export the model without them"
        if "com.microsoft" in foreign:
            hint += (" (ONNX Runtime's optimiser writes com.microsoft ops: save the model "
                     "before optimising, or optimise with ORT_ENABLE_BASIC)")
        hint += (", or implement them as TensorRT plugins (trtdoc loads no plugin libraries "
                 "yet)")
    what = []
    if foreign:
        what.append(f"ops from domains TensorRT's ONNX parser does not read ({listed})")
    if standard:
        what.append(f"ops TensorRT's ONNX parser refuses ({', '.join(standard)})")
    return [item.locator.error(
        ("model",), f"{display_path(item.spec.model)} uses {' and '.join(what)}", hint)]


def _check_accuracy_outputs(item: LoadedSpec, facts: ModelFacts) -> list[SpecError]:
    """Per-output tolerances that name no model output."""
    outputs = getattr(item.spec.accuracy, "outputs", None)
    if not outputs:
        return []
    if isinstance(outputs, Mapping):
        names = [str(k) for k in outputs]
    else:  # a tuple of (name, setting) pairs, or of objects with a name
        names = [str(getattr(o, "name", None) or o[0]) for o in outputs]
    known = [t.name for t in facts.outputs]
    dims = {t.name: t.dims for t in facts.outputs}
    errors: list[SpecError] = []
    for name in names:
        if name in known:
            errors.extend(_check_slices(item, name, dims[name]))
            continue
        close = difflib.get_close_matches(name[:200], known, n=1, cutoff=0.5)
        errors.append(item.locator.error(
            ("accuracy", "outputs", name), f"the model has no output {excerpt(name)}",
            f"did you mean '{close[0]}'?" if close else
            f"model outputs are: {', '.join(sorted(known))}", at_key=True))
    return errors


def _check_slices(item: LoadedSpec, name: str, dims: tuple[int | str, ...]) -> list[SpecError]:
    """Slices of ``name`` whose axis or range the output's shape does not have."""
    accuracy = item.spec.accuracy
    own = next((o for o in getattr(accuracy, "outputs", ())
                if getattr(o, "name", None) == name), None)
    errors: list[SpecError] = []
    for i, cut in enumerate(getattr(own, "slices", ())):
        where = ("accuracy", "outputs", name, i)
        if cut.axis >= len(dims):
            errors.append(item.locator.error(
                (*where, "axis"), f"output {excerpt(name)} has {len(dims)} axes "
                f"{list(dims)}, so it has no axis {cut.axis}",
                f"choose an axis from 0 to {len(dims) - 1}"))
            continue
        size = dims[cut.axis]
        if isinstance(size, int) and size >= 0 and cut.stop > size:
            errors.append(item.locator.error(
                (*where, "stop"), f"slice {cut.label!r} stops at {cut.stop}, but axis "
                f"{cut.axis} of output {excerpt(name)} {list(dims)} has {size} entries",
                f"make stop at most {size}"))
    return errors


def _check_keep_fp32(item: LoadedSpec, facts: ModelFacts) -> list[SpecError]:
    """``keep_fp32`` op types and node names that the model does not have."""
    keep = item.spec.keep_fp32
    if keep is None:
        return []
    errors: list[SpecError] = []
    for what, names, known in (("ops", keep.ops, sorted(dict(facts.op_histogram))),
                               ("nodes", keep.nodes, sorted(facts.node_names))):
        for i, name in enumerate(names):
            if name in known:
                continue
            close = difflib.get_close_matches(name[:200], known, n=1, cutoff=0.5)
            kind = "op type" if what == "ops" else "node named"
            errors.append(item.locator.error(
                ("keep_fp32", what, i), f"the model has no {kind} {excerpt(name)}",
                f"did you mean '{close[0]}'?" if close else
                f"name one of its {len(known)} {'op types' if what == 'ops' else 'nodes'} "
                "(the page's op histogram, or Netron)"))
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


# --------------------------------------------------------------------------------------------
# Calibration and held-out data: names, ranks, dtypes and counts, read from the array headers
# --------------------------------------------------------------------------------------------
