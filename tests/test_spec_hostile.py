"""Hostile spec files: `trtdoc check` in a real process, under a memory limit and a timeout.

Every spec file is untrusted (a pull request can add one, or a symlink to any file of the CI
host). Each attack below was reproduced on trtdoc before these limits; each must now give
exactly one located line, no traceback, bounded time and memory, and must not stop the other
specs of the run.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, write

from trtdoc.check import check_specs

MEMORY_LIMIT = 2 << 30  # RLIMIT_AS of the checked process: a bomb fails, it does not swap
TIMEOUT = 60
MODEL = "models/mobilenet_v2_035.onnx"
PROFILE = ("profiles:\n"
           "  - input: {min: [1, 3, 224, 224], opt: [4, 3, 224, 224], max: [8, 3, 224, 224]}\n")
NOT_A_SPEC = ("not a trtdoc spec (the top level must be a mapping with name and model keys); "
              "nothing from it is shown")


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "models").mkdir()
    shutil.copyfile(REPO / "models" / "mobilenet_v2_035.onnx",
                    tmp_path / "models" / "mobilenet_v2_035.onnx")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def check(folder: Path, *paths: str) -> tuple[int, list[str], float]:
    """Run `trtdoc check` in ``folder``: exit code, output lines (the result on stdout, then
    the problems on stderr), seconds."""
    env = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"} | {
        "NO_COLOR": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "trtdoc.cli", "check", *paths], cwd=folder,
                          capture_output=True, text=True, env=env, timeout=TIMEOUT,
                          preexec_fn=_limit_memory)
    seconds = time.monotonic() - start
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output and "hit a bug" not in output, output[-3000:]
    return proc.returncode, proc.stdout.splitlines() + proc.stderr.splitlines(), seconds


def spec(extra: str = "", name: str = "s", model: str = MODEL) -> str:
    return f"name: {name}\nmodel: {model}\n{PROFILE}{extra}"


def one_problem(folder: Path, *paths: str) -> str:
    code, lines, _ = check(folder, *paths)
    assert code == 1
    assert len(lines) == 2 and lines[1] == "1 problem(s) found", lines
    return lines[0]


# --------------------------------------------------------------------------------------------
# 1. YAML bombs
# --------------------------------------------------------------------------------------------
def billion_laughs() -> str:
    lines = ["name: bomb", "model: m.onnx", "a: &a [x,x,x,x,x,x,x,x,x]"]
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_in_bounded_memory(here: Path) -> None:
    text = billion_laughs()
    assert len(text.encode()) < 400
    write(here, "spec.yaml", text)

    assert one_problem(here, "spec.yaml") == (
        "spec.yaml:3:4: YAML aliases expand to more than 100000 nodes. "
        "Hint: write the values out or use fewer aliases")


def test_aliases_within_the_limit_still_work(here: Path) -> None:
    write(here, "spec.yaml", "name: s\nmodel: models/mobilenet_v2_035.onnx\n"
          "profiles:\n  - input: &shape {min: [1, 3, 224, 224], opt: [4, 3, 224, 224], "
          "max: [8, 3, 224, 224]}\n  - input: *shape\n")

    code, lines, _ = check(here, "spec.yaml")
    assert (code, lines) == (0, ["1 spec(s) OK: s"])


def test_an_alias_that_contains_itself_and_deep_nesting(here: Path) -> None:
    write(here, "cycle/spec.yaml", "name: c\nmodel: m.onnx\ntags: &t [a, *t]\n")
    write(here, "deep/spec.yaml", "name: d\nmodel: m.onnx\ntags: " + "[" * 5000 + "]" * 5000
          + "\n")
    write(here, "shallow/spec.yaml", "name: d\nmodel: m.onnx\ntags: " + "[" * 40 + "]" * 40
          + "\n")

    assert one_problem(here, "cycle/spec.yaml") == (
        "cycle/spec.yaml:3:7: a YAML alias refers to a collection that contains it. "
        "Hint: write the values out")
    assert one_problem(here, "deep/spec.yaml").startswith("deep/spec.yaml:3:")
    assert one_problem(here, "shallow/spec.yaml") == (
        "shallow/spec.yaml:3:38: the YAML nests deeper than 32 levels. "
        "Hint: a spec is a few levels deep; flatten it")


# --------------------------------------------------------------------------------------------
# 2. Huge files, and at most 20 problems per file
# --------------------------------------------------------------------------------------------
def unknown_keys_spec(size: int) -> str:
    lines = ["name: huge", f"model: {MODEL}"]
    total, i = sum(len(s) + 1 for s in lines), 0
    while True:
        line = f"k{i}: 1"
        if total + len(line) + 1 > size:
            break
        lines.append(line)
        total, i = total + len(line) + 1, i + 1
    return "\n".join(lines) + "\n"


def test_a_spec_over_1_mib_is_not_parsed(here: Path) -> None:
    (here / "spec.yaml").write_text(unknown_keys_spec(57 << 20))

    assert one_problem(here, "spec.yaml") == (
        "spec.yaml: the file is 57.0 MiB, more than the 1.0 MiB a spec may be; nothing was "
        "parsed. Hint: a spec is a few hundred bytes: keep data in files it names "
        "(calibration.data, accuracy.data)")


def test_100k_unknown_keys_at_the_limit_give_20_lines_in_seconds(here: Path) -> None:
    text = unknown_keys_spec(1 << 20)
    (here / "spec.yaml").write_text(text)
    keys = text.count("\n") - 2
    assert keys > 100_000

    code, lines, seconds = check(here, "spec.yaml")

    assert code == 1
    assert lines[0] == ("spec.yaml:3:1: k0: unknown key 'k0'. Hint: valid keys here: name, "
                        "description, owner, tags, model, backend, precision, "
                        "precision_method, calibration, profiles, memory, optimization_level, "
                        "targets, hardware_compatibility, version_compatible, flags, accuracy, "
                        "triton, build_on, keep_fp32, variants")
    assert len(lines) == 22
    assert [x.split(": ")[1] for x in lines[:20]] == sorted(
        (f"k{i}" for i in range(20)), key=lambda k: int(k[1:]))
    assert lines[20] == f"… and {keys - 20} more problems in spec.yaml"
    # 36 s before the limits (parse, then a SpecError and a difflib hint per key).
    assert seconds < 20


def test_duplicate_keys_are_capped_too(here: Path) -> None:
    (here / "spec.yaml").write_text(spec() + "tags: []\n" * 50_000)

    code, lines, _ = check(here, "spec.yaml")
    assert code == 1
    assert lines[0] == ("spec.yaml:6:1: tags: this key appears twice in one mapping. "
                        "Hint: keep one of them")
    assert lines[20:] == ["… and 49979 more problems in spec.yaml", "49999 problem(s) found"]


def test_a_combinatorial_variants_bomb(here: Path) -> None:
    write(here, "spec.yaml", spec("variants:\n  optimization_level: [0, 1, 2, 3, 4, 5]\n"
                                  "  precision: [fp32, fp16, bf16]\n"
                                  "  tags: [[a], [b], [c], [d]]\n"))

    assert one_problem(here, "spec.yaml") == (
        "spec.yaml:6:3: variants: the variants make 72 engines, more than the 64 one spec may "
        "make. Hint: split the spec, or vary fewer keys")


# --------------------------------------------------------------------------------------------
# 3. Counts that drive memory, and data files read whole
# --------------------------------------------------------------------------------------------
def test_accuracy_samples_and_calibration_batches_have_limits(here: Path) -> None:
    write(here, "spec.yaml", spec("precision: int8\n"
                                  "calibration: {data: c.npz, batches: 1000000000}\n"
                                  "accuracy: {samples: 100000000}\n"))

    code, lines, _ = check(here, "spec.yaml")
    assert code == 1
    assert lines == [
        "spec.yaml:6:37: calibration.batches: 1000000000 is more than the 10000 calibration "
        "batches trtdoc reads. Hint: calibration needs a few hundred batches at most",
        "spec.yaml:7:21: accuracy.samples: 100000000 is more than the 100000 samples trtdoc "
        "compares. Hint: a few hundred to a few thousand samples measure accuracy well",
        "2 problem(s) found",
    ]


def test_random_accuracy_inputs_and_opt_batches_are_bounded(here: Path) -> None:
    write(here, "samples.yaml", spec("accuracy: {samples: 5000}\n", name="samples"))
    write(here, "opt.yaml", spec(name="opt").replace("opt: [4,", "opt: [40000,")
          .replace("max: [8,", "max: [80000,"))

    code, lines, _ = check(here, ".")
    assert code == 1
    assert lines == [
        "opt.yaml:4:5: profiles[0]: one batch at this profile's opt shapes is 22.4 GiB, more "
        "than the 2 GiB trtdoc draws as random inputs. Hint: make opt a shape you run (min "
        "and max may be wider)",
        "samples.yaml:5:21: accuracy.samples: 5000 random samples are 2.8 GiB of inputs, more "
        "than the 2 GiB trtdoc draws. Hint: lower accuracy.samples, or give held-out data in "
        "accuracy.data",
        "2 problem(s) found",
    ]


def npy_header(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    """An .npy header that promises ``shape`` with none of its data."""
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def test_data_is_checked_from_headers_never_loaded(here: Path) -> None:
    # 10 GB promised by a header of a few bytes: loading it would need the limit 5 times over.
    with zipfile.ZipFile(here / "c.npz", "w") as z:
        z.writestr("input.npy", npy_header((17_000, 3, 224, 224)))
    (here / "held.npy").write_bytes(npy_header((17_000, 3, 224, 224)))
    write(here, "spec.yaml", spec("precision: int8\ncalibration: {data: c.npz, batches: 8}\n"
                                  "accuracy: {data: held.npy, samples: 16}\n"))

    code, lines, _ = check(here, "spec.yaml")
    assert code == 1
    assert lines == [
        "spec.yaml:6:21: calibration.data: c.npz: the arrays the build would load come to "
        "9.5 GiB (from the .npy headers, up to c.npz), more than the 2 GiB trtdoc loads. "
        "Hint: use fewer or smaller samples, or lower calibration.batches",
        "spec.yaml:7:18: accuracy.data: held.npy: the arrays the build would load come to "
        "9.5 GiB (from the .npy headers, up to held.npy), more than the 2 GiB trtdoc loads. "
        "Hint: use fewer or smaller samples, or lower accuracy.samples",
        "2 problem(s) found",
    ]


# --------------------------------------------------------------------------------------------
# 4. Values and paths that used to end the run in a traceback
# --------------------------------------------------------------------------------------------
def test_out_of_range_values_are_located(here: Path) -> None:
    write(here, "dim.yaml", spec(name="dim").replace("max: [8,", "max: [99999999999999999999,"))
    write(here, "ws.yaml", spec("memory: {workspace: 99999999TiB}\n", name="ws"))
    write(here, "digits.yaml", spec("optimization_level: " + "9" * 5000 + "\n", name="digits"))
    write(here, "rank.yaml", spec(name="rank").replace("max: [8,", "max: [8, 1, 1, 1, 1, 1,"))
    write(here, "name.yaml", spec(name="a" * 301))
    write(here, "good.yaml", spec(name="good"))

    code, lines, _ = check(here, ".")
    assert code == 1
    assert lines == [
        "digits.yaml: the file holds a value too long to read (a number of thousands of "
        "digits?); nothing from it is shown. Hint: write real values",
        "dim.yaml:4:64: profiles[0].input.max: dimension 0 is 99999999999999999999, outside "
        "the int32 range (at most 2147483647). Hint: give a real size",
        "name.yaml:1:7: name: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'... is not a valid name. "
        "Hint: use letters, digits, '.', '_' and '-', starting and ending with a letter or "
        "digit, at most 128 characters (it becomes the page slug and file name)",
        "rank.yaml:4:64: profiles[0].input.max: 9 dimensions is more than the 8 a TensorRT "
        "tensor has. Hint: give one value per model dimension",
        "ws.yaml:5:21: memory.workspace: 109951161678088372224 bytes is more than 1 PiB "
        "(1125899906842624 bytes), the largest memory pool trtdoc passes to TensorRT. Hint: "
        "give a real size such as 4GiB, or leave the key out for TensorRT's default",
        "5 problem(s) found",
    ]
    # The good spec in the same run still checks, so it still builds.
    good, _ = check_specs([here])
    assert [g.spec.name for g in good] == ["good"]


def test_model_paths_that_are_not_files(here: Path) -> None:
    (here / "loop1").symlink_to("loop2")
    (here / "loop2").symlink_to("loop1")
    os.mkfifo(here / "fifo.onnx")
    (here / "gone").symlink_to("nowhere.onnx")
    for name, model in (("loop", "loop1"), ("folder", "models"), ("fifo", "fifo.onnx"),
                        ("zero", "/dev/zero"), ("dangling", "gone")):
        write(here, f"{name}.yaml", spec(name=name, model=model))

    code, lines, seconds = check(here, ".")
    assert code == 1
    assert lines == [
        "dangling.yaml:2:8: model: model file nowhere.onnx does not exist. "
        "Hint: fix the path; it is relative to the spec file",
        "fifo.yaml:2:8: model: model fifo.onnx is not a regular file (a FIFO, a device or a "
        "socket). Hint: point `model` at an .onnx file",
        "folder.yaml:2:8: model: model models is a folder, not a file. "
        "Hint: point `model` at an .onnx file",
        "loop.yaml:2:8: model: model loop1 is a symlink loop. "
        "Hint: point the symlink at a real file",
        "zero.yaml:2:8: model: model /dev/zero is not a regular file (a FIFO, a device or a "
        "socket). Hint: point `model` at an .onnx file",
        "5 problem(s) found",
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file anyway")
def test_an_unreadable_model(here: Path) -> None:
    model = here / "locked.onnx"
    shutil.copyfile(here / "models" / "mobilenet_v2_035.onnx", model)
    model.chmod(0)
    try:
        write(here, "spec.yaml", spec(model="locked.onnx"))
        assert one_problem(here, "spec.yaml") == (
            "spec.yaml:2:8: model: model locked.onnx cannot be read (Permission denied). "
            "Hint: make the file readable")
    finally:
        model.chmod(0o644)


def test_spec_paths_that_loop_and_folders_that_link_back(here: Path) -> None:
    (here / "a.yaml").symlink_to("b.yaml")
    (here / "b.yaml").symlink_to("a.yaml")
    write(here, "specs/good.yaml", spec(name="good", model="../" + MODEL))
    (here / "specs" / "up").symlink_to("..")  # followed, this walk would never end
    (here / "specs" / "again").symlink_to(".")
    (here / "specs" / "self.yaml").symlink_to("self.yaml")

    assert one_problem(here, "a.yaml") == (
        "a.yaml: is a symlink loop. Hint: point the symlink at a real file")
    code, lines, _ = check(here, "specs")
    assert lines == ["specs/self.yaml: is a symlink loop. Hint: point the symlink at a real "
                     "file", "1 problem(s) found"]
    good, _ = check_specs([here / "specs"])
    assert [g.spec.name for g in good] == ["good"]


def test_a_spec_that_is_not_utf8_or_not_a_regular_file(here: Path) -> None:
    (here / "latin1.yaml").write_bytes(b"name: caf\xe9\nmodel: m.onnx\n")
    (here / "nul.yaml").write_bytes(b"name: a\x00b\nmodel: m.onnx\n")
    os.mkfifo(here / "fifo.yaml")

    code, lines, _ = check(here, "latin1.yaml", "nul.yaml", "fifo.yaml")
    assert lines == [
        "fifo.yaml: is not a regular file (a FIFO, a device or a socket). "
        "Hint: point it at a file",
        "latin1.yaml:1:10: the file is not UTF-8 text; nothing from it is shown. "
        "Hint: save the spec as UTF-8",
        "nul.yaml:1:8: the file holds an unprintable character (#x0000); nothing from it is "
        "shown. Hint: remove it, or write it as an escape in a double-quoted string",
        "3 problem(s) found",
    ]


# --------------------------------------------------------------------------------------------
# 5. Files are never echoed
# --------------------------------------------------------------------------------------------
SHADOW = ("root:$6$Zm9vYmFy$c2VjcmV0aGFzaA:19000:0:99999:7:::\n"
          "daemon:*:19000:0:99999:7:::\n")


def test_files_that_are_not_specs_are_named_not_shown(here: Path) -> None:
    (here / "shadow").write_text(SHADOW)
    (here / "passwd.yaml").symlink_to("/etc/passwd")
    (here / "shadow.yaml").symlink_to(here / "shadow")
    write(here, "kv.yaml", "root: x\napi_token: hunter2\ndb_password: s3cr3t\n")
    write(here, "ini.yaml", "[core]\n\trepositoryformatversion = 0\n")

    code, lines, _ = check(here, ".")
    text = "\n".join(lines)
    for secret in ("root", "daemon", "19000", "hunter2", "s3cr3t", "api_token", "core"):
        assert secret not in text
    assert code == 1
    assert lines == [
        "ini.yaml:2:1: malformed YAML: found character '\\t' that cannot start any token. "
        "Hint: fix the YAML syntax (indentation, colons, quotes)",
        f"kv.yaml: {NOT_A_SPEC}",
        f"passwd.yaml: {NOT_A_SPEC}",
        # A symlink is shown by the name it was given, not its target's (display_path).
        f"shadow.yaml: {NOT_A_SPEC}",
        "4 problem(s) found",
    ]


def test_unknown_keys_and_bad_values_show_short_escaped_excerpts(here: Path) -> None:
    secret = "x" * 500
    write(here, "spec.yaml", spec(
        '"evil\\nkey\\u202e\\x1b[31m": 1\n'
        f"{secret}: 1\n"
        f'backend: "{secret}"\n'
        f'flags: ["\\r{secret}"]\n'))

    code, lines, _ = check(here, "spec.yaml")
    assert code == 1
    assert lines[:4] == [
        "spec.yaml:5:1: 'evil\\nkey\\u202e\\x1b[31m': unknown key "
        "'evil\\nkey\\u202e\\x1b[31m'. Hint: valid keys here: name, description, owner, tags, "
        "model, backend, precision, precision_method, calibration, profiles, memory, "
        "optimization_level, targets, hardware_compatibility, version_compatible, flags, "
        "accuracy, triton, build_on, keep_fp32, variants",
        "spec.yaml:6:1: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'...: unknown key "
        "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'.... Hint: valid keys here: name, description, "
        "owner, tags, model, backend, precision, precision_method, calibration, profiles, "
        "memory, optimization_level, targets, hardware_compatibility, version_compatible, "
        "flags, accuracy, triton, build_on, keep_fp32, variants",
        "spec.yaml:7:10: backend: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'... is not one of auto, "
        "tensorrt, tensorrt-rtx. Hint: use one of: auto, tensorrt, tensorrt-rtx",
        "spec.yaml:8:9: flags[0]: unknown builder flag '\\rxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'.... "
        "Hint: use TensorRT BuilderFlag names in lower case, e.g. debug, direct_io, "
        "disable_compilation_cache",
    ]
    assert all(len(line) < 400 and "\r" not in line and "\x1b" not in line for line in lines)


# --------------------------------------------------------------------------------------------
# 6. Names that differ only in case
# --------------------------------------------------------------------------------------------
def test_names_that_differ_only_in_case_collide(here: Path) -> None:
    write(here, "a.yaml", spec(name="tiny"))
    write(here, "b.yaml", spec(name="Tiny"))
    write(here, "c.yaml", spec(name="other"))

    code, lines, _ = check(here, ".")
    assert lines == [
        "b.yaml:1:7: name: name 'Tiny' differs only in case from 'tiny' in a.yaml:1; their "
        "pages and records would be one file on case-insensitive file systems (macOS, "
        "Windows). Hint: rename one of them (names are page slugs and file names)",
        "1 problem(s) found",
    ]
    good, _ = check_specs([here])
    assert [g.spec.name for g in good] == ["other"]


def test_tags_and_descriptions_have_limits(here: Path) -> None:
    # 30,000 tags (0.8 MiB, under the spec limit) made `mkdocs build` run past 180 s.
    tags = ", ".join(f"t{i}" for i in range(30_000))
    write(here, "many.yaml", spec(f"tags: [{tags}]\n", name="many"))
    write(here, "long.yaml", spec(f"description: {'x' * 5000}\ntags: [{'y' * 65}]\n",
                                  name="long"))
    most = ", ".join(f"t{i:063d}" for i in range(64))
    write(here, "fits.yaml", spec(f"description: {'x' * 4000}\ntags: [{most}]\n", name="fits"))
    code, lines, _ = check(here, "many.yaml", "long.yaml", "fits.yaml")
    assert code == 1
    assert lines[-4:] == [
        "long.yaml:5:14: description: 5,000 characters is more than the 4,000 a description may "
        "have. Hint: keep it to a paragraph and link to the rest",
        "long.yaml:6:7: tags: the tag 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy'... is longer than "
        "64 characters. Hint: a tag is a word or two",
        "many.yaml:5:7: tags: 30,000 tags is more than the 64 trtdoc shows. Hint: keep the few "
        "words a reader searches for",
        "3 problem(s) found",
    ]
