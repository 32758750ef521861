"""The Jinja2 environment of the pages (the user's templates first, then the shipped ones), and
:func:`render_template`, which turns one template and its view data into a page's bytes.

A user's template can extend a shipped one and replace one of its blocks: ``trtdoc/NAME``
always names the shipped template ``NAME`` (:data:`SHIPPED_PREFIX`), even where the user's
folder has a file ``NAME`` of its own, so ``engine.md.j2`` can start with
``{% extends "trtdoc/engine.md.j2" %}``. The blocks and the variables each template receives
are listed in ``template_docs.py``.

Escaping is the default: the environment's ``finalize`` hook escapes every ``{{ }}`` output
that is not :class:`~markupsafe.Markup` as Markdown text, so a number from a hand-edited record
(an opset of ``<script>``) cannot reach a page raw even where a template prints it unfiltered.
The filters, and the helpers that build trusted Markdown (Mermaid diagrams from escaped
labels), return Markup so nothing is escaped twice.

Templates are code, and a pull request can bring its own (``templates:`` in trtdoc.yml) to the
CI steps that render (``build --check``, ``diff --format markdown``). So every template, shipped
or the user's, renders in Jinja's immutable sandbox: no attribute that starts with ``_``, no
method that changes a value, and only the filters (:data:`JINJA_FILTERS` and trtdoc's own) and
globals (:data:`GLOBALS`) the pages need. What the sandbox refuses is one line naming the
template file and line (:func:`render_template`).
"""

from __future__ import annotations

import hashlib
import os
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jinja2
import jinja2.defaults
import jinja2.meta
import jinja2.nodes
import jinja2.runtime
import jinja2.sandbox
from markupsafe import Markup

from trtdoc.errors import RenderError, display_path
from trtdoc.render import bounds
from trtdoc.render import cache as render_cache
from trtdoc.render.filters import filters, finalize
from trtdoc.render.template_files import UserTemplateLoader
from trtdoc.render.tolerant import BAD_VALUE

shipped_templates = render_cache.shipped_templates

# The folder name under which the shipped templates stay reachable whatever the user's folder
# holds: a user's `trtdoc/` subfolder is never read.
SHIPPED_PREFIX = "trtdoc"

# Jinja's own filters a template may use besides trtdoc's (filters.py): the ones that only
# reshape data. Left out: those that mark text safe or print it raw (safe, tojson, pprint,
# xmlattr, urlize, escape...), which would pass a value around the escaping.
JINJA_FILTERS = ("abs", "batch", "capitalize", "center", "d", "default", "dictsort", "first",
                 "float", "format", "groupby", "indent", "int", "last", "list", "lower", "map",
                 "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "select",
                 "selectattr", "slice", "sort", "string", "sum", "title", "trim", "truncate",
                 "unique", "upper", "wordcount")
# The globals the shipped templates use; Jinja's cycler, joiner and lipsum are not among them.
GLOBALS = ("namespace", "range")
_WITHHELD = sorted(set(jinja2.defaults.DEFAULT_NAMESPACE) - set(GLOBALS))
_SANDBOX_RULE = "(templates may read the values they are given and use the filters, nothing else)"


