"""Migration to template v0.2.0: the `monitoring` pipeline is now called `drift_detector`.

v0.2.0 added a Kedro pipeline for the drift job (`drift`) and renamed the pipeline that fits
the detector from `monitoring` to `drift_detector`. A three-way merge cannot follow that:

- before the update: the team's ``conf/<env>/parameters_monitoring.yml`` (theirs, never
  overwritten) becomes ``parameters_drift_detector.yml`` with its top-level key renamed, values
  and comments kept, so the new pipeline reads the team's settings;
- after the update: edits the team made in ``src/<package>/pipelines/monitoring/`` move to
  ``pipelines/drift_detector/``, ``dvc.lock`` names the renamed stage, and places that still
  name the old pipeline are listed for the team to fix.

Usage (copier runs it; running it again changes nothing): ``python v0_2_0.py before|after``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from project_edits import (
    answer,
    carry_folder_edits,
    mentions,
    rename_dvc_lock_stage,
    rename_parameter_file,
)

OLD, NEW = "monitoring", "drift_detector"


def before(project: Path) -> list[str]:
    """Move the team's parameter files to the new name before copier looks at them."""
    return rename_parameter_file(
        project, f"parameters_{OLD}.yml", f"parameters_{NEW}.yml", OLD, NEW
    )


def after(project: Path) -> list[str]:
    """Carry the team's code edits and state to the new names, and list what is left."""
    pipelines = f"src/{answer(project, 'package_name')}/pipelines"
    messages = carry_folder_edits(project, f"{pipelines}/{OLD}", f"{pipelines}/{NEW}")
    messages += rename_dvc_lock_stage(project, OLD, NEW)
    stale = mentions(
        project,
        [f"params:{OLD}", f"pipelines.{OLD}", f"pipeline {OLD}", f"pipelines/{OLD}"],
        ["src", "tests", "conf"],
    )
    if stale:
        messages.append(
            f"still naming the old `{OLD}` pipeline (rename to `{NEW}`): {', '.join(stale)}"
        )
    return messages


def main(argv: list[str]) -> int:
    """Run one stage of the migration in the current directory and report what it did."""
    stages = {"before": before, "after": after}
    if len(argv) != 1 or argv[0] not in stages:
        print(f"usage: {Path(__file__).name} before|after", file=sys.stderr)
        return 2
    for message in stages[argv[0]](Path.cwd()) or ["nothing to do"]:
        print(f"migration v0.2.0 ({argv[0]}): {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
