"""YAML read with the position of every value, refusing alias bombs, cycles and deep nesting.

:func:`read_yaml_document` reads specs, ``_defaults.yaml``, ``deploy.yaml`` and ``trtdoc.yml``
alike: the data plus a :class:`Locator`, or None with every problem as a located line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from trtdoc.errors import SpecError
from trtdoc.spec.files import FILE_HINTS, read_text
from trtdoc.spec.limits import MAX_ALIAS_NODES, MAX_PROBLEMS_PER_FILE, MAX_YAML_DEPTH
from trtdoc.spec.locations import KeyPath, Location, Locator, MoreProblems, format_key
from trtdoc.spec.text import excerpt

NOT_A_SPEC = ("not a trtdoc spec (the top level must be a mapping with name and model keys); "
              "nothing from it is shown")


@dataclass
class Document:
    """A YAML file's data and where each of its values was written."""

    data: Any
    locator: Locator
    last_line: int = 1  # where a missing key is reported (mkdocs.yml's checks)


class _Refused(Exception):
    """The YAML is too big or too deep to walk; ``error`` says where and why."""

    def __init__(self, error: SpecError) -> None:
        self.error = error


def _compose(text: str, path: Path, kind: str = "spec") -> yaml.Node | None:
    """The document's node graph. libyaml when present (2-3x faster, nesting capped at 1000
    levels); PyYAML's own parser otherwise, and for the wording of every syntax error, so
    messages do not depend on how PyYAML was installed."""
    fast = getattr(yaml, "CSafeLoader", None)
    mark = None
    # PyYAML's reader refuses unprintable characters and libyaml does not: let it say so.
    if fast is not None and not yaml.reader.Reader.NON_PRINTABLE.search(text):
        loader = fast(text)
        try:
            node: yaml.Node | None = loader.get_single_node()  # PyYAML is untyped
            return node
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark  # parsed again below for PyYAML's message
        except yaml.YAMLError:
            pass
        finally:
            loader.dispose()
    slow = yaml.SafeLoader(text)
    try:
        node = slow.get_single_node()
        return node
    except RecursionError:  # PyYAML composes recursively; libyaml stops at 1000 levels
        raise _Refused(SpecError(
            f"the YAML nests deeper than {MAX_YAML_DEPTH} levels", path=path,
            line=mark.line + 1 if mark else None, col=mark.column + 1 if mark else None,
            hint=FILE_HINTS[kind]["depth"])) from None
    finally:
        slow.dispose()


def read_yaml_document(path: Path, errors: list[SpecError], *,
                       looks_like: Callable[[dict[Any, Any]], bool],
                       not_this: str = NOT_A_SPEC, kind: str = "spec",
                       loader: type[yaml.SafeLoader] = yaml.SafeLoader) -> Document | None:
    """The file's data and the position of every value, or None with the problems in
    ``errors``. ``looks_like`` tells a file of this kind (a spec, a deployment file, ...) from
    any other YAML, which is named with ``not_this`` and never listed. ``loader`` constructs
    the values: a safe loader (mkdocs.yml's keeps tags it does not know as data)."""
    text = read_text(path, errors, kind)
    if text is None:
        return None
    try:
        node = _compose(text, path, kind)  # raises ReaderError for unprintable characters
        walk_errors: list[SpecError] = []
        locator = Locator(path)
        if node is not None:
            _Walker(path, locator, walk_errors, kind).walk(node, ())
            # The node graph is small and shared once walked; the constructor keeps aliases
            # shared, so the data is as small as the graph.
            constructor = loader("")
            try:
                data = constructor.construct_document(node)
            except (ValueError, OverflowError):  # an int of more than 4300 digits
                errors.append(SpecError(
                    "the file holds a value too long to read (a number of thousands of "
                    "digits?); nothing from it is shown", path=path,
                    hint="write real values"))
                return None
            finally:
                constructor.dispose()
        else:
            data = None
    except _Refused as exc:
        errors.append(exc.error)
        return None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        errors.append(SpecError(
            f"the file holds an unprintable character (#x{exc.character:04x}); nothing from "
            "it is shown", path=path, line=line, col=col,
            hint="remove it, or write it as an escape in a double-quoted string"))
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at_line, at_col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = exc.problem or exc.context or "invalid YAML"
        if len(problem) > 120 or not problem.isprintable():
            problem = excerpt(problem, 120)
        errors.append(SpecError(f"malformed YAML: {problem}", path=path, line=at_line,
                                col=at_col, hint="fix the YAML syntax (indentation, colons, "
                                "quotes)"))
        return None
    except yaml.YAMLError:
        errors.append(SpecError("malformed YAML", path=path,
                                hint="fix the YAML syntax (indentation, colons, quotes)"))
        return None
    if data is None:
        data = {}
    # A file that is not a spec (a symlink to /etc/passwd, a key: value file) is named, never
    # listed: its "unknown keys" would be its lines, printed into a CI log.
    if not isinstance(data, dict) or (data and not looks_like(data)):
        errors.append(SpecError(not_this, path=path))
        return None
    errors.extend(walk_errors)
    return Document(data, locator, text.count("\n", 0, len(text.rstrip())) + 1)


