"""Edits that migrations make to a generated project, each safe to run twice.

Migrations run inside the project being updated, with copier's own Python and no third-party
packages: everything here is standard library and git. Each function returns the lines it
wants the user to read (what it did, or what is left to do by hand).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ANSWERS_FILE = ".copier-answers.yml"


def git(project: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run one git command in ``project`` and return the finished process (never raises)."""
    return subprocess.run(
        ["git", *args], cwd=project, input=stdin, capture_output=True, text=True, check=False
    )


def answer(project: Path, key: str) -> str:
    """Read one answer from ``.copier-answers.yml`` (flat ``key: value`` lines)."""
    text = (project / ANSWERS_FILE).read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(key)}:\s*(.+?)\s*$", text, flags=re.MULTILINE)
    if match is None:
        raise KeyError(f"{ANSWERS_FILE} has no answer for {key!r}")
    return match.group(1).strip("'\"")


def rename_top_level_key(text: str, old: str, new: str) -> tuple[str, bool]:
    """Rename a top-level YAML mapping key in ``text``, keeping comments and layout.

    Returns the new text and whether the key was found.
    """
    pattern = re.compile(rf"^{re.escape(old)}:(?=\s|$)", flags=re.MULTILINE)
    renamed, count = pattern.subn(f"{new}:", text)
    return renamed, count > 0


def rename_parameter_file(
    project: Path, old_name: str, new_name: str, old_key: str, new_key: str
) -> list[str]:
    """Move every ``conf/<env>/<old_name>`` to ``<new_name>`` and rename its top-level key.

    Parameter files belong to the team (copier never overwrites them), so a renamed file or
    key only reaches the project through this function. The team's values and comments stay.
    """
    messages = []
    for old in sorted((project / "conf").glob(f"*/{old_name}")):
        new = old.with_name(new_name)
        where = old.relative_to(project)
        if new.exists():
            messages.append(
                f"kept {where}: {new.relative_to(project)} exists too; move what you still "
                f"need from the first into the second (key {new_key}:), then delete the first"
            )
            continue
        text, found = rename_top_level_key(old.read_text(encoding="utf-8"), old_key, new_key)
        new.write_text(text, encoding="utf-8")
        old.unlink()
        detail = f"key {old_key}: -> {new_key}:" if found else f"no top-level {old_key}: key"
        messages.append(f"renamed {where} -> {new.relative_to(project)} ({detail})")
    return messages


def rename_dvc_lock_stage(project: Path, old: str, new: str) -> list[str]:
    """Rename a stage in ``dvc.lock`` so the lock file names the stages ``dvc.yaml`` has."""
    lock = project / "dvc.lock"
    if not lock.is_file():
        return []
    text = lock.read_text(encoding="utf-8")
    stage = re.compile(rf"^  {re.escape(old)}:$", flags=re.MULTILINE)
    if not stage.search(text) or re.search(rf"^  {re.escape(new)}:$", text, flags=re.MULTILINE):
        return []
    lock.write_text(stage.sub(f"  {new}:", text), encoding="utf-8")
    return [f"renamed stage {old} -> {new} in dvc.lock (`dvc repro` reruns it once)"]


def last_template_sync(project: Path) -> str | None:
    """Return the last commit that changed the answers file: the last copy or update."""
    found = git(project, "log", "-1", "--format=%H", "--", ANSWERS_FILE)
    return found.stdout.strip() or None


def _moved_patch(patch: str, old: str, new: str) -> str:
    """Point the file headers of a ``git diff`` at ``new`` instead of ``old``.

    Only header lines (from ``diff --git`` to the first ``@@`` of each file) are touched, so
    code that happens to mention the old path keeps it.
    """
    lines, in_header = [], False
    for line in patch.splitlines(keepends=True):
        if line.startswith("diff --git "):
            in_header = True
        elif line.startswith("@@"):
            in_header = False
        if in_header:
            line = line.replace(f"a/{old}/", f"a/{new}/").replace(f"b/{old}/", f"b/{new}/")
        lines.append(line)
    return "".join(lines)


def carry_folder_edits(project: Path, old: str, new: str) -> list[str]:
    """Bring the team's edits of a folder the template moved to its new place.

    The edits are what changed in ``old`` between the last template sync and ``HEAD``; they
    are applied to ``new`` as a patch. Hunks that no longer fit are written to ``.rej`` files
    next to their targets, for the team to apply by hand.
    """
    sync = last_template_sync(project)
    if sync is None:
        return [
            f"could not tell your edits of {old}/ apart from the template's ({ANSWERS_FILE} "
            f"was never committed): compare `git show HEAD:{old}/...` with {new}/ by hand"
        ]
    patch = git(project, "diff", "--no-renames", "--binary", sync, "HEAD", "--", f"{old}/").stdout
    if not patch.strip():
        return []
    moved = _moved_patch(patch, old, new)
    if git(project, "apply", "--reverse", "--check", "-", stdin=moved).returncode == 0:
        return []  # carried already (this migration ran before)
    applied = git(project, "apply", "--reject", "--whitespace=nowarn", "-", stdin=moved)
    carried = sorted(set(re.findall(rf"^\+\+\+ b/({re.escape(new)}/\S+)$", moved, re.MULTILINE)))
    for path in carried:
        leftover = project / old / Path(path).relative_to(new)
        if leftover.is_file():
            leftover.unlink()
    if (project / old).is_dir() and not any((project / old).rglob("*")):
        (project / old).rmdir()
    if applied.returncode != 0:
        return [
            f"carried your edits of {old}/ to {new}/ only in part: apply the .rej files "
            f"next to {', '.join(carried)} by hand, then delete them"
        ]
    return [f"carried your edits of {old}/ to {new}/ ({', '.join(carried)})"]


def mentions(project: Path, needles: list[str], folders: list[str]) -> list[str]:
    """List ``file:line`` places under ``folders`` that still name an old identifier."""
    places = []
    for folder in folders:
        root = project / folder
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix not in {".py", ".yml", ".yaml", ".toml"}:
                continue
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            for number, line in enumerate(lines, start=1):
                if any(needle in line for needle in needles):
                    places.append(f"{path.relative_to(project)}:{number}")
    return places
