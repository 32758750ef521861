"""The render stage: build records → Markdown pages of the mkdocs site.

Pages are Jinja2 templates fed with view data computed here. Output is deterministic: every
collection is sorted (layers keep engine order), nothing reads the clock, tables are unpadded
and lines end in ``\\n``. Where things are, in the order they depend on each other:

- ``tolerant.py``: reading record values defensively (a wrong-typed value never fails a page);
- ``filters.py``: the templates' filters, where a record value becomes the text of a cell;
- ``template_files.py``: the loader of the user's templates folder (regular files of at most
  1 MiB inside it, never a link out or a FIFO);
- ``bounds.py``: what one template may compute (sizes of values, time and memory per page);
- ``environment.py``: the Jinja2 environment (``trtdoc/NAME`` is always the shipped template,
  so a user's template can extend it and replace one block) and rendering one template into a
  page's bytes;
- ``template_docs.py``: every shipped template, its blocks and the variables it receives, as
  data (the README's list is generated from it);
- ``compatibility.py``: an engine's row of the architecture matrix, and its numbered notes;
- ``mermaid.py``: the diagrams (build flow, fusions, precision pie);
- ``deployment.py``: deployment verdicts (``--deploy``) as pages show them;
- ``engine_page.py``: the view-model of one engine page (:func:`engine_context`);
- ``site_pages.py``: every page by path (engines, index, compatibility, changes), and the
  ``trtdoc diff`` Markdown;
- ``write.py``: :func:`plan_site` (the bytes of every page, nothing written; ``trtdoc build
  --check`` compares them with the files) and :func:`render_site` (writes only the files whose
  bytes differ, removes generated pages whose record is gone);
- ``incremental.py``: :func:`render_changed`, rendering only the pages whose inputs changed,
  with ``cache.py``: what the last render read and wrote (imported without Jinja, so a
  ``trtdoc render`` with nothing to do stays fast);
- ``parameters.py``: **where a spec value becomes a table cell** (the parameter table);
- ``layer_table.py``: the engine layer table, paged for huge engines;
- ``escape.py``: escaping for table cells, inline code, Mermaid labels and code blocks;
- ``mkdocs_config.py``: what a mkdocs.yml lacks to show the pages (one located line each).
- ``assets.py``: the site's stylesheet (shipped in ``trtdoc/assets/``) and the Mermaid that
  npm bundled, kept current in the site beside the pages.

Untrusted names reach a page only through the filters in ``escape.py``: ``cell`` for table
cells and text, ``code`` for inline code, ``mlabel`` for Mermaid labels, ``codeblock`` for
fenced code; ``attr`` (``filters.py``) for a double-quoted HTML attribute, the hover text of a
deployment verdict. Escaping is also the default: the environment's ``finalize`` hook escapes
every ``{{ }}`` output that is not :class:`~markupsafe.Markup` as Markdown text, so a number
from a hand-edited record (an opset of ``<script>``) cannot reach a page raw even where a
template prints it unfiltered. The filters, and the helpers here that build trusted Markdown
(Mermaid diagrams from escaped labels), return Markup so nothing is escaped twice. Mermaid node
ids are generated (``n0``, ``n1``...), never made from names.

Records are decoded strictly, but pages are rendered defensively as well: every formatter is
total (a string where a number belongs is shown as text, never a crash), and a computation in
another stage that fails on a wrong-typed value falls back to showing the raw values.
"""