class _Sandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, where a name templates are not given stays undefined: its
    error names it (``'cycler' is undefined``), not an unsafe attribute of an undefined; and
    where no operator, filter or method makes a value over the bounds of ``bounds.py``."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = bounds.BoundedCodeGenerator

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.bounded_join = bounds.bounded_join  # what `~` compiles to (BoundedCodeGenerator)

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any,
                   right: Any) -> Any:
        bounds.check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: jinja2.runtime.Context, __obj: Any,  # noqa: N805 - Jinja's
             *args: Any, **kwargs: Any) -> Any:
        bounds.check_method(__obj, args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = value.__self__

        def checked(*args: Any, **kwargs: Any) -> str:
            mapping = args[0] if value.__name__ == "format_map" and args else kwargs
            bounds.check_format(fmt, args, mapping if isinstance(mapping, dict) else {})
            return wrapped(*args, **kwargs)

        return checked

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        if isinstance(obj, jinja2.Undefined):
            return obj
        return super().unsafe_undefined(obj, attribute)


class _ParentBlock(jinja2.runtime.BlockReference):
    """``{{ super() }}`` in a block of a user's template: the shipped block's text, as Markup.

    That text is the template's own output, each value in it already escaped as it rendered;
    escaping it again as Markdown text (the finalize hook does that to any plain string) would
    turn the whole section into one line of entities.
    """

    def __init__(self, name: str, context: jinja2.runtime.Context,
                 stack: list[Callable[[jinja2.runtime.Context], Iterator[str]]],
                 depth: int) -> None:
        super().__init__(name, context, stack, depth)
        self.parent_of = (name, context, stack, depth)

    @property
    def super(self) -> Any:
        name, context, stack, depth = self.parent_of
        if depth + 1 >= len(stack):
            return super().super  # Jinja's "no parent block" undefined
        return _ParentBlock(name, context, stack, depth + 1)

    def __call__(self) -> Markup:
        return Markup(super().__call__())


class _PageContext(jinja2.runtime.Context):
    """The render context of every page: ``super()`` gives a :class:`_ParentBlock`."""

    def super(self, name: str,
              current: Callable[[jinja2.runtime.Context], Iterator[str]]) -> Any:
        ref = super().super(name, current)
        if not isinstance(ref, jinja2.runtime.BlockReference):
            return ref  # Jinja's "no parent block" undefined
        blocks = self.blocks[name]
        return _ParentBlock(name, self, blocks, blocks.index(current) + 1)


def _bytecode_cache(env: jinja2.Environment) -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs: compiling costs ~0.2 s of every ``trtdoc build``.

    Jinja keys each entry on the template's source checksum, so an edited template is never
    served stale. Where no cache folder can be made, templates are simply compiled each time.
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    # Compiled code bakes in how each filter is called (Jinja passes the eval context to its
    # own join, not to ours), so the filter set is part of the key as well as the source; and
    # sandboxed code calls through the sandbox, so code compiled without one is never reused.
    # The bounds (bounds.py) are compiled in too: intercepted operators, the `~` generator.
    calls = repr([env.sandboxed, sorted(getattr(env, "intercepted_binops", ())),
                  type(env).code_generator_class,
                  *sorted((n, str(getattr(f, "jinja_pass_arg", "")))
                          for n, f in env.filters.items())])
    key = hashlib.sha256(calls.encode()).hexdigest()[:12]
    folder = Path(base) / "trtdoc" / f"jinja-{jinja2.__version__}-{key}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


def environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """The environment for ``templates_dir``, made once per process and folder: its compiled
    templates are reused by every render of a build (Jinja's auto_reload still notices an edited
    template by its mtime)."""
    key = _folder_key(templates_dir)
    env = _ENVIRONMENTS.get(key)
    if env is None:
        env = _ENVIRONMENTS.setdefault(key, make_environment(templates_dir))
    return env


_ENVIRONMENTS: dict[Any, jinja2.Environment] = {}


def _folder_key(templates_dir: Path | None) -> Any:
    """The folder and the names in it: auto_reload notices an edited template, but not a new
    file that overrides a shipped template already loaded, so that makes a new environment."""
    if templates_dir is None:
        return None
    folder = Path(templates_dir).resolve()
    try:
        names = tuple(sorted(str(p.relative_to(folder)) for p in folder.rglob("*")))
    except OSError:
        names = ()
    return (str(folder), names)


def make_environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """The Jinja2 environment: ``trtdoc/NAME`` is always the shipped ``NAME``; any other name is
    the user's template if their folder has it, else the shipped one."""
    shipped = jinja2.FileSystemLoader(str(shipped_templates()))
    loaders: list[jinja2.BaseLoader] = [jinja2.PrefixLoader({SHIPPED_PREFIX: shipped})]
    if templates_dir is not None:
        if not Path(templates_dir).is_dir():
            raise RenderError("the folder does not exist; pass an existing folder to "
                              "--templates or leave it out", template=str(templates_dir))
        loaders.append(UserTemplateLoader(Path(templates_dir)))
    loaders.append(shipped)
    env = _Sandbox(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,  # Markdown, not HTML: escaping is per context, via the filters
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=finalize,  # escaping is the default; filters return Markup
    )
    env.context_class = _PageContext
    env.filters = {**{n: bounds.bounded_filter(n, env.filters[n]) for n in JINJA_FILTERS},
                   **filters()}
    env.globals = {n: env.globals[n] for n in GLOBALS}
    env.bytecode_cache = _bytecode_cache(env)
    return env


def _self_references(env: jinja2.Environment) -> list[str]:
    """The user's templates that extend or include their own name (the shipped ones never do)."""
    found = []
    for name in env.list_templates():
        if name.startswith(f"{SHIPPED_PREFIX}/"):
            continue
        try:
            source = env.loader.get_source(env, name)[0] if env.loader else ""
            referenced = jinja2.meta.find_referenced_templates(env.parse(source))
        except (jinja2.TemplateError, OSError, UnicodeError):
            continue  # not a template; the render error names it if a page uses it
        if name in set(referenced):
            found.append(name)
    return found


_BLOCKS_CHECKED: weakref.WeakSet[jinja2.Template] = weakref.WeakSet()


def _check_blocks(env: jinja2.Environment, template: jinja2.Template) -> None:
    """A user's template that extends another may only fill blocks that one has: Jinja
    ignores any other block, so a misspelt name would leave the shipped text with no word."""
    if template in _BLOCKS_CHECKED:
        return
    shipped = os.path.realpath(shipped_templates())
    own = template.filename and not os.path.realpath(template.filename).startswith(
        shipped + os.sep)
    parent = _extended(env, template) if own else None
    if parent is not None:
        known: set[str] = set()
        # By the names asked for: a shipped template loaded as trtdoc/NAME calls itself NAME.
        seen = {template.name}
        above: str | None = parent
        while above is not None and above not in seen:  # a loop is render's own error
            seen.add(above)
            chain = env.get_template(above)
            known.update(chain.blocks)
            above = _extended(env, chain, above)
        if not known:
            return
        unknown = sorted(set(template.blocks) - known)
        if unknown:
            raise RenderError(f"block {unknown[0]!r} is not a block of {parent!r}, so it would "
                              f"change nothing; its blocks: {', '.join(sorted(known))}",
                              template=template.name or "")
    _BLOCKS_CHECKED.add(template)


def _extended(env: jinja2.Environment, template: jinja2.Template,
              name: str | None = None) -> str | None:
    """The name a template (loaded as ``name``) extends, if a plain string, else None."""
    name = name or template.name
    if env.loader is None or name is None:
        return None
    tree = env.parse(env.loader.get_source(env, name)[0])
    extends = tree.find(jinja2.nodes.Extends)
    target = extends.template if extends is not None else None
    return target.value if isinstance(target, jinja2.nodes.Const) else None


def render_template(env: jinja2.Environment, name: str, **context: Any) -> bytes:
    """Template ``name`` rendered with ``context``, as the bytes of a page: one trailing
    newline, ``\\n`` endings, no trailing spaces, never two blank lines in a row.

    A missing template, or one that fails on the values it is given, is a
    :class:`~trtdoc.errors.RenderError` naming the template (and its line where known).
    """
    try:
        with bounds.page_limits(name):
            template = env.get_template(name)
            _check_blocks(env, template)
            text = template.render(**context)
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"template {exc.name} not found in the templates folders",
                          template=name) from exc
    except MemoryError as exc:
        raise RenderError(f"rendering {name} ran out of memory; make the template compute "
                          "less", template=_failing_line(exc, name)) from None
    except bounds.Unbounded as exc:
        raise RenderError(f"{exc}; make the template compute less",
                          template=_failing_line(exc, name)) from exc
    except jinja2.sandbox.SecurityError as exc:
        raise RenderError(f"refused by the sandbox: {exc} {_SANDBOX_RULE}",
                          template=_failing_line(exc, name)) from exc
    except jinja2.UndefinedError as exc:
        withheld = [g for g in _WITHHELD if str(exc) == f"{g!r} is undefined"]
        if not withheld:
            raise RenderError(f"{type(exc).__name__}: {exc}",
                              template=_failing_line(exc, name)) from exc
        raise RenderError(f"refused by the sandbox: Jinja's {withheld[0]!r} is not given to "
                          f"templates {_SANDBOX_RULE}", template=_failing_line(exc, name)) from exc
    except RecursionError as exc:
        loops = _self_references(env) or [name]
        raise RenderError(f"extends or includes itself, so it never ends; to build on the shipped "
                          f"template, extend \"{SHIPPED_PREFIX}/{loops[0]}\" instead",
                          template=loops[0]) from exc
    except (jinja2.TemplateError, *BAD_VALUE) as exc:
        lineno = getattr(exc, "lineno", None)
        where = f"{name}:{lineno}" if lineno else _failing_line(exc, name)
        raise RenderError(f"{type(exc).__name__}: {exc}", template=where) from exc
    # One trailing newline, \n endings, no trailing spaces: byte-stable across platforms.
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    collapsed: list[str] = []
    for line in lines:
        if not line and collapsed and not collapsed[-1]:
            continue  # template whitespace never makes two blank lines in a row
        collapsed.append(line)
    return ("\n".join(collapsed) + "\n").encode("utf-8")


def _failing_line(exc: BaseException, name: str) -> str:
    """Where in a template ``exc`` was raised, as ``file:line``: Jinja rewrites the traceback so
    that a template's frames carry its file name and line. ``name`` if there is none."""
    where = name
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if "__jinja_exception__" in frame.f_globals:  # a frame of Jinja's rewritten traceback
            filename = frame.f_code.co_filename
            shipped = os.path.realpath(shipped_templates())
            real = os.path.realpath(filename)
            shown = (name if filename.startswith("<") else  # a template made from a string
                     os.path.relpath(real, shipped) if real.startswith(shipped + os.sep) else
                     display_path(filename))
            where = f"{shown}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where
