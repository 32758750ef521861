"""YAML engine specs → validated, frozen ``EngineSpec`` objects.

This is the boundary: pydantic validates here and nowhere else. Everything inward receives
frozen dataclasses. Every problem is collected (not just the first), and each is addressed as
``file:line:col: key.path: message. Hint: fix`` so a user with three typos sees three lines.

One module per concern, in import order (each imports only those above it):

* ``limits.py``: size and count limits on spec files;
* ``text.py``: text from a file, shown safely in an error line;
* ``json_schema.py``: JSON Schema keywords and generator shared by every YAML file's schema;
* ``names.py``: what an engine name may be;
* ``locations.py``: where each value came from (file:line:col), and errors that point there;
* ``files.py``: refusing what is not a plain, small, UTF-8 file before parsing it;
* ``yaml_source.py``: YAML read with the position of every value, bounded against bombs;
* ``types.py``: the frozen ``EngineSpec`` and its parts, handed to the build stage;
* ``section.py``: the record's ``spec`` section, typed, and ``spec_section_from_spec``;
* ``keys.py``: the build key and the accuracy key, from the typed section;
* ``fields.py``: value types (sizes, dims, paths, numbers, flags) with validators and schema;
* ``schema.py``: the pydantic models of a spec file and its JSON Schema;
* ``error_lines.py``: pydantic's errors as located one-line messages;
* ``variants.py``: ``variants:`` expanded into one document per combination;
* ``freeze.py``: a validated model → the frozen ``EngineSpec``;
* ``load.py``: finding spec files, ``_defaults.yaml`` merging, ``load_specs``.

The value lists (precisions, targets, ...) live in :mod:`trtdoc.values`. What a spec value
does to the builder lives in :mod:`trtdoc.builder.settings`; how it reads on a page lives in
:mod:`trtdoc.render.parameters`.
"""
