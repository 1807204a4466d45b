"""Migration to template v0.3.0: the machinery moved out of the team's package into a plugin.

v0.3.0 keeps only the team's code in ``src/<package>/`` (settings, pipeline registry,
``model.py``, the pipelines' nodes and wiring); ONNX export, Triton, registry gates, the
drift job, the training loop and the rest now come from the kedro-mlops-kit plugin. Team-owned
files (``_skip_if_exists``: catalog.yml, parameters, model.py, three pipeline folders) are
never written by an update, and the template's datasets moved to catalog_mlops.yml. A
three-way merge cannot follow that, so this script does, comparing the project with what the
old release rendered and what v0.3.0 renders (copier renders both here, with the project's
answers):

- before the update:
  1. each module the template no longer renders leaves the package: one the team never
     edited is deleted; an edited one moves to ``migrated-v0.3.0/<its path>`` (outside the
     import path) with an entry in ``migrated-v0.3.0/README.md``: what changed, where that
     code lives now and how to carry the change over;
  2. each team-owned file v0.3.0 changed: unedited, it becomes v0.3.0's; edited, the edits
     are merged onto v0.3.0's version (three-way, or the team's added functions put on top
     of it); when no merge is safe, the team's version of the whole pipeline folder stays,
     v0.3.0's lands in ``migrated-v0.3.0/template/`` and the README says what to port;
  3. ``conf/base/catalog.yml``: the entries catalog_mlops.yml now holds leave it (Kedro
     refuses a dataset defined twice); the team's own entries, values and comments stay, and
     an entry the team had changed is kept in ``migrated-v0.3.0/conf/base/catalog.yml``;
- after the update: imports and dotted names of moved modules in the team's Python files
  and conf point at the plugin (the files it wrote are tidied with the project's ruff, when
  installed); places that still name moved modules (Make targets, CI jobs, ``python -m``) and
  datasets two catalog files define are listed.

Usage (copier runs it; running it again changes nothing): ``python v0_3_0.py before|after``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from project_edits import (
    AsideReadme,
    catalog_entries,
    catalog_entry,
    export_commit,
    last_template_sync,
    load_answers,
    local_modules,
    merge_python_additions,
    plugin_module,
    read,
    record_written,
    remove_catalog_entries,
    remove_empty_folders,
    render_template,
    rewrite_dotted,
    rewrite_imports,
    same_text,
    take_written,
    three_way_merge,
    tidy_python,
    tree_files,
    unified_diff,
    wildmatch,
)

VERSION = "v0.3.0"
ASIDE = f"migrated-{VERSION}"
PLUGIN = "kedro-mlops-kit"
# Where `before` lists the files it merged, for `after` to tidy (in the git directory).
WRITTEN = "copier-migration-v0.3.0-written"

# Where each module of the old package lives in the plugin (paths relative to the package; a
# package entry covers its submodules). tests/test_migrations.py checks every target exists.
MODULES = {
    "default_data": "kedro_mlops_kit.data.default_data",
    "raw_data": "kedro_mlops_kit.data.raw_data",
    "distributed": "kedro_mlops_kit.distributed",
    "drift": "kedro_mlops_kit.drift",
    "hooks": "kedro_mlops_kit.hooks",
    "preprocessor": "kedro_mlops_kit.preprocessor",
    "ranks": "kedro_mlops_kit.ranks",
    "serving": "kedro_mlops_kit.serving",
    "serving_model": "kedro_mlops_kit.serving_model",
    "tasks": "kedro_mlops_kit.tasks",
    "pipelines.data_processing.validation": "kedro_mlops_kit.data.validation",
    "pipelines.drift.nodes": "kedro_mlops_kit.drift.nodes",
    "pipelines.drift_detector.nodes": "kedro_mlops_kit.drift.detector_nodes",
    "pipelines.monitoring.nodes": "kedro_mlops_kit.drift.detector_nodes",
    "pipelines.evaluation.gate": "kedro_mlops_kit.evaluation.gate",
    "pipelines.evaluation.lineage": "kedro_mlops_kit.evaluation.lineage",
    "pipelines.evaluation.metrics": "kedro_mlops_kit.evaluation.metrics",
    "pipelines.evaluation.plots": "kedro_mlops_kit.evaluation.plots",
    "pipelines.evaluation.promotion": "kedro_mlops_kit.evaluation.promotion",
    "pipelines.evaluation.registry": "kedro_mlops_kit.evaluation.registry",
    "pipelines.training.device": "kedro_mlops_kit.training.device",
    "pipelines.training.early_stopping": "kedro_mlops_kit.training.early_stopping",
    "pipelines.training.progress": "kedro_mlops_kit.training.progress",
    "pipelines.training.trainer": "kedro_mlops_kit.training.trainer",
}

# What to do with an edit of a moved module, beyond the general advice (first match wins).
HINTS = [
    (
        "serving_model",
        "The network is no longer built here: v0.3.0 builds it in `src/{package}/model.py`, "
        "`build_model(preprocessor, params)`, the one place for the architecture (training, "
        "ONNX export and serving all take it from there). Port your layer changes into "
        "`build_model` (it may use `kedro_mlops_kit.serving_model.FeatureTransform` and "
        "`build_mlp`, or any `nn.Module` of yours); sizes stay in parameters_training.yml.",
    ),
    (
        "pipelines.training.",
        "The training loop (seeding, device, early stopping, data parallelism) is "
        "`kedro_mlops_kit.training`; the pipeline's node calls "
        "`kedro_mlops_kit.training.fit.train(build_model, ...)`. Loop settings are parameters "
        "(parameters_training.yml); the architecture is `src/{package}/model.py`.",
    ),
    (
        "pipelines.monitoring.nodes",
        "v0.2.0 renamed this pipeline `drift_detector`; its nodes now come from the plugin "
        "(`kedro_mlops_kit.drift.detector_nodes`), the wiring stays in "
        "`src/{package}/pipelines/drift_detector/pipeline.py`, which is yours to point at a "
        "node of your own.",
    ),
    (
        "pipelines.",
        "The pipeline's wiring (`pipeline.py` in the same folder) stays in your package: point "
        "it at a node function of your own that calls or replaces the plugin's.",
    ),
    (
        "serving.",
        "Its command is `kedro serving ...` now (the Make targets call it).",
    ),
    (
        "drift.",
        "Its command is `kedro drift ...` now (the Make targets and the CI jobs call it); "
        "the datasets are `kedro_mlops_kit.drift.dataset.*` in conf/base/catalog_mlops.yml.",
    ),
    (
        "hooks",
        "The hook is `kedro_mlops_kit.hooks.RankZeroWrites`, listed in `HOOKS` of "
        "`src/{package}/settings.py`; add a hook class of your own there for your behaviour.",
    ),
]

README_HEADER = f"""\
# What the {VERSION} migration moved aside

