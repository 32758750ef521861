"""The records a folder held at a git ref (``trtdoc diff --base REF``), read with ``git show``
and ``git cat-file``, without a checkout."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from trtdoc.errors import RecordError, TrtdocError, display_path
from trtdoc.record.codec import record_from_json
from trtdoc.record.files import MAX_RECORD_BYTES
from trtdoc.record.types import EngineRecord


def _git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise TrtdocError("--base needs git, which is not installed here; install git, or "
                          "compare two record files: trtdoc diff OLD.json NEW.json") from None


def _git_says(result: subprocess.CompletedProcess[bytes]) -> str:
    text = result.stderr.decode("utf-8", "replace").strip().splitlines()
    return text[0] if text else f"exit code {result.returncode}"


def records_at_ref(folder: Path, ref: str) -> dict[str, EngineRecord]:
    """The records that ``folder`` held at git ``ref``, by engine name, without a checkout.

    Each is ``git show <ref>:<folder relative to the repository root>/<name>.json``, decoded as
    strictly as a file (a record at a ref is as untrusted as one on disk). A folder missing
    at ``ref`` holds no records there: every engine is new.
    """
    folder = folder.resolve() if folder.is_dir() else folder.absolute()
    cwd = folder if folder.is_dir() else Path.cwd()
    if ref.startswith("-"):
        raise TrtdocError(f"--base {ref}: not a git ref (it starts with '-'); name a branch, "
                          "tag or commit")
    top = _git(["rev-parse", "--show-toplevel"], cwd)
    if top.returncode != 0:
        raise TrtdocError(f"--base {ref}: {display_path(folder)} is not in a git repository "
                          f"({_git_says(top)})"
                          "; run it inside the repository, or compare two record files")
    root = Path(top.stdout.decode().strip()).resolve()
    try:
        rel = folder.relative_to(root).as_posix()
    except ValueError:
        raise TrtdocError(f"--base {ref}: {display_path(folder)} is not inside the repository "
                          f"{root}"
                          ) from None
    commit = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
                  root)
    if commit.returncode != 0:
        raise TrtdocError(f"--base {ref}: no such commit in {root}; name a branch, tag or "
                          "commit that exists (in CI, fetch it first: git fetch origin main)")
    sha = commit.stdout.decode().strip()
    prefix = "" if rel == "." else f"{rel}/"
    listing = _git(["ls-tree", "-z", "-l", sha, "--", prefix or "."], root)
    if listing.returncode != 0:
        raise TrtdocError(f"--base {ref}: cannot list {prefix or '.'} ({_git_says(listing)})")
    out: dict[str, EngineRecord] = {}
    for line in sorted(listing.stdout.decode("utf-8", "replace").split("\0")):
        # "<mode> <type> <object> <size>\t<path>"
        info, _, entry = line.partition("\t")
        name = entry[len(prefix):] if entry.startswith(prefix) else entry
        fields = info.split()
        if not name.endswith(".json") or "/" in name or len(fields) != 4 or fields[1] != "blob":
            continue
        where = Path(f"{ref}:{prefix}{name}")
        if fields[0] == "120000":
            raise RecordError("a symbolic link, not a record; commit the record file itself",
                              path=where)
        if fields[3].isdigit() and int(fields[3]) > MAX_RECORD_BYTES:
            raise RecordError(f"{int(fields[3]) / 2**20:.1f} MiB is larger than any record "
                              f"trtdoc writes (the limit is {MAX_RECORD_BYTES // 2**20} MiB), "
                              "so it is not read", path=where)
        shown = _git(["cat-file", "blob", f"{sha}:{prefix}{name}"], root)
        if shown.returncode != 0:
            raise RecordError(f"cannot read it from git ({_git_says(shown)})", path=where)
        record = record_from_json(shown.stdout, path=where)
        stem = name[: -len(".json")]
        if record.name != stem:
            raise RecordError(f"name: {record.name!r} is not this file's engine {stem!r} (was "
                              "the record edited?)", path=where)
        out[stem] = record
    return out
