"""Full TensorRT on Jetson (trtdoc.compat.jetson): the cited releases, modules and JetPack
versions, through deploy.yaml's `jetpack:` and the verdicts."""

from __future__ import annotations

from pathlib import Path

from trtdoc.compat.deploy import load_deployment
from trtdoc.compat.jetson import JETSON_MIGRATION_URLS
from trtdoc.compat.verdicts import Plan, evaluate

TARGETS = """targets:
  - {name: orin-722, gpu: Jetson AGX Orin, runtime: tensorrt 11.4.1, jetpack: "7.2.2"}
  - {name: thor-115, gpu: Jetson AGX Thor, runtime: tensorrt 11.5.0, jetpack: "7.2.2"}
  - {name: orin-62, gpu: Jetson AGX Orin, runtime: tensorrt 11.4.1, jetpack: "6.2"}
  - {name: nano-722, gpu: Jetson Orin Nano, runtime: tensorrt 11.4.1, jetpack: "7.2.2"}
  - {name: orin-unsaid, gpu: Jetson AGX Orin, runtime: tensorrt 11.4.1}
  - {name: orin-103, gpu: Jetson AGX Orin, runtime: tensorrt 10.3.0, jetpack: "6.2"}
  - {name: t5000-114, gpu: Jetson T5000, runtime: tensorrt 11.4.1, jetpack: "7.3"}
"""


def test_which_tensorrt_runs_on_which_jetson(tmp_path: Path) -> None:
    path = tmp_path / "deploy.yaml"
    path.write_text(TARGETS.replace("}", ", engines: [plan]}"))
    targets = load_deployment(path).targets
    assert targets[0].jetpack == "7.2.2"
    plan = Plan(name="plan", flavour="tensorrt", version="11.4.1.3", version_compatible=True)
    got = {}
    for t in targets:
        jetson = next(c for c in evaluate(plan, t).checks if c.rule == "jetson")
        got[t.name] = (jetson.outcome, jetson.reason)
    assert got == {
        "orin-722": ("runs", "TensorRT 11.4.1 runs on Jetson AGX Orin with JetPack 7.2.2"),
        "thor-115": ("fails", "TensorRT 11.5.0 has no JetPack build; Jetson deployments "
                              "remain on TensorRT 11.4.1"),
        "orin-62": ("fails", "TensorRT 11.4.1 needs JetPack 7.2.2 or later on Jetson AGX "
                             "Orin; the target has JetPack 6.2"),
        "nano-722": ("unknown", "the TensorRT 11.4.1 Jetson page names Jetson AGX Orin, "
                                "Jetson AGX Thor only, not Jetson Orin Nano"),
        "orin-unsaid": ("unknown", "TensorRT 11.4.1 runs on Jetson AGX Orin with JetPack "
                                   "7.2.2 or later; the target does not say its JetPack"),
        "orin-103": ("unknown", "no cited source says whether TensorRT 10.3.0 runs on Jetson "
                                "AGX Orin"),
        "t5000-114": ("runs", "TensorRT 11.4.1 runs on Jetson T5000 with JetPack 7.3"),
    }
    thor = next(c for c in evaluate(plan, targets[1]).checks if c.rule == "jetson")
    assert thor.sources == (JETSON_MIGRATION_URLS["11.5.0"],)
    assert thor.fix == "deploy TensorRT 11.4.1 with JetPack 7.2.2 or later there"