Template {VERSION} moved the project's machinery (ONNX export, Triton, the registry gate, the
drift job, the training loop) out of your package into the {PLUGIN} plugin, installed by
`make install` at the template's version. Your edits of that code could not follow it on
their own: each section below says what the migration did with one of them and what to do.
Nothing here is imported or tested. Commit this folder with the update, port what you still
need, then delete it.
"""


def team_owned_patterns(template: Path, package: str) -> list[str]:
    """Return the target template's ``_skip_if_exists`` patterns for this project."""
    fallback = [
        "conf/base/catalog.yml",
        "conf/base/parameters_*.yml",
        "src/{{ package_name }}/model.py",
        "src/{{ package_name }}/pipelines/data_processing/**",
        "src/{{ package_name }}/pipelines/training/**",
        "src/{{ package_name }}/pipelines/evaluation/**",
    ]
    patterns = fallback
    text = read(template / "copier.yml")
    if text:
        import yaml

        class Loader(yaml.SafeLoader):
            """Reads copier.yml's custom tags (``!include``) as plain values."""

        Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
        with contextlib.suppress(yaml.YAMLError):
            patterns = (yaml.load(text, Loader=Loader) or {}).get("_skip_if_exists") or fallback
    return [re.sub(r"{{\s*package_name\s*}}", package, pattern) for pattern in patterns]


