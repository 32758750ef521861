"""``python -m trtdoc.record --schema``: print the record schema trtdoc ships."""

from __future__ import annotations

import sys

from trtdoc.record.codec import SCHEMA_COMMAND, schema_text


def main(argv: list[str] | None = None) -> int:
    """``python -m trtdoc.record --schema``: print the record schema trtdoc ships."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["--schema"]:
        print(f"usage: {SCHEMA_COMMAND}", file=sys.stderr)
        return 2
    sys.stdout.write(schema_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
