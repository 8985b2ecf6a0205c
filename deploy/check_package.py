"""Check a built function folder for the Python of its runtime, without that Python at hand.

    python deploy/check_package.py build/ingest --python 3.12 [--platform linux-x86_64]

Two checks, both reading files only (the deploying machine may run another Python):
1. Every `Requires-Dist` of every distribution in `python/`, its markers evaluated for the
   runtime's Python and platform (and for the extras its dependants ask of it), names a
   distribution that is installed there, at a version the requirement accepts.
2. The handler's import graph resolves: every module `index.py` imports, and every module those
   import in turn, is in `python/`, in the code folder, or in the runtime's standard library.
   All of imagedrop's own imports count (it imports SDKs lazily, inside functions); in other
   packages only unconditional imports at module level do (the rest are optional by design).

Exit 0 when both hold; else 1 and one line per problem. Needs only `packaging`.
"""

from __future__ import annotations

import argparse
import ast
import sys
import warnings
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

OWN_PACKAGES = ("imagedrop", "imagedrop_disk")
# Standard-library modules a Python release removed (PEP 632, PEP 594 and imp): the machine that
# builds may still have them, a newer runtime has not.
REMOVED_IN = {(3, 12): {"distutils", "imp", "asynchat", "asyncore", "smtpd"},
              (3, 13): {"aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "lib2to3",
                        "mailcap", "msilib", "nis", "nntplib", "ossaudiodev", "pipes", "sndhdr",
                        "spwd", "sunau", "telnetlib", "uu", "xdrlib"}}


@dataclass(frozen=True)
class Installed:
    name: str
    version: str
    requires: tuple[str, ...]


def runtime_environment(python: str, platform: str = "linux-x86_64") -> dict[str, str]:
    """The marker environment of CPython `python` (e.g. "3.12") on `platform`, not this machine's."""
    system, _, machine = platform.partition("-")
    if system != "linux" or not machine:
        raise ValueError(f"--platform {platform!r}: give it as linux-<machine>, e.g. linux-x86_64")
    env = dict(default_environment())
    env.update(python_version=python, python_full_version=f"{python}.0",
               implementation_name="cpython", implementation_version=f"{python}.0",
               platform_python_implementation="CPython", sys_platform="linux", os_name="posix",
               platform_system="Linux", platform_machine=machine, platform_release="",
               platform_version="")
    return env


def installed(site: Path) -> dict[str, Installed]:
    found = {}
    for meta in sorted(site.glob("*.dist-info/METADATA")):
        message = Parser().parsestr(meta.read_text(encoding="utf-8", errors="replace"))
        name = canonicalize_name(message["Name"] or meta.parent.name.split("-")[0])
        found[name] = Installed(name, message["Version"] or "", tuple(message.get_all("Requires-Dist") or ()))
    return found


def missing_requirements(site: Path, env: dict[str, str]) -> list[str]:
    """One line per Requires-Dist the runtime needs and `site` does not satisfy."""
    dists = installed(site)
    problems: list[str] = []
    extras_asked: dict[str, set[str]] = {name: {""} for name in dists}
    todo = list(dists)
    while todo:
        name = todo.pop()
        dist = dists[name]
        for line in dist.requires:
            try:
                req = Requirement(line)
            except InvalidRequirement as exc:
                problems.append(f"{dist.name} {dist.version}: unreadable Requires-Dist {line!r} ({exc})")
                continue
            if req.marker is not None and not any(
                    req.marker.evaluate({**env, "extra": extra}) for extra in extras_asked[name]):
                continue
            wanted = canonicalize_name(req.name)
            have = dists.get(wanted)
            if have is None:
                problems.append(f"{dist.name} {dist.version} requires {line!r}, which holds on "
                                f"Python {env['python_version']}, but {req.name} is not in the package")
                continue
            if req.specifier and not _accepts(req, have.version):
                problems.append(f"{dist.name} {dist.version} requires {line!r}, but the package "
                                f"has {have.name} {have.version}")
            new = set(req.extras) - extras_asked[wanted]
            if new:
                extras_asked[wanted] |= new
                todo.append(wanted)
    return problems


