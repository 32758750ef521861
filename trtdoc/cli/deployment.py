"""The deployment file (deploy.yaml) as the commands read it: loaded before any work, its
patterns that name no engine, and a plan per record with the engine headers checked."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from trtdoc.cli.output import Ui
from trtdoc.errors import TrtdocError, display_path


def deployment_from_option(deploy_file: Path | None) -> Any:
    """The deployment file, read before any work: a bad one is every problem, one line each."""
    if deploy_file is None:
        return None
    from trtdoc.compat.deploy import load_deployment

    return load_deployment(deploy_file)


def report_unmatched(ui: Ui, deployment: Any, records: Path) -> int:
    """Say which of the deployment file's patterns name no engine in ``records``; how many."""
    if deployment is None:
        return 0
    _, plans, problems = deployment_and_plans(deployment.path, records, deployment)
    unmatched = [p for p in problems if "names no engine" in p]
    for line in unmatched:
        ui.problem(line)
    return len(unmatched)


def deployment_kwargs(deployment: Any) -> dict[str, Any]:
    """``deployment=`` for the render functions, left out when there is no deployment file."""
    return {"deployment": deployment} if deployment is not None else {}


def deployment_and_plans(deploy_file: Path, records: Path, deployment: Any = None
                         ) -> tuple[Any, list[Any], list[str]]:
    """The deployment file, a plan per readable record, and one line per problem (a record
    that cannot be read, a pattern that names no engine). A bad deployment file raises."""
    from trtdoc.compat.deploy import load_deployment
    from trtdoc.compat.verdicts import Plan
    from trtdoc.errors import RecordError
    from trtdoc.record.files import read_record

    deployment = deployment or load_deployment(deploy_file)
    if not records.is_dir():
        raise TrtdocError(f"{display_path(records)}: no such records folder; build first "
                          "(`trtdoc build specs/`) or pass --records")
    plans, problems = [], []
    for path in sorted(records.glob("*.json")):
        try:
            record = read_record(path)
        except RecordError as exc:
            problems.append(f"{exc} (its deployments were not checked)")
            continue
        plans.append(Plan.from_record(record))
        # The engine file, where it is here, is the truth: a record edited to claim other
        # targets (or an engine replaced) is a problem, and the verdicts use the file's header.
        engine = Path(record.engine_path) if record.engine_path else None
        if engine is None or record.header is None or not engine.is_file():
            continue
        from trtdoc.errors import InspectError
        from trtdoc.inspect.header import engine_facts_from_header

        try:
            facts = engine_facts_from_header(engine)
        except InspectError as exc:
            problems.append(f"{display_path(path)}: its engine cannot be read ({exc}); rebuild "
                            "it with `trtdoc build --force`")
            continue
        if facts != record.header:
            problems.append(f"{display_path(path)}: engine.header differs from the header of "
                            f"{display_path(engine)} (the record was edited or the engine "
                            "replaced); the verdicts use the engine file. Rebuild with "
                            "`trtdoc build --force`")
            plans[-1] = dataclasses.replace(plans[-1], flavour=facts.backend,
                                            version=facts.version,
                                            compute_capabilities=facts.compute_capabilities)
    problems += [str(e) for e in deployment.unmatched({p.name: p.tags for p in plans})]
    return deployment, plans, problems
