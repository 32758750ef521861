"""Build records: one schema-versioned JSON file per engine, the seam between build and pages.

* :mod:`~trtdoc.record.types`: the frozen types, one per section of the JSON;
* :mod:`~trtdoc.record.codec`: the decoder, encoder and JSON Schema made from them, and one
  located line per bad record;
* :mod:`~trtdoc.record.text`: the record's exact text, in pieces (records of 10^6 layers);
* :mod:`~trtdoc.record.files`: reading and writing record files (and accuracy-gate files).
* :mod:`~trtdoc.record.parts`: one record part on its own (the precision cache file, a
  failed accuracy gate's file), encoded and decoded as the record encodes and decodes it.
"""
