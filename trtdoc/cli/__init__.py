"""The ``trtdoc`` command line. The only package that prints or exits.

A :class:`TrtdocError` becomes one line on stderr per problem and exit code 1. Anything else is
a bug: one line and exit code 2, and with ``-v`` its traceback (a CI log must not fill with
one, and a user's input must never be able to print one).

Where things are: ``group.py`` (the command group, global options, :func:`main`),
``exit_codes.py`` (errors → stderr lines and exit codes), ``output.py`` (stdout/stderr, the
summary table, progress), ``options.py`` (shared options, defaults from trtdoc.yml),
``pages.py`` (re-rendering the site), ``site_config.py`` (the project's mkdocs.yml,
checked), ``deployment.py`` (deploy.yaml as the commands read it),
and one module per command family: ``build.py`` (check, build, convert), ``render.py``
(render, import), ``compat.py`` (compat, inspect), ``review.py`` (diff, lint), ``triton.py``,
``schema.py``, ``init.py`` (a new project).
"""
