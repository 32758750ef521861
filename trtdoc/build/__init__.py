"""The build stage: spec → (precision step) → TensorRT build → inspection → record.

One failing spec never stops the others and never overwrites its last good engine, log or
record: everything is written atomically, and only after the whole engine succeeded. A lock
keeps two builds of one output folder apart. Nothing here prints; progress goes to ``on_event``.

Where things are: :mod:`.engine` (the TensorRT call), :mod:`.key` (the build key),
:mod:`.plan` (what a run does with each engine), :mod:`.make` (one engine made, not
published), :mod:`.store` (the content-addressed engine store), :mod:`.publish` (the record as
the commit point), :mod:`.one_engine` (made and published, failures its own), :mod:`.workers`
(``--jobs``), :mod:`.run` (``build_all``), :mod:`.check` (``build --check``), with
:mod:`.precision_step`, :mod:`.state`, :mod:`.orphans`, :mod:`.deferred` and :mod:`.outcome`.
A Ray build (:mod:`trtdoc.build.ray`) plans and publishes through the same functions.
"""
