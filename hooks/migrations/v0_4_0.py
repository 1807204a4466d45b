"""Migration to template v0.4.0: real tables (a schema, mixed-type preprocessing, text labels).

v0.4.0 changes files the team owns (``_skip_if_exists``), which an update never writes: the
data_processing nodes and pipeline (the schema, a validation report, split strategies), the
training and evaluation nodes (the preprocessing is an object now, not a dict), ``model.py``
(the network reads the preprocessed matrix), ``parameters_data_processing.yml`` and
``catalog.yml`` (``table_schema``, ``validation_report``, a pickled ``preprocessor``). This
script compares the project with what its release rendered and what v0.4.0 renders (copier
renders both here, with the project's answers), before the update:

1. each team-owned file v0.4.0 changed: unedited, it becomes v0.4.0's; edited, the edits are
   merged onto v0.4.0's version (three-way, or the team's added functions put on top of it);
   when no merge is safe, the team's version stays, v0.4.0's lands in
   ``migrated-v0.4.0/template/`` and ``migrated-v0.4.0/README.md`` says what to port;
2. ``conf/base/catalog.yml``: entries v0.4.0 added are appended; an entry v0.4.0 changed is
   replaced when the team left it as rendered (the raw table and the splits become a
   ``TableDataset``, read a chunk at a time), and kept with a note in the README when the team
   edited it; the pickled ``preprocessor`` is always replaced (the team's version in the README).

``conf/base/schema.yml`` is not written here: ``make repro`` infers it from the raw data when it
is missing (review and commit it). Models registered before v0.4.0 carry no preprocessing:
retrain (``make repro``) before exporting.

Usage (copier runs it; running it again changes nothing): ``python v0_4_0.py before``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from project_edits import (
    AsideReadme,
    catalog_entries,
    catalog_entry,
    load_answers,
    merge_python_additions,
    read,
    same_text,
    three_way_merge,
    tree_files,
    unified_diff,
    wildmatch,
)
from v0_3_0 import _fenced, _render_both, team_owned_patterns

VERSION = "v0.4.0"
ASIDE = f"migrated-{VERSION}"
CATALOG = "conf/base/catalog.yml"
# Catalog entries whose new version the new code needs (others keep the team's edits).
NEEDED_ENTRIES = frozenset({"preprocessor"})
README_HEADER = f"""\
# What the {VERSION} migration could not do on its own

Template {VERSION} handles real tables: a schema (`conf/base/schema.yml`, `make schema`), text
categories, missing values and dates preprocessed inside the served model, text class labels,
split strategies. It changed files that are yours, which updates never write; each section
below says what the migration did with one of them and what to do. Nothing here is imported or
tested. Commit this folder with the update, port what you still need, then delete it.
"""


def update_team_owned_files(
    project: Path, old: Path, new: Path, patterns: list[str], readme: AsideReadme, old_name: str
) -> list[str]:
    """Step 1: bring the team-owned files v0.4.0 changed up to date, merging the team's edits."""
    owned = wildmatch(patterns).match
    messages = []
    for path in sorted(tree_files(old) & tree_files(new)):
        if not owned(path) or path == CATALOG or path.startswith("conf/local/"):
            continue
        base, ours, theirs = read(old / path), read(project / path), read(new / path)
        if ours is None or same_text(base, theirs) or same_text(ours, theirs):
            continue
        if readme.has(path):
            continue  # done by an earlier run
        if same_text(ours, base):
            (project / path).write_text(theirs, encoding="utf-8")
            messages.append(f"updated {path} to {VERSION}'s version (you had not edited it)")
            continue
        merged, how = three_way_merge(base, ours, theirs), "a three-way merge of your edits"
        if merged is None and path.endswith(".py"):
            added = merge_python_additions(base, ours, theirs)
            if added is not None:
                merged, names, _ = added
                how = f"your additions ({', '.join(names)}) put at the end of it"
        diff = _fenced(unified_diff(base, ours, f"{old_name}/{path}", f"yours/{path}"))
        if merged is not None:
            (project / path).write_text(merged, encoding="utf-8")
            readme.add(
                path,
                f"Team-owned: updates never write it, so the migration did. It is now "
                f"{VERSION}'s version with {how}. Review it (`git diff {path}`); your change "
                f"against what {old_name} rendered:\n\n{diff}",
            )
            messages.append(f"merged your edits of {path} onto {VERSION}'s version")
            continue
        target = project / ASIDE / "template" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(theirs, encoding="utf-8")
        readme.add(
            path,
            f"Team-owned: your edits could not be merged onto {VERSION}'s version, so yours "
            f"stays as it was; {VERSION}'s is in `{ASIDE}/template/{path}`. What changed: the "
            f"preprocessing is a `kedro_mlops_kit.preprocessor.Preprocessor` object fitted from "
            f"the schema (`fit_preprocessor(train, schema, params)`), networks read its "
            f"preprocessed matrix (`preprocessor.n_inputs` wide), `validate_raw_data(data, "
            f"schema, params)` returns the table and a report. Port your edits onto it and "
            f"copy it over yours, then run `make test`. Your change against what {old_name} "
            f"rendered:\n\n{diff}",
        )
        messages.append(f"kept your edited {path} (no safe merge; see {ASIDE}/README.md)")
    return messages


