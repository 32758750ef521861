"""The compatibility matrix: engines × architectures, each cell with its reason and source."""

from __future__ import annotations

import dataclasses

from sitetools import fixed_records

from trtdoc.compat.data import ARCHITECTURE_KEYS, RUNTIMES
from trtdoc.compat.matrix import NO, UNKNOWN, YES, compat_matrix, engine_compat, runtime_for


def _record(name: str):
    return next(r for r in fixed_records() if r.name == name)


def test_every_runtime_row_cites_a_source() -> None:
    for row in RUNTIMES:
        assert row.sources, row
        assert all(s.startswith(("https://docs.nvidia.com/", "measured:")) for s in row.sources)


def test_rtx_engine_cells_follow_the_header_targets() -> None:
    row = engine_compat(_record("bert-tiny"))
    cells = {c.arch: c for c in row.cells}
    assert [c.arch for c in row.cells] == list(ARCHITECTURE_KEYS)
    # The same rules as `trtdoc compat --deploy`, for the release that built the engine.
    assert cells["sm86"].text == "✓ the plan is compiled for sm86"
    assert cells["sm90"].text == ("✗ TensorRT-RTX 1.7.1.116 does not support compute "
                                  "capability 9.0 (Hopper)")
    assert cells["sm75"].text == "✗ the plan is compiled for sm80, sm86, sm89, not sm75"
    assert cells["sm120"].status == NO
    assert row.compiled_source == "engine header"
    assert row.runtime == "TensorRT-RTX 1.7.1.116"


def test_rtx_engine_without_targets_uses_the_documented_defaults() -> None:
    bert = _record("bert-tiny")
    record = dataclasses.replace(bert, header=None, settings=(),
                                 spec=dataclasses.replace(bert.spec, targets=()))
    cells = {c.arch: c for c in engine_compat(record).cells}
    assert cells["sm86"].text == "✓ the plan is compiled for sm86 (default targets)"
    assert cells["sm75"].status == NO


def test_imported_tensorrt_engine_is_unknown_not_guessed() -> None:
    # Imported without --gpu: nothing says where it ran.
    row = engine_compat(dataclasses.replace(_record("resnet18-trtexec"), profiled=None))
    assert {c.status for c in row.cells} == {UNKNOWN}
    assert "not known" in row.cells[0].reason or "no cited source" in row.cells[0].reason
    assert row.compiled_source == "the build GPU (not recorded)"


def test_imported_with_gpu_runs_on_that_architecture_only() -> None:
    # The fixture is imported with --gpu A100 (tests/data/records/make_records.py).
    row = engine_compat(_record("resnet18-trtexec"))
    assert {c.arch for c in row.cells if c.status == YES} == {"sm80"}
    assert {c.status for c in row.cells if c.arch != "sm80"} == {UNKNOWN}


def test_runtime_lookup_matches_the_longest_version_prefix() -> None:
    assert runtime_for("tensorrt-rtx", "1.7.1.116").version == "1.7"
    assert runtime_for("tensorrt", "10.14.1.48").version == "10.14"
    assert runtime_for("tensorrt", "unknown") is None
    assert runtime_for("tensorrt-rtx", "2.0") is None


def test_matrix_is_sorted_by_engine() -> None:
    rows = compat_matrix(reversed(fixed_records()))
    assert [r.engine for r in rows] == sorted(r.engine for r in rows)
    assert any(c.status == YES for r in rows for c in r.cells)


def test_other_runtime_versions_on_the_page_are_what_compat_says() -> None:
    """The page's "Other runtime versions" and `trtdoc compat`/`inspect --runtime` with another
    release come from one rule: TensorRT-RTX engines are not compatible between releases
    (rtx-release, the TensorRT-RTX engine-compatibility page), so both say it fails."""
    from trtdoc.compat.deploy import target_from_options
    from trtdoc.compat.verdicts import FAILS, Plan, evaluate
    from trtdoc.compat.verdicts import UNKNOWN as NOT_KNOWN

    expected = {"none": FAILS, "unknown": NOT_KNOWN}
    seen = set()
    for record in fixed_records():
        page = engine_compat(record).other_versions
        other = {"tensorrt-rtx": "tensorrt-rtx 1.7.2", "tensorrt": "tensorrt 10.13.3"}[
            record.backend]
        verdict = evaluate(Plan.from_record(record), target_from_options("A100", other))
        (check,) = [c for c in verdict.checks
                    if c.rule in ("rtx-release", "trt-version", "version-compatible")]
        assert check.outcome == expected[page.split(":")[0]], (record.name, page, check)
        seen.add((record.backend, check.outcome))
    assert seen == {("tensorrt-rtx", FAILS), ("tensorrt", NOT_KNOWN)}
    assert engine_compat(_record("bert-tiny")).other_versions == (
        "none: only the release that built it, TensorRT-RTX 1.7.1.116, loads it (TensorRT-RTX "
        "engines are not compatible between releases)")
