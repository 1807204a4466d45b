"""The source files each pipeline really runs, with their hashes, for DVC stage dependencies.

DVC reruns a stage when one of its dependencies changes. Listing a stage's code by hand misses
what its nodes import (a helper module, the model factory, the plugin itself), so the DVC stage
``code_deps`` runs ``kedro-mlops-kit kit code-deps`` (the same command as ``kedro kit
code-deps``, without loading every Kedro plugin's commands first: it runs on every ``dvc repro``)
before the others: for every pipeline it follows the imports of its ``pipeline.py`` statically,
inside the project's package and this plugin, and writes one
manifest (``<pipeline>.txt``: a hash and a path per line). Each stage depends on its manifest,
which changes exactly when code the stage runs changes. Hand-written with ``ast`` rather than
``modulefinder``: that one also walks every third-party library, which is slow and irrelevant.
"""

from __future__ import annotations

import ast
import hashlib
import tomllib
from pathlib import Path

import kedro_mlops_kit
from kedro_mlops_kit import __version__

PLUGIN = "kedro_mlops_kit"


def _module_file(name: str, roots: dict[str, Path]) -> Path | None:
    """Return the source file of module ``name`` under its top-level package's folder, if any.

    Found on disk, never imported: importing a pipeline would import torch, MLflow and the
    rest, which costs seconds on every ``dvc repro``.
    """
    top, *rest = name.split(".")
    base = roots[top].joinpath(*rest)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_names(path: Path, module: str) -> set[str]:
    """Every module name ``path`` (module ``module``) imports, relative imports resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            names.add(source)
            # `from package import module` imports a module, not only a name.
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


def imported_files(modules: set[str], packages: dict[str, Path]) -> dict[str, Path]:
    """Follow imports from ``modules`` within ``packages``; map every module reached to its file.

    ``packages`` maps each top-level package to follow to its folder; other imports (numpy,
    torch...) are not followed.
    """
    found: dict[str, Path] = {}
    pending = sorted(modules)
    while pending:
        name = pending.pop()
        if name in found or name.split(".")[0] not in packages:
            continue
        path = _module_file(name, packages)
        if path is None:
            continue
        found[name] = path
        # Importing a.b.c runs a/__init__.py and a/b/__init__.py too.
        parents = [name.rsplit(".", i)[0] for i in range(1, name.count(".") + 1)]
        pending.extend(n for n in (*parents, *_imported_names(path, name)) if n not in found)
    return found


def plugin_folder() -> Path:
    """Return the folder of the installed ``kedro_mlops_kit`` package."""
    return Path(kedro_mlops_kit.__file__).parent


def manifest(modules: set[str], package: str, package_dir: Path, project_root: Path) -> str:
    """Return the manifest text for a pipeline whose code starts at ``modules``."""
    files = imported_files(modules, {package: package_dir, PLUGIN: plugin_folder()})
    lines = [f"# kedro-mlops-kit {__version__}"]
    for name in sorted(files):
        path = files[name]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        try:
            shown = path.resolve().relative_to(project_root.resolve()).as_posix()
        except ValueError:
            shown = name  # the plugin, installed outside the project
        lines.append(f"{digest}  {shown}")
    return "\n".join(lines) + "\n"


def project_package(project_root: Path) -> tuple[str, Path]:
    """Return the project's package name and folder, from its pyproject.toml ``[tool.kedro]``."""
    pyproject = project_root / "pyproject.toml"
    if not pyproject.is_file():
        raise FileNotFoundError(
            f"{project_root} has no pyproject.toml: run the command from the project root."
        )
    kedro = tomllib.loads(pyproject.read_text()).get("tool", {}).get("kedro", {})
    if "package_name" not in kedro:
        raise KeyError(f"{pyproject} has no [tool.kedro] package_name: is it a Kedro project?")
    name = kedro["package_name"]
    return name, project_root / kedro.get("source_dir", "src") / name


def write_manifests(project_root: Path, output: Path) -> list[Path]:
    """Write ``<pipeline>.txt`` for every pipeline folder under ``<package>/pipelines/``.

    A pipeline's code starts at its ``pipeline.py`` (and the folder's ``__init__.py``): the
    node functions it names are imports there. A manifest whose text is unchanged is not
    rewritten, so its timestamp stays too.
    """
    package, package_dir = project_package(project_root)
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for folder in sorted((package_dir / "pipelines").iterdir()):
        if not (folder / "pipeline.py").is_file():
            continue
        start = f"{package}.pipelines.{folder.name}"
        text = manifest({start, f"{start}.pipeline"}, package, package_dir, project_root)
        path = output / f"{folder.name}.txt"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    return written
