"""The records a folder held at a git ref (``trtdoc diff --base REF``), read with ``git show``
and ``git cat-file``, without a checkout."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from trtdoc.errors import RecordError, TrtdocError, display_path
from trtdoc.inspect.json_stream import JsonStream
from trtdoc.record.codec import record_from_json, record_from_stream
from trtdoc.record.files import MAX_RECORD_BYTES, WHOLE_RECORD_BYTES
from trtdoc.record.stream import SCAN
from trtdoc.record.types import EngineRecord
from trtdoc.spec.text import excerpt


def _git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise TrtdocError("--base needs git, which is not installed here; install git, or "
                          "compare two record files: trtdoc diff OLD.json NEW.json") from None


def _git_says(result: subprocess.CompletedProcess[bytes]) -> str:
    text = result.stderr.decode("utf-8", "replace").strip().splitlines()
    return text[0] if text else f"exit code {result.returncode}"


def _short_ref(ref: str) -> str:
    """The ref as an error line shows it: whole when short and printable, else cut."""
    return ref if len(ref) <= 80 and ref.isprintable() else excerpt(ref, 80)


def _blob_record(root: Path, blob: str, size: int, where: Path) -> EngineRecord:
    """The record in git object ``blob``: read whole when small, else streamed from
    ``git cat-file`` (a record at a ref can be as large as one on disk)."""
    if size <= WHOLE_RECORD_BYTES:
        shown = _git(["cat-file", "blob", blob], root)
        if shown.returncode != 0:
            raise RecordError(f"cannot read it from git ({_git_says(shown)})", path=where)
        return record_from_json(shown.stdout, path=where)
    import tempfile

    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(["git", "cat-file", "blob", blob], cwd=root,
                                stdout=subprocess.PIPE, stderr=err)
        assert proc.stdout is not None
        try:
            with proc.stdout:
                s = JsonStream("record", None, f=proc.stdout, limit=MAX_RECORD_BYTES, scan=SCAN)
                try:
                    record = record_from_stream(s, path=where)
                except RecordError:
                    if proc.poll() is None or proc.returncode == 0:
                        raise
                    record = None  # git failed: say why, not that its output was cut short
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        if proc.returncode != 0:
            err.seek(0)
            said = err.read(4096).decode("utf-8", "replace").strip().splitlines()
            raise RecordError(f"cannot read it from git ({said[0] if said else proc.returncode})",
                              path=where)
    assert record is not None
    return record


def records_at_ref(folder: Path, ref: str) -> dict[str, EngineRecord]:
    """The records that ``folder`` held at git ``ref``, by engine name, without a checkout.

    Each is ``git show <ref>:<folder relative to the repository root>/<name>.json``, decoded as
    strictly as a file (a record at a ref is as untrusted as one on disk). A folder missing
    at ``ref`` holds no records there: every engine is new.
    """
    folder = folder.resolve() if folder.is_dir() else folder.absolute()
    cwd = folder if folder.is_dir() else Path.cwd()
    shown_ref = _short_ref(ref)
    if ref.startswith("-"):
        raise TrtdocError(f"--base {shown_ref}: not a git ref (it starts with '-'); name a "
                          "branch, tag or commit")
    top = _git(["rev-parse", "--show-toplevel"], cwd)
    if top.returncode != 0:
        raise TrtdocError(f"--base {shown_ref}: {display_path(folder)} is not in a git "
                          f"repository ({_git_says(top)}); run it inside the repository, or "
                          "compare two record files")
    root = Path(top.stdout.decode().strip()).resolve()
    try:
        rel = folder.relative_to(root).as_posix()
    except ValueError:
        raise TrtdocError(f"--base {shown_ref}: {display_path(folder)} is not inside the "
                          f"repository {root}") from None
    commit = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
                  root)
    if commit.returncode != 0:
        raise TrtdocError(f"--base {shown_ref}: no such commit in {root}; name a branch, tag "
                          "or commit that exists (in CI, fetch it first: git fetch origin main)")
    sha = commit.stdout.decode().strip()
    prefix = "" if rel == "." else f"{rel}/"
    listing = _git(["ls-tree", "-z", "-l", sha, "--", prefix or "."], root)
    if listing.returncode != 0:
        raise TrtdocError(f"--base {shown_ref}: cannot list {prefix or '.'} "
                          f"({_git_says(listing)})")
    out: dict[str, EngineRecord] = {}
    for line in sorted(listing.stdout.decode("utf-8", "replace").split("\0")):
        # "<mode> <type> <object> <size>\t<path>"
        info, _, entry = line.partition("\t")
        name = entry[len(prefix):] if entry.startswith(prefix) else entry
        fields = info.split()
        if not name.endswith(".json") or "/" in name or len(fields) != 4 or fields[1] != "blob":
            continue
        where = Path(f"{shown_ref}:{prefix}{name}")
        if fields[0] == "120000":
            raise RecordError("a symbolic link, not a record; commit the record file itself",
                              path=where)
        if not fields[3].isdigit():
            continue  # not a blob with a size
        if int(fields[3]) > MAX_RECORD_BYTES:
            raise RecordError(f"{int(fields[3]) / 2**20:.1f} MiB is larger than any record "
                              f"trtdoc writes (the limit is {MAX_RECORD_BYTES // 2**20} MiB), "
                              "so it is not read", path=where)
        record = _blob_record(root, f"{sha}:{prefix}{name}", int(fields[3]), where)
        stem = name[: -len(".json")]
        if record.name != stem:
            raise RecordError(f"name: {record.name!r} is not this file's engine {stem!r} (was "
                              "the record edited?)", path=where)
        out[stem] = record
    return out
