"""Where ``trtdoc render`` spends its time, in one process: imports, reading, rendering.

    python bench/render_timed.py RECORDS_DIR SITE_DIR    # prints JSON seconds per phase

The phases run as ``trtdoc render`` runs them (``cli._render``): records are read with the
cyclic garbage collector off and stay frozen out of its scans while pages render.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path


def main(records_dir: str, site_dir: str) -> None:
    t0 = time.perf_counter()
    from trtdoc.diff.history import read_previous
    from trtdoc.record.files import read_records
    from trtdoc.render.write import render_site

    t1 = time.perf_counter()
    gc.disable()
    records = read_records(Path(records_dir))
    previous = read_previous(Path(records_dir))
    gc.enable()
    t2 = time.perf_counter()
    gc.freeze()
    render_site(records, Path(site_dir), previous=previous)
    t3 = time.perf_counter()
    json.dump({"import": t1 - t0, "read records": t2 - t1,
               "render and write pages": t3 - t2}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
