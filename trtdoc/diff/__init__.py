"""What changed between two records of one engine: the one comparison behind ``trtdoc diff``
and the site's "What changed" page.

The build keeps the record it is about to replace as ``records/.history/<name>.json`` (see
:func:`history_path`); the page compares each engine's record with that one, and
``trtdoc diff`` compares two record files, or the records folder with the same folder at a git
ref (:func:`records_at_ref`, read with ``git show``, no checkout).

Layers are aligned by the ONNX nodes they implement (``Layer.fused``), not by name: Myelin
names its generated layers with running numbers (``__myl_Tran_myl1_12``, ``__mye9813_0``),
so one extra node renames every layer after it although none of them changed. Layers that
implement no node (reformats, shape calls, generated copies) are aligned by type and by the
aligned layer they follow. An aligned pair is a change only when its type, precision, tactic
or nodes differ; a new name alone is counted as a rename, not a change. Build time and the
engine's sha256 are shown but are not changes: the time varies from run to run and the bytes
may too, while everything the record describes stays the same.

Where things are: ``changes.py`` (the types and their headline), ``compare.py`` (two records,
two sets of records), ``layers.py`` (layer alignment), ``times.py`` (total and per-layer time,
where both records have times), ``git.py`` (records at a git ref),
``formats.py`` (text and JSON; Markdown is :mod:`trtdoc.render.site_pages`'), ``history.py``
(the previous record of each engine).
"""