class _Walker:
    """Records where each value sits, and refuses alias bombs, cycles and deep nesting before
    anything expands the graph."""

    def __init__(self, file: Path, loc: Locator, errors: list[SpecError],
                 kind: str = "spec") -> None:
        self.file, self.loc, self.errors, self.kind = file, loc, errors, kind
        self.seen: set[int] = set()
        self.visits = 0
        self.on_path: set[int] = set()
        self.stack: list[yaml.Node] = []  # the collections being walked, outermost first
        self.shown = 0
        self.hidden = 0  # duplicate keys past MAX_PROBLEMS_PER_FILE

    def refuse(self, node: yaml.Node, message: str, hint: str) -> _Refused:
        # The innermost collection: for an alias bomb, the anchored list every alias copies.
        node = self.stack[-1] if self.stack else node
        return _Refused(SpecError(message, path=self.file, line=node.start_mark.line + 1,
                                  col=node.start_mark.column + 1, hint=hint))

    def walk(self, node: yaml.Node, path: KeyPath) -> None:
        self._walk(node, path)
        if self.hidden:
            self.errors.append(MoreProblems(self.file, self.hidden))

    def _walk(self, node: yaml.Node, path: KeyPath) -> None:
        self.visits += 1
        self.seen.add(id(node))
        if self.visits - len(self.seen) > MAX_ALIAS_NODES:
            raise self.refuse(node, f"YAML aliases expand to more than {MAX_ALIAS_NODES} "
                              "nodes", "write the values out or use fewer aliases")
        if len(path) > MAX_YAML_DEPTH:
            raise self.refuse(node, f"the YAML nests deeper than {MAX_YAML_DEPTH} levels",
                              FILE_HINTS[self.kind]["depth"])
        if id(node) in self.on_path:
            raise self.refuse(node, "a YAML alias refers to a collection that contains it",
                              "write the values out")
        file, loc = self.file, self.loc
        loc.values[path] = Location(file, node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            self.on_path.add(id(node))
            self.stack.append(node)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                # A collection as a key is refused by the constructor; never str() it here.
                key = (str(key_node.value) if isinstance(key_node, yaml.ScalarNode)
                       else "<collection>")
                if key in seen:
                    if self.shown < MAX_PROBLEMS_PER_FILE:
                        self.shown += 1
                        self.errors.append(SpecError(
                            "this key appears twice in one mapping", path=file,
                            line=key_node.start_mark.line + 1,
                            col=key_node.start_mark.column + 1,
                            key=format_key((*path, key)), hint="keep one of them"))
                    else:
                        self.hidden += 1
                seen.add(key)
                loc.keys[path + (key,)] = Location(file, key_node.start_mark.line + 1,
                                                  key_node.start_mark.column + 1)
                self._walk(value_node, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._walk(item, (*path, i))
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            self.on_path.discard(id(node))
            self.stack.pop()

