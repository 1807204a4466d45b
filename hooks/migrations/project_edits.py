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
    moved, gone = _without_missing_targets(project, _moved_patch(patch, old, new))
    notes = [
        f"not carried: your edits of {path.replace(new, old, 1)} ({path} does not exist any "
        f"more: a later template version removed it; its migration says where your edits went)"
        for path in gone
    ]
    if not moved.strip():
        return notes
    if git(project, "apply", "--reverse", "--check", "-", stdin=moved).returncode == 0:
        return notes  # carried already (this migration ran before)
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
            f"next to {', '.join(carried)} by hand, then delete them",
            *notes,
        ]
    return [f"carried your edits of {old}/ to {new}/ ({', '.join(carried)})", *notes]


def _without_missing_targets(project: Path, patch: str) -> tuple[str, list[str]]:
    """Drop the file patches of ``patch`` that change a file the project no longer has.

    A file created by the patch stays. Returns the rest of the patch and the dropped paths.
    """
    chunks = re.split(r"(?m)^(?=diff --git )", patch)
    kept, gone = [], []
    for chunk in chunks:
        target = re.search(r"^\+\+\+ b/(\S+)$", chunk, re.MULTILINE)
        creates = re.search(r"^(new file mode|--- /dev/null)", chunk, re.MULTILINE)
        if target and not creates and not (project / target.group(1)).exists():
            gone.append(target.group(1))
        else:
            kept.append(chunk)
    return "".join(kept), gone


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


# ------------------------------------------------------------------ comparing and rendering


def same_text(first: str | None, second: str | None) -> bool:
    """Whether two file texts are equal but for trailing spaces and trailing blank lines."""
    if first is None or second is None:
        return first is second

    def normal(text: str) -> list[str]:
        lines = [line.rstrip() for line in text.splitlines()]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    return normal(first) == normal(second)


def read(path: Path) -> str | None:
    """Return the text of a file, or None when it is absent or not text."""
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError):
        return None


def tree_files(root: Path) -> set[str]:
    """Relative POSIX paths of the files under ``root`` (``.git`` left out)."""
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def load_answers(project: Path) -> dict:
    """Every answer of ``.copier-answers.yml`` (PyYAML: copier's Python always has it)."""
    import yaml

    return yaml.safe_load((project / ANSWERS_FILE).read_text(encoding="utf-8")) or {}


def render_template(template: str, vcs_ref: str | None, answers: dict, destination: Path) -> Path:
    """Render ``template`` at ``vcs_ref`` with a project's answers into ``destination``.

    What copier itself renders for the project at that version: no tasks, no questions.
    """
    import warnings

    import copier

    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_copy(
            template,
            str(destination),
            data=data,
            vcs_ref=vcs_ref,
            defaults=True,
            overwrite=True,
            quiet=True,
            unsafe=True,
            skip_tasks=True,
        )
    return destination


def export_commit(project: Path, commit: str, destination: Path) -> Path:
    """Write the files of one commit of the project into ``destination``."""
    names = git(project, "ls-tree", "-r", "-z", "--name-only", commit).stdout.split("\0")
    for name in filter(None, names):
        shown = subprocess.run(
            ["git", "show", f"{commit}:{name}"], cwd=project, capture_output=True, check=False
        )
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(shown.stdout)
    return destination


def wildmatch(patterns: list[str]) -> re.Pattern[str]:
    """One regular expression for copier's gitwildmatch-style path patterns."""
    parts = []
    for pattern in patterns:
        regex = ""
        for token in re.split(r"(\*\*/?|\*|\?)", pattern.strip("/")):
            if token.startswith("**"):
                regex += ".*"
            elif token == "*":
                regex += "[^/]*"
            elif token == "?":
                regex += "[^/]"
            else:
                regex += re.escape(token)
        parts.append(f"(?:{regex})")
    return re.compile(rf"^(?:{'|'.join(parts) or '(?!)'})$")