def _hint(relative_module: str, package: str) -> str:
    for prefix, text in HINTS:
        if relative_module == prefix or relative_module.startswith(prefix):
            return text.format(package=package)
    return ""


def _module_of(path: str, package: str) -> str | None:
    """``serving.export`` for ``src/<package>/serving/export.py``."""
    prefix = f"src/{package}/"
    if path.startswith(prefix) and path.endswith(".py"):
        return path[len(prefix) : -3].replace("/", ".").removesuffix(".__init__")
    return None


def _fenced(diff: str) -> str:
    return f"```diff\n{diff.rstrip()}\n```" if diff.strip() else "(no difference in content)"


# ------------------------------------------------------------------ before: modules that left


def move_out_removed_modules(
    project: Path, old: Path, new: Path, package: str, readme: AsideReadme, old_name: str
) -> list[str]:
    """Step 1: delete the modules v0.3.0 no longer renders, moving edited ones aside."""
    gone = sorted(
        path
        for path in tree_files(old) - tree_files(new)
        if path.startswith((f"src/{package}/", "tests/")) and (project / path).is_file()
    )
    deleted, moved, messages = [], [], []
    for path in gone:
        ours, base = read(project / path), read(old / path)
        if same_text(ours, base):
            (project / path).unlink()
            deleted.append(path)
            continue
        target = project / ASIDE / path
        if target.exists() and not same_text(read(target), ours):
            target = target.with_name(f"{target.stem}.{len(moved) + 1}{target.suffix}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(project / path, target)
        moved.append(path)
        aside = target.relative_to(project).as_posix()
        readme.add(path, _moved_module_section(path, aside, base, ours, package, old_name))
    for path in deleted + moved:
        remove_empty_folders(project, (project / path).parent, project)
    if deleted:
        messages.append(
            f"removed {len(deleted)} modules and tests {PLUGIN} now provides, unedited since "
            f"{old_name}: {_summary(project, deleted)}"
        )
    messages += [f"moved your edited {path} to {ASIDE}/ (see {ASIDE}/README.md)" for path in moved]
    stray = _left_in_emptied_folders(project, new, gone)
    if stray:
        messages.append(
            f"kept your own files in folders the template emptied: {', '.join(stray)} (their "
            f"imports of moved modules are rewritten after the update)"
        )
    return messages


def _moved_module_section(
    path: str, aside: str, base: str | None, ours: str | None, package: str, old_name: str
) -> str:
    relative_module = _module_of(path, package)
    lines = [f"Your edited copy: `{aside}`."]
    if relative_module is not None:
        home = plugin_module(f"{package}.{relative_module}", package, MODULES)
        where = f"`{home}` in {PLUGIN}" if home else f"{PLUGIN} (see its README)"
        lines.append(
            f"Template {VERSION} no longer renders `{path}`: this code now lives in {where}, "
            f"installed by `make install` at the template's version."
        )
        hint = _hint(relative_module, package)
        if hint:
            lines.append(hint)
        lines.append(
            "To keep your change: put it in a module of your own under "
            f"`src/{package}/` that calls, wraps or subclasses the plugin's code, and point "
            "your nodes (or catalog, or settings.py) at it; a change every project needs "
            f"belongs in {PLUGIN} itself (propose it upstream)."
        )
    elif path.startswith("tests/"):
        lines.append(
            f"Template {VERSION} no longer renders this test: the code it tested moved to "
            f"{PLUGIN}, which tests it. Keep the checks of your own behaviour by porting them to "
            "a test of your code under tests/."
        )
    else:
        lines.append(
            f"Template {VERSION} no longer renders this file: what used it moved to {PLUGIN}."
        )
    if base is not None and ours is not None:
        lines.append(f"What you had changed against what {old_name} rendered:")
        lines.append(_fenced(unified_diff(base, ours, f"{old_name}/{path}", f"yours/{path}")))
    return "\n\n".join(lines)


def _summary(project: Path, paths: list[str]) -> str:
    """List the folders that went whole (``src/p/serving/``), then single files that went."""
    folders = sorted(
        {
            parent.as_posix() + "/"
            for path in paths
            for parent in Path(path).parents
            if parent.parts and not (project / parent).exists()
        }
    )
    outermost = [f for f in folders if not any(f != o and f.startswith(o) for o in folders)]
    singles = [p for p in paths if not any(p.startswith(folder) for folder in outermost)]
    return ", ".join(outermost + singles)


def _left_in_emptied_folders(project: Path, new: Path, gone: list[str]) -> list[str]:
    """List the team's files in folders that v0.3.0 renders nothing into any more."""
    stray = []
    for folder in sorted({str(Path(path).parent) for path in gone}):
        if not (project / folder).is_dir() or (new / folder).is_dir():
            continue
        stray += [
            item.relative_to(project).as_posix()
            for item in sorted((project / folder).rglob("*"))
            if item.is_file() and "__pycache__" not in item.parts
        ]
    return stray


# ------------------------------------------------------------------ before: team-owned files


def update_team_owned_files(
    project: Path,
    old: Path,
    new: Path,
    package: str,
    owned: Callable[[str], bool],
    readme: AsideReadme,
    old_name: str,
) -> list[str]:
    """Step 2: bring team-owned files v0.3.0 changed (copier will not write them) up to date."""
    changed = sorted(
        path
        for path in tree_files(old) & tree_files(new)
        if owned(path)
        and path != "conf/base/catalog.yml"
        and not path.startswith("conf/local/")
        and not same_text(read(old / path), read(new / path))
        and (project / path).is_file()
    )
    groups: dict[str, list[str]] = {}
    for path in changed:
        key = str(Path(path).parent) if path.endswith(".py") else path
        groups.setdefault(key, []).append(path)
    messages = []
    for paths in groups.values():
        messages += _update_group(project, old, new, package, paths, readme, old_name)
    return messages


def _update_group(
    project: Path,
    old: Path,
    new: Path,
    package: str,
    paths: list[str],
    readme: AsideReadme,
    old_name: str,
) -> list[str]:
    """One pipeline folder (or one other file): all merged onto v0.3.0, or all kept."""
    where = str(Path(paths[0]).parent) + "/" if paths[0].endswith(".py") else paths[0]
    if any(readme.has(heading) for heading in [where, *paths]):
        return []  # done by an earlier run: the README says how
    texts = {path: (read(old / path), read(project / path), read(new / path)) for path in paths}
    pending = [path for path, (_, ours, theirs) in texts.items() if not same_text(ours, theirs)]
    edited = [path for path in pending if not same_text(texts[path][1], texts[path][0])]
    results: dict[str, str] = {}
    notes: dict[str, str] = {}
    local = local_modules(project, package)
    for path in pending:
        base, ours, theirs = texts[path]
        if path not in edited:
            results[path] = theirs
            continue
        merged = three_way_merge(base, ours, theirs)
        if merged is not None:
            results[path] = rewrite_imports(merged, path, package, MODULES, local)[0]
            notes[path] = "three-way merge of your edits onto it"
            continue
        added = merge_python_additions(base, ours, theirs) if path.endswith(".py") else None
        if added is None:
            break
        text, names, missing = added
        results[path] = rewrite_imports(text, path, package, MODULES, local)[0]
        notes[path] = f"your additions ({', '.join(names)}) put at the end of it"
        if missing:
            notes[path] += (
                f"; they read names v0.3.0 no longer defines there ({', '.join(missing)}): "
                "define or import them"
            )
    messages = []
    if len(results) == len(pending):
        record_written(project, WRITTEN, [path for path in pending if path in notes])
        for path in pending:
            (project / path).write_text(results[path], encoding="utf-8")
            if path in notes:
                base, ours, _ = texts[path]
                readme.add(
                    path,
                    f"Team-owned: updates never write it, so the migration did. It is now "
                    f"{VERSION}'s version with {notes[path]}. Review it (`git diff {path}`); "
                    f"the change you had made against what {old_name} rendered:\n\n"
                    + _fenced(unified_diff(base, ours, f"{old_name}/{path}", f"yours/{path}")),
                )
                messages.append(f"merged your edits of {path} onto {VERSION}'s version")
            else:
                messages.append(f"updated {path} to {VERSION}'s version (you had not edited it)")
        return messages
    # No safe merge: the team's folder stays as it is, v0.3.0's version goes beside it.
    for path in paths:
        target = project / ASIDE / "template" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(texts[path][2], encoding="utf-8")
    diffs = "\n\n".join(
        _fenced(unified_diff(texts[p][0], texts[p][1], f"{old_name}/{p}", f"yours/{p}"))
        for p in edited
    )
    network = (
        f"If your edits changed the network (`ServingModule(...)`, its layers or sizes), port "
        f"them to `build_model` in `src/{package}/model.py`: {VERSION}'s training node builds "
        f"the network there, and export and serving take it from there too.\n\n"
        if where.endswith("/pipelines/training/")
        else ""
    )
    readme.add(
        where,
        f"Team-owned: updates never write it, and your edits could not be merged onto "
        f"{VERSION}'s version, so your version stays as it was ({', '.join(paths)}); after the "
        f"update its imports of moved modules point at {PLUGIN}. {VERSION}'s version is in "
        f"`{ASIDE}/template/{where}`: it calls the plugin (and `src/{package}/model.py` for the "
        f"network). Port your edits onto it and copy it over yours, or keep yours and check "
        f"it with `make test`; the tests the template renders test {VERSION}'s nodes.\n\n"
        f"{network}Your edits against what {old_name} rendered:\n\n{diffs}",
    )
    return [
        f"kept your edited {where} as it is (no safe merge with {VERSION}'s version, which is "
        f"in {ASIDE}/template/{where}; see {ASIDE}/README.md)"
    ]


# ------------------------------------------------------------------ before: the catalog


def split_catalog(
    project: Path, old: Path, new: Path, package: str, readme: AsideReadme, old_name: str
) -> list[str]:
    """Step 3: take the entries catalog_mlops.yml now holds out of the team's catalog.yml."""
    path = "conf/base/catalog.yml"
    ours, base, theirs = read(project / path), read(old / path), read(new / path)
    if ours is None or base is None or theirs is None or same_text(ours, theirs):
        return []
    if same_text(ours, base):
        (project / path).write_text(theirs, encoding="utf-8")
        return [f"updated {path} to {VERSION}'s version (you had not edited it)"]
    template_entries: dict[str, str] = {}
    for other in sorted((new / "conf" / "base").glob("catalog*.yml")):
        if other.name != "catalog.yml":
            text = other.read_text(encoding="utf-8")
            for key in catalog_entries(text):
                template_entries[key] = catalog_entry(text, key)
    remove, changed = {}, []
    local = local_modules(project, package)
    for key in catalog_entries(ours):
        if key not in template_entries:
            continue
        mine, old_entry = catalog_entry(ours, key), catalog_entry(base, key)
        mine_moved = rewrite_dotted(mine, package, MODULES, yaml=True, local=local)[0]
        if not (same_text(mine, old_entry) or same_text(mine_moved, template_entries[key])):
            changed.append(key)
        # The comments above it go with it when they are the template's.
        lead = catalog_entry(ours, key, with_comments=True)[: -len(mine)]
        old_full = catalog_entry(base, key, with_comments=True) or ""
        remove[key] = same_text(lead, old_full[: len(old_full) - len(old_entry or "")])
    if not remove:
        return []
    aside = project / ASIDE / "conf" / "base" / "catalog.yml"
    kept = read(aside) or (
        f"# Entries of your conf/base/catalog.yml that you had changed and that {VERSION}\n"
        f"# defines in conf/base/catalog_mlops.yml: re-apply your changes there.\n"
    )
    for key in changed:
        if key not in catalog_entries(kept):
            kept += "\n" + catalog_entry(ours, key, with_comments=True)
        mine, old_entry = catalog_entry(ours, key), catalog_entry(base, key) or ""
        readme.add(
            f"{path}: {key}",
            f"{VERSION} defines the dataset `{key}` in conf/base/catalog_mlops.yml (the "
            f"template's datasets; updates merge your edits to that file). Kedro refuses a "
            f"dataset defined twice, so your changed entry left catalog.yml; it is kept in "
            f"`{ASIDE}/conf/base/catalog.yml`. Re-apply your change in catalog_mlops.yml "
            f"(dataset types of moved modules are `kedro_mlops_kit....` now).\n\n"
            f"Your change against what {old_name} rendered:\n\n"
            + _fenced(unified_diff(old_entry, mine, f"{old_name}/{path}", f"yours/{path}"))
            + f"\n\n{VERSION}'s entry:\n\n```yaml\n{template_entries[key].rstrip()}\n```",
        )
    if changed:
        aside.parent.mkdir(parents=True, exist_ok=True)
        aside.write_text(kept, encoding="utf-8")
    (project / path).write_text(remove_catalog_entries(ours, remove), encoding="utf-8")
    same = [key for key in remove if key not in changed]
    messages = [
        f"{path}: took out {len(same)} entries conf/base/catalog_mlops.yml now holds "
        f"({', '.join(same)}); your own entries stay"
    ][: 1 if same else 0]
    if changed:
        messages.append(
            f"{path}: your changed entries {', '.join(changed)} are defined by "
            f"catalog_mlops.yml now: kept in {ASIDE}/conf/base/catalog.yml (see README)"
        )
    return messages


def before(project: Path, old: Path, new: Path, patterns: list[str], old_name: str) -> list[str]:
    """Run steps 1-3 on ``project``, given the old release's and v0.3.0's renders of it."""
    package = load_answers(project)["package_name"]
    readme = AsideReadme(project, ASIDE, README_HEADER)
    owned = wildmatch(patterns).match
    messages = move_out_removed_modules(project, old, new, package, readme, old_name)
    messages += update_team_owned_files(
        project, old, new, package, lambda path: bool(owned(path)), readme, old_name
    )
    messages += split_catalog(project, old, new, package, readme, old_name)
    return messages


# ------------------------------------------------------------------ after: names of moved modules

# Where a moved module's name is worth a line in the README (after the rewrite, what is left
# in src/, tests/ and conf/ is `python -m <module>` and comments).
MENTION_FILES = [
    "Makefile",
    ".gitlab-ci.yml",
    "dvc.yaml",
    "pyproject.toml",
    "docker",
    "deploy",
    "src",
    "tests",
    "conf",
]


def after(project: Path) -> list[str]:
    """Point the team's imports and conf at the plugin; list other places naming old modules."""
    package = load_answers(project)["package_name"]
    rewritten: dict[str, set[str]] = {}
    local = local_modules(project, package)
    for root in ("src", "tests", "conf"):
        for path in sorted((project / root).rglob("*")) if (project / root).is_dir() else []:
            if not path.is_file() or path.suffix not in {".py", ".yml", ".yaml"}:
                continue
            relative = path.relative_to(project).as_posix()
            text = read(path)
            if text is None:
                continue
            if path.suffix == ".py":
                new, names = rewrite_imports(text, relative, package, MODULES, local)
            else:
                new, names = rewrite_dotted(text, package, MODULES, yaml=True, local=local)
            if new != text:
                path.write_text(new, encoding="utf-8")
                rewritten[relative] = set(names)
    messages = [
        f"pointed {path} at {PLUGIN} (was: {', '.join(sorted(names))})"
        for path, names in rewritten.items()
    ]
    tidied = tidy_python(project, [*rewritten, *take_written(project, WRITTEN)])
    if tidied:
        messages.append(f"sorted imports and formatted with your ruff: {', '.join(tidied)}")
    twice = _datasets_defined_twice(project)
    if twice:
        AsideReadme(project, ASIDE, README_HEADER).add(
            "Datasets defined twice",
            "Kedro refuses a dataset defined in two catalog files of one environment. "
            "Keep one definition of each (conf/base/catalog_mlops.yml holds the template's):"
            "\n\n" + "\n".join(f"- `{key}`: {', '.join(files)}" for key, files in twice),
        )
        messages.append(
            "datasets defined twice (Kedro refuses them; see README): "
            + "; ".join(f"{key} in {', '.join(files)}" for key, files in twice)
        )
    stale = _mentions(project, package)
    if stale:
        listed = "\n".join(f"- `{place}`: {line}" for place, line in stale)
        AsideReadme(project, ASIDE, README_HEADER).add(
            "Commands and paths that name moved modules",
            f"These lines run or name modules that left `src/{package}/` (their commands "
            f"are `kedro serving ...`, `kedro drift ...`, `kedro data ...` now: `make help` "
            f"lists the targets that call them):\n\n{listed}",
        )
        messages.append(
            f"still naming moved modules (see {ASIDE}/README.md): "
            + ", ".join(place for place, _ in stale)
        )
    return messages


def _datasets_defined_twice(project: Path) -> list[tuple[str, list[str]]]:
    """Dataset names that two catalog files of one conf environment both define."""
    twice = []
    for env in sorted(path for path in (project / "conf").glob("*") if path.is_dir()):
        owners: dict[str, list[str]] = {}
        for catalog in sorted(env.rglob("catalog*.yml")):
            for key in catalog_entries(read(catalog) or ""):
                owners.setdefault(key, []).append(catalog.relative_to(project).as_posix())
        twice += [(key, files) for key, files in owners.items() if len(files) > 1]
    return twice


def _mentions(project: Path, package: str) -> list[tuple[str, str]]:
    """``file:line`` places outside Python and conf that name a moved module."""
    pattern = re.compile(
        rf"(?<![\w.]){re.escape(package)}(?:\.[A-Za-z_]\w*)+|src/{re.escape(package)}/[\w/.]+"
    )
    found = []
    local = local_modules(project, package)
    for name in MENTION_FILES:
        root = project / name
        paths = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in paths:
            text = read(path) if path.is_file() else None
            for number, line in enumerate((text or "").splitlines(), start=1):
                for match in pattern.finditer(line):
                    dotted = match.group(0)
                    if dotted.startswith("src/"):
                        dotted = dotted.removesuffix(".py").replace("/", ".")[4:]
                    if plugin_module(dotted, package, MODULES, local):
                        found.append((f"{path.relative_to(project)}:{number}", line.strip()))
                        break
    return found


# ------------------------------------------------------------------ running it


def _render_both(project: Path, scratch: Path) -> tuple[Path, Path, str]:
    """Render the project's old release and the target version; say how the old was made."""
    template = Path(__file__).resolve().parents[2]
    answers = load_answers(project)
    old_ref = os.environ.get("VERSION_FROM") or str(answers.get("_commit", ""))
    new = render_template(str(template), "HEAD", answers, scratch / "new")
    for source in (str(template), str(answers.get("_src_path", ""))):
        if not source or not old_ref:
            continue
        try:
            return render_template(source, old_ref, answers, scratch / "old"), new, old_ref
        except Exception:  # noqa: BLE001 - any failure: try the next way
            shutil.rmtree(scratch / "old", ignore_errors=True)
    sync = last_template_sync(project)
    if sync is None:
        raise SystemExit(
            f"migration {VERSION}: cannot render template {old_ref or '(unknown)'} and "
            f"{project / '.copier-answers.yml'} was never committed: nothing to compare with"
        )
    return export_commit(project, sync, scratch / "old"), new, f"commit {sync[:10]}"


def main(argv: list[str]) -> int:
    """Run one stage of the migration in the current directory and report what it did."""
    if len(argv) != 1 or argv[0] not in {"before", "after"}:
        print(f"usage: {Path(__file__).name} before|after", file=sys.stderr)
        return 2
    project = Path.cwd()
    if argv[0] == "before":
        with tempfile.TemporaryDirectory(prefix="copier-migration-") as scratch:
            old, new, old_name = _render_both(project, Path(scratch))
            template = Path(__file__).resolve().parents[2]
            patterns = team_owned_patterns(template, load_answers(project)["package_name"])
            messages = before(project, old, new, patterns, old_name)
    else:
        messages = after(project)
    for message in messages or ["nothing to do"]:
        print(f"migration {VERSION} ({argv[0]}): {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
