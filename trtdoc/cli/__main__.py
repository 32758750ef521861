"""``python -m trtdoc.cli``: the same as the ``trtdoc`` command."""

from __future__ import annotations

from trtdoc.cli.group import main

if __name__ == "__main__":
    main()