def three_way_merge(base: str, ours: str, theirs: str) -> str | None:
    """Merge ``ours`` and ``theirs`` (both edits of ``base``) with git; None on conflict."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        files = []
        for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(folder) / name
            path.write_text(text, encoding="utf-8")
            files.append(str(path))
        merged = subprocess.run(
            ["git", "merge-file", "-p", "--quiet", *files],
            capture_output=True,
            text=True,
            check=False,
        )
    return merged.stdout if merged.returncode == 0 else None


def unified_diff(before: str, after: str, before_name: str, after_name: str) -> str:
    """Return a unified diff of two texts, for a person to read."""
    import difflib

    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            before_name,
            after_name,
        )
    )


# ------------------------------------------------------------------ Python: moved modules


def plugin_module(
    absolute: str, package: str, table: dict[str, str], local: frozenset[str] = frozenset()
) -> str | None:
    """Where a module of the team's package lives now, per ``table`` (longest prefix wins).

    ``table`` maps module paths relative to the package (``serving``, ``pipelines.training.
    trainer``) to their new absolute names; a package entry covers its submodules, except
    those in ``local``: dotted names of modules the project still has (the team's own
    ``serving/custom.py`` stays ``<package>.serving.custom``).
    """
    if not absolute.startswith(f"{package}."):
        return None
    relative = absolute[len(package) + 1 :]
    for old in sorted(table, key=len, reverse=True):
        if relative == old or relative.startswith(f"{old}."):
            pieces = absolute.split(".")
            depth = len(old.split(".")) + 1
            if any(".".join(pieces[:end]) in local for end in range(depth, len(pieces) + 1)):
                return None
            return table[old] + relative[len(old) :]
    return None


def local_modules(project: Path, package: str) -> frozenset[str]:
    """Dotted names of the modules and packages under ``src/<package>/`` of the project."""
    names = set()
    for path in (project / "src" / package).rglob("*.py"):
        found = module_name(path.relative_to(project).as_posix(), package)
        if found:
            names.add(found[0])
    return frozenset(names)


def module_name(path: str, package: str) -> tuple[str, bool] | None:
    """Return the dotted name of ``src/<package>/...py`` and whether it is an ``__init__``."""
    prefix = f"src/{package}/"
    if not path.startswith(prefix) or not path.endswith(".py"):
        return None
    parts = [package, *path[len(prefix) : -3].split("/")]
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _absolute(node, module: tuple[str, bool] | None) -> str | None:
    """Return the absolute module an ``ImportFrom`` names (None if it cannot tell)."""
    if node.level == 0:
        return node.module
    if module is None:
        return None
    name, is_package = module
    parts = name.split(".")
    if not is_package:
        parts = parts[:-1]
    if node.level > 1:
        parts = parts[: len(parts) - (node.level - 1)]
    if not parts:
        return None
    return ".".join(parts + ([node.module] if node.module else []))


def _import_line(indent: str, module: str, aliases: list[tuple[str, str | None]]) -> str:
    """``from module import a, b as c`` at ``indent``, wrapped in parentheses when long."""
    names = [f"{name} as {alias}" if alias else name for name, alias in aliases]
    line = f"{indent}from {module} import {', '.join(names)}"
    if len(line) <= 99:
        return line + "\n"
    inner = "".join(f"{indent}    {name},\n" for name in names)
    return f"{indent}from {module} import (\n{inner}{indent})\n"


def rewrite_dotted(
    text: str,
    package: str,
    table: dict[str, str],
    yaml: bool = False,
    local: frozenset[str] = frozenset(),
) -> tuple[str, list[str]]:
    """Point dotted references (``<package>.serving.export``) at the modules' new homes.

    Catches ``import`` statements, strings (``mock.patch("...")``, catalog ``type:``) and
    attribute chains alike; not ``python -m <module>`` (the plugin's commands are not its
    modules' ``__main__``), nor, with ``yaml``, comments. Returns the new text and the old
    names it replaced.
    """
    replaced: list[str] = []
    pattern = re.compile(rf"(?<![\w.]){re.escape(package)}(?:\.[A-Za-z_]\w*)+")

    def moved(match: re.Match[str], line: str, comment: int) -> str:
        dotted = match.group(0)
        if match.start() >= comment or re.search(r"-m\s+$", line[: match.start()]):
            return dotted
        # The longest dotted prefix that names a moved module.
        pieces = dotted.split(".")
        for end in range(len(pieces), 1, -1):
            head = ".".join(pieces[:end])
            target = plugin_module(head, package, table, local)
            deeper = (".".join(pieces[:longer]) for longer in range(end + 1, len(pieces) + 1))
            if target and not any(name in local for name in deeper):
                replaced.append(head)
                return ".".join([target, *pieces[end:]])
        return dotted

    lines = []
    for line in text.splitlines(keepends=True):
        found = re.search(r"(?:^|\s)#", line) if yaml else None
        comment = found.start() if found else len(line)
        lines.append(pattern.sub(lambda match, line=line, c=comment: moved(match, line, c), line))
    return "".join(lines), replaced


def rewrite_imports(
    text: str, path: str, package: str, table: dict[str, str], local: frozenset[str] = frozenset()
) -> tuple[str, list[str]]:
    """Point a Python file's imports of moved modules at the plugin, keeping everything else.

    ``from ...preprocessor import X``, ``from <package> import distributed`` and
    ``from .trainer import Y`` (relative to ``path``) become imports from the plugin; absolute
    dotted names anywhere in the file follow (see :func:`rewrite_dotted`). Returns the new text
    and the old module names it replaced; a file that does not parse is left alone.
    """
    import ast

    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text, []
    module = module_name(path, package)
    lines = text.splitlines(keepends=True)
    edits, replaced = [], []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        absolute = _absolute(node, module)
        if absolute is None:
            continue
        first, last = lines[node.lineno - 1], lines[node.end_lineno - 1]
        indent = first[: node.col_offset]
        if indent.strip() or last[node.end_col_offset :].strip():
            continue  # shares its line with other code: leave it to the person
        aliases = [(alias.name, alias.asname) for alias in node.names]
        target = plugin_module(absolute, package, table, local)
        ours = [(name, alias) for name, alias in aliases if f"{absolute}.{name}" in local]
        if target:
            theirs = [item for item in aliases if item not in ours]
            source = "." * node.level + (node.module or "")
            new = _import_line(indent, source, ours) if ours else ""
            new += _import_line(indent, target, theirs) if theirs else ""
            replaced.append(absolute)
        else:
            kept, moved = [], {}
            for name, alias in aliases:
                found = plugin_module(f"{absolute}.{name}", package, table, local)
                if found:
                    parent, leaf = found.rsplit(".", 1)
                    moved.setdefault(parent, []).append(
                        (leaf, alias or (None if leaf == name else name))
                    )
                    replaced.append(f"{absolute}.{name}")
                else:
                    kept.append((name, alias))
            if not moved:
                continue
            source = "." * node.level + (node.module or "")
            new = _import_line(indent, source, kept) if kept else ""
            new += "".join(_import_line(indent, parent, names) for parent, names in moved.items())
        edits.append((node.lineno - 1, node.end_lineno, new))
    # Dotted names elsewhere (``import a.b as c``, strings, attribute chains); the
    # ``from ... import`` statements are done above, name by name.
    covered = {
        number
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for number in range(node.lineno - 1, node.end_lineno)
    }
    for number, line in enumerate(lines):
        if number not in covered:
            lines[number], dotted = rewrite_dotted(line, package, table, local=local)
            replaced += dotted
    for start, end, new in sorted(edits, reverse=True):
        lines[start:end] = [new]
    return "".join(lines), replaced


# ------------------------------------------------------------------ Python: the team's additions


def _statements(text: str):
    """Top-level statements of a module: (key, source, gap before it, node); None if invalid."""
    import ast

    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    lines = text.splitlines(keepends=True)
    found, previous = [], 0
    for node in tree.body:
        decorators = getattr(node, "decorator_list", [])
        start = min([node.lineno, *(d.lineno for d in decorators)]) - 1
        source = "".join(lines[start : node.end_lineno])
        normal = " ".join(source.split())
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            key = ("definition", node.name)
        elif isinstance(node, ast.Assign) and [type(t) for t in node.targets] == [ast.Name]:
            key = ("definition", node.targets[0].id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            key = ("definition", node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            key = ("import", normal)
        else:
            key = ("statement", normal)
        found.append((key, source, "".join(lines[previous:start]), node))
        previous = node.end_lineno
    return found


def _bound_names(node) -> set[str]:
    """Names a top-level statement binds in its module."""
    import ast

    if isinstance(node, ast.Import):
        return {alias.asname or alias.name.split(".")[0] for alias in node.names}
    if isinstance(node, ast.ImportFrom):
        return {alias.asname or alias.name for alias in node.names}
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    return {
        child.id
        for child in ast.walk(node)
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store)
    }


def _free_names(nodes) -> set[str]:
    """Names the statements read that they do not bind themselves (a close approximation)."""
    import ast
    import builtins

    read, bound = set(), set()
    for node in nodes:
        for child in ast.walk(node):
            if isinstance(child, ast.Name):
                (read if isinstance(child.ctx, ast.Load) else bound).add(child.id)
            elif isinstance(child, ast.arg):
                bound.add(child.arg)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                bound.add(child.name)
    return read - bound - set(dir(builtins)) - {"__file__", "__name__", "__spec__"}


def merge_python_additions(
    base: str, ours: str, theirs: str
) -> tuple[str, list[str], list[str]] | None:
    """Put what the team added to ``base`` (new functions, classes, constants) on ``theirs``.

    For a module the template rewrote: applies when the team only added top-level code (and
    perhaps dropped imports). The added code goes at the end of ``theirs``, as the team wrote
    it; the imports and module constants it needs that ``theirs`` lacks go after theirs'
    imports. Returns the merged text, the names the team added, and names the added code
    reads that nothing defines any more; None when the team changed or removed code of
    ``base`` (no automatic merge is safe then).
    """
    import ast

    old, mine, new = _statements(base), _statements(ours), _statements(theirs)
    if old is None or mine is None or new is None:
        return None
    old_sources = {key: " ".join(source.split()) for key, source, _, _ in old}
    new_keys = {key for key, _, _, _ in new}
    added = []
    for key, source, gap, node in mine:
        if key in old_sources:
            if key[0] == "definition" and old_sources[key] != " ".join(source.split()):
                return None  # the team changed the template's code
        elif key[0] != "import":
            if key in new_keys:
                return None  # the template added the same name: a person must choose
            added.append((key, source, gap, node))
    mine_keys = {key for key, _, _, _ in mine}
    if any(key not in mine_keys and key[0] != "import" for key in old_sources):
        return None  # the team deleted template code
    available = set().union(*(_bound_names(node) for _, _, _, node in new))
    needed = _free_names([node for *_, node in added]) - available
    # Module constants of the old version (logger = ...) that the added code reads.
    constants: list[int] = []
    grew = True
    while grew:
        grew = False
        for index, (key, _, _, node) in enumerate(mine):
            wanted = key[0] == "definition" and key in old_sources and key not in new_keys
            if wanted and index not in constants and _bound_names(node) & needed:
                constants.append(index)
                needed |= _free_names([node]) - available
                grew = True
    for index in constants:
        needed -= _bound_names(mine[index][3])
    carried = []
    for key, source, _, node in mine:
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        team_import = key not in old_sources and key not in new_keys
        if team_import or _bound_names(node) & needed:
            carried.append(source)
            needed -= _bound_names(node)
    carried += [mine[index][1] for index in sorted(constants)]
    lines = theirs.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    imports_end = max((node.end_lineno for key, *_, node in new if key[0] == "import"), default=0)
    lines[imports_end:imports_end] = [
        text if text.endswith("\n") else text + "\n" for text in carried
    ]
    merged = "".join(lines) + "".join(gap + source for _, source, gap, _ in added)
    if not merged.endswith("\n"):
        merged += "\n"
    try:
        ast.parse(merged)
    except SyntaxError:
        return None
    names = [key[1] if key[0] == "definition" else key[1][:40] for key, *_ in added]
    return merged, names, sorted(needed)


# ------------------------------------------------------------------ YAML: catalog entries

_TOP_KEY = re.compile(r"""^(?P<key>[^\s#'"-][^:]*|'[^']*'|"[^"]*"):(?:\s|$)""")


def catalog_entries(text: str) -> dict[str, tuple[int, int, int]]:
    """Top-level entries of a Kedro catalog: key -> (first comment line, key line, end).

    An entry is its key line and the indented lines below it; the column-0 comment lines
    right above it (no blank line between) belong to it. Line numbers index
    ``text.splitlines()``; ``end`` is exclusive and leaves trailing blank lines out.
    """
    lines = text.splitlines()
    entries = {}
    for number, line in enumerate(lines):
        match = _TOP_KEY.match(line)
        if not match:
            continue
        lead = number
        while lead > 0 and lines[lead - 1].startswith("#"):
            lead -= 1
        end = number + 1
        while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t"):
            end += 1
        while end > number + 1 and not lines[end - 1].strip():
            end -= 1
        entries[match.group("key").strip("'\"")] = (lead, number, end)
    return entries


def catalog_entry(text: str, key: str, with_comments: bool = False) -> str | None:
    """One entry's lines (``with_comments``: and the comment lines right above it)."""
    found = catalog_entries(text).get(key)
    if found is None:
        return None
    lead, start, end = found
    return "\n".join(text.splitlines()[lead if with_comments else start : end]) + "\n"


def remove_catalog_entries(text: str, keys: dict[str, bool]) -> str:
    """Remove entries from a catalog text, keeping every other line as it was.

    ``keys`` maps each key to remove to whether the comment lines right above it go too (they
    do when they are the template's, not the team's). A blank line left doubled is dropped.
    """
    lines = text.splitlines()
    entries = catalog_entries(text)
    drop: set[int] = set()
    for key, with_comments in keys.items():
        if key not in entries:
            continue
        lead, start, end = entries[key]
        drop.update(range(lead if with_comments else start, end))
    kept: list[str] = []
    for number, line in enumerate(lines):
        if number in drop:
            continue
        if not line.strip() and (not kept or not kept[-1].strip()):
            continue  # no blank line at the top, none doubled
        kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept) + "\n" if kept else ""


# ------------------------------------------------------------------ the folder of moved files


class AsideReadme:
    """``<folder>/README.md``: one section per thing the team must look at, each added once."""

    def __init__(self, project: Path, folder: str, header: str) -> None:
        """Point at ``project/folder/README.md``, started with ``header`` when first written."""
        self.path = project / folder / "README.md"
        self.header = header

    def has(self, heading: str) -> bool:
        """Whether a ``## heading`` section exists."""
        return f"\n## {heading}\n" in f"\n{read(self.path) or ''}"

    def add(self, heading: str, body: str) -> bool:
        """Add a ``## heading`` section unless one exists; return whether it was added."""
        text = read(self.path) or self.header.rstrip() + "\n"
        if f"\n## {heading}\n" in f"\n{text}":
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(f"{text}\n## {heading}\n\n{body.strip()}\n", encoding="utf-8")
        return True


def remove_empty_folders(project: Path, start: Path, stop: Path) -> None:
    """Remove ``start`` and its parents up to (not including) ``stop`` while they hold nothing.

    Byte-code caches (``__pycache__``) do not count: a folder holding only those goes too.
    """
    import shutil

    folder = start
    while folder != stop and project in folder.parents and folder.is_dir():
        contents = list(folder.iterdir())
        if any(item.name != "__pycache__" for item in contents):
            return
        for cache in contents:
            shutil.rmtree(cache, ignore_errors=True)
        folder.rmdir()
        folder = folder.parent


def record_written(project: Path, name: str, paths: list[str]) -> None:
    """Remember files a migration's ``before`` stage wrote, for its ``after`` stage.

    The list lives in the git directory (``<git-dir>/<name>``), out of the team's sight.
    """
    record = git(project, "rev-parse", "--git-path", name).stdout.strip()
    if record and paths:
        path = project / record
        known = set((read(path) or "").splitlines())
        path.write_text("".join(f"{p}\n" for p in sorted(known | set(paths))), encoding="utf-8")


def take_written(project: Path, name: str) -> list[str]:
    """Return and forget the files :func:`record_written` remembered."""
    record = git(project, "rev-parse", "--git-path", name).stdout.strip()
    if not record:
        return []
    path = project / record
    paths = (read(path) or "").splitlines()
    path.unlink(missing_ok=True)
    return paths


def tidy_python(project: Path, paths: list[str]) -> list[str]:
    """Sort the imports of and format Python files with the project's ruff, when installed.

    Returns the files it tidied (none without ``.venv/bin/ruff``).
    """
    ruff = project / ".venv" / "bin" / "ruff"
    files = sorted({p for p in paths if p.endswith(".py") and (project / p).is_file()})
    if not files or not ruff.is_file():
        return []
    before = {p: read(project / p) for p in files}
    subprocess.run(
        [str(ruff), "check", "--fix", "--select", "I", "--quiet", "--exit-zero", *files],
        cwd=project,
        capture_output=True,
        check=False,
    )
    subprocess.run(
        [str(ruff), "format", "--quiet", *files], cwd=project, capture_output=True, check=False
    )
    return [p for p in files if read(project / p) != before[p]]
