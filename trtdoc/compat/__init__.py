"""Where engines run: the cited rules, the deployment file, and the verdicts.

* ``data.py``: the rules as data, each with the NVIDIA page (or measurement) it comes from;
* ``gpus.py``: GPU model names and their compute capabilities;
* ``deploy.py``: ``deploy.yaml``, the checked-in list of deployment targets, validated like a
  spec;
* ``verdicts.py``: one (engine, target) pair through every rule: runs, fails or unknown;
* ``matrix.py``: the engines × architectures matrix of the compatibility page without a
  deployment file.
"""