def sync_catalog(
    project: Path, old: Path, new: Path, readme: AsideReadme, old_name: str
) -> list[str]:
    """Step 2: add the datasets v0.4.0's catalog.yml added; replace the entries it changed."""
    ours, base, theirs = read(project / CATALOG), read(old / CATALOG), read(new / CATALOG)
    if ours is None or theirs is None or same_text(ours, theirs):
        return []
    base = base or ""
    text, added, replaced = ours, [], []
    for key in catalog_entries(theirs):
        wanted = catalog_entry(theirs, key)
        mine = catalog_entry(text, key)
        if mine is None:
            text = text.rstrip("\n") + "\n\n" + catalog_entry(theirs, key, with_comments=True)
            added.append(key)
        elif not same_text(mine, wanted) and not same_text(catalog_entry(base, key), wanted):
            if key not in NEEDED_ENTRIES and not same_text(mine, catalog_entry(base, key)):
                # The team's own dataset type still works (the kit takes DataFrames too).
                readme.add(
                    f"{CATALOG}: {key}",
                    f"{VERSION} reads `{key}` a chunk at a time, so tables larger than memory "
                    f"train; you had edited the entry, so yours was kept (it still works, in "
                    f"memory). To stream it, make it like {VERSION}'s:\n\n"
                    f"```yaml\n{wanted.rstrip()}\n```",
                )
                continue
            # v0.4.0 changed this entry: unedited, it becomes the new one; the pickled
            # preprocessor is replaced even when edited, since its code needs the new one.
            lines = text.splitlines()
            _, start, end = catalog_entries(text)[key]
            text = "\n".join([*lines[:start], wanted.rstrip("\n"), *lines[end:]]) + "\n"
            replaced.append(key)
            if not same_text(mine, catalog_entry(base, key)):
                readme.add(
                    f"{CATALOG}: {key}",
                    f"{VERSION} changed the dataset `{key}` and its code needs the new entry, "
                    f"so your changed entry was replaced. Re-apply what still applies. Yours:"
                    f"\n\n```yaml\n{mine.rstrip()}\n```\n\n{VERSION}'s:\n\n"
                    f"```yaml\n{wanted.rstrip()}\n```\n\n(it was, in {old_name}:)\n\n"
                    f"```yaml\n{(catalog_entry(base, key) or '').rstrip()}\n```",
                )
    if not added and not replaced:
        return []
    (project / CATALOG).write_text(text, encoding="utf-8")
    return [
        f"{CATALOG}: added {', '.join(added) or 'nothing'}; "
        f"replaced {', '.join(replaced) or 'nothing'}"
    ]


def _before_plugin(old_name: str) -> bool:
    """Whether the project comes from a release older than v0.3.0.

    The v0.3.0 migration then ran first and already brought the team-owned files to this
    version's (it merges onto the target template's render), so step 1 has nothing left to do.
    """
    from packaging.version import InvalidVersion, Version

    try:
        return Version(old_name) < Version("v0.3.0")
    except InvalidVersion:
        return False


def before(project: Path, old: Path, new: Path, patterns: list[str], old_name: str) -> list[str]:
    """Run steps 1-2 on ``project``, given the old release's and v0.4.0's renders of it."""
    readme = AsideReadme(project, ASIDE, README_HEADER)
    messages = []
    if not _before_plugin(old_name):
        messages += update_team_owned_files(project, old, new, patterns, readme, old_name)
    messages += sync_catalog(project, old, new, readme, old_name)
    if not (project / "conf/base/schema.yml").exists():
        messages.append(
            "conf/base/schema.yml does not exist yet: `make repro` (or `make schema`) infers it "
            "from the raw data; review and commit it"
        )
    return messages


def main(argv: list[str]) -> int:
    """Run the migration in the current directory and report what it did."""
    if argv != ["before"]:
        print(f"usage: {Path(__file__).name} before", file=sys.stderr)
        return 2
    project = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="copier-migration-") as scratch:
        old, new, old_name = _render_both(project, Path(scratch))
        template = Path(__file__).resolve().parents[2]
        patterns = team_owned_patterns(template, load_answers(project)["package_name"])
        messages = before(project, old, new, patterns, old_name)
    for message in messages or ["nothing to do"]:
        print(f"migration {VERSION} (before): {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
