"""Findings: what a build tells you about its engine, computed from its record.

* :mod:`~trtdoc.findings.types`: :class:`Finding`, its kinds and severities (stored in records);
* :mod:`~trtdoc.findings.rules`: one rule per kind, :func:`findings_from_record`;
* :mod:`~trtdoc.findings.current`: the fp32 variant to compare with, and the findings a page,
  ``trtdoc lint`` and the diff show.
"""