def _accepts(req: Requirement, version: str) -> bool:
    try:
        return req.specifier.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def unresolved_imports(code: Path, site: Path, python: str) -> list[str]:
    """One line per module the handler's import graph needs and the runtime would not find."""
    release = tuple(int(part) for part in python.split(".")[:2])
    stdlib = set(sys.stdlib_module_names).difference(
        *(names for since, names in REMOVED_IN.items() if release >= since))
    roots = [site, code]
    seen: set[str] = set()
    problems: list[str] = []
    todo: list[tuple[Path, str]] = [(code / "index.py", "")]
    while todo:
        path, module = todo.pop()
        own = module.split(".")[0] in OWN_PACKAGES or module == ""
        for wanted, line in _imports(path, module, every=own):
            if wanted in seen:
                continue
            seen.add(wanted)
            top = wanted.split(".")[0]
            if top in stdlib:
                continue
            found = _find(roots, wanted)
            if found is None:
                if _provided_by_parent(roots, wanted):
                    continue
                importer = module or "index"
                problems.append(f"{importer} (line {line}) imports {wanted}, which is neither in the "
                                f"package nor in Python {python}'s standard library")
                continue
            if found.suffix == ".py":
                todo.append((found, wanted))
    return problems


def _provided_by_parent(roots: list[Path], wanted: str) -> bool:
    """`from pkg import name` names something pkg defines, not a module; and below a plain
    module (six, whose `six.moves.urllib` exists only at run time) every name is that module's."""
    parts = wanted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        parent = _find(roots, ".".join(parts[:cut]))
        if parent is None:
            continue
        is_package = parent.name == "__init__.py" or parent.is_dir()
        return not is_package or cut == len(parts) - 1
    return False


def _find(roots: list[Path], module: str) -> Path | None:
    """The file of `module` under one of `roots`: a .py, a package's __init__.py, a namespace
    package's folder, or a compiled extension (its own path, not followed further)."""
    parts = module.split(".")
    for root in roots:
        base = root.joinpath(*parts)
        if (base / "__init__.py").is_file():
            return base / "__init__.py"
        if base.with_suffix(".py").is_file():
            return base.with_suffix(".py")
        extensions = list(base.parent.glob(f"{parts[-1]}.*.so")) if base.parent.is_dir() else []
        if extensions:
            return extensions[0]
        if base.is_dir():
            return base
    return None


def _imports(path: Path, module: str, *, every: bool) -> list[tuple[str, int]]:
    """Absolute names `path` imports: all of them (`every`), or only those at module level that
    no `try`, `if` or function guards."""
    try:
        with warnings.catch_warnings():  # a library's invalid escapes are its own business
            warnings.simplefilter("ignore")
            tree = ast.parse(path.read_bytes(), str(path))
    except (SyntaxError, ValueError):
        return []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    nodes = _all_imports(tree) if every else _top_level_imports(tree.body)
    names: list[tuple[str, int]] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            names += [(alias.name, node.lineno) for alias in node.names]
            continue
        base = _absolute(node, package)
        if base is None:
            continue
        if base:
            names.append((base, node.lineno))
        names += [(f"{base}.{alias.name}" if base else alias.name, node.lineno)
                  for alias in node.names if alias.name != "*"]
    return names


def _all_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    skipped = {id(n) for guard in ast.walk(tree) if _is_type_checking(guard)
               for n in ast.walk(guard)}
    skipped |= {id(n) for guard in ast.walk(tree) if isinstance(guard, ast.Try)
                for n in ast.walk(guard) if _handles_import_error(guard)}
    return [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
            and id(n) not in skipped]


def _top_level_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    return [n for n in body if isinstance(n, (ast.Import, ast.ImportFrom))]


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _handles_import_error(node: ast.Try) -> bool:
    words = ("ImportError", "ModuleNotFoundError", "Exception")
    return any(h.type is None or any(word in ast.unparse(h.type) for word in words)
               for h in node.handlers)


def _absolute(node: ast.ImportFrom, package: str) -> str | None:
    if not node.level:
        return node.module or ""
    parts = package.split(".") if package else []
    if node.level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def check(code: Path, python: str, platform: str = "linux-x86_64") -> list[str]:
    site = code / "python"
    if not (code / "index.py").is_file() or not site.is_dir():
        return [f"{code} is not a built function folder: it needs index.py and python/ "
                "(deploy/build.sh ingest|poller makes one)"]
    env = runtime_environment(python, platform)
    return missing_requirements(site, env) + unresolved_imports(code, site, python)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("code", type=Path, help="the function's code folder (build/ingest)")
    parser.add_argument("--python", required=True, help="the runtime's Python, e.g. 3.12")
    parser.add_argument("--platform", default="linux-x86_64", help="default linux-x86_64")
    args = parser.parse_args(argv)
    problems = check(args.code, args.python, args.platform)
    for line in problems:
        print(f"{args.code}: {line}", file=sys.stderr)
    if not problems:
        print(f"{args.code}: every requirement and import resolves for Python {args.python} "
              f"on {args.platform}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
