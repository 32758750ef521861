"""Build records: one schema-versioned JSON file per engine, the seam between build and pages.

* :mod:`~trtdoc.record.types`: the frozen types, one per section of the JSON;
* :mod:`~trtdoc.record.codec`: the decoder, encoder and JSON Schema made from them, and one
  located line per bad record;
* :mod:`~trtdoc.record.text`: the record's exact text, in pieces (records of 10^6 layers);
* :mod:`~trtdoc.record.files`: reading and writing record files (and accuracy-gate files).

Every type serialises itself through :mod:`trtdoc.typed` (one ``TypeAdapter`` per type), so a
record part on its own (the precision cache file, a failed gate's file) is encoded and decoded
exactly as inside a record.
"""
