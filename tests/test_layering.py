"""The packages of tracker/ import each other in one direction only.

Each subpackage (plans, returns, chase, …) and each top-level module (workflow, handoff, jobs, …)
is a unit; an import from one unit of another is an edge, lazy imports inside functions included.
The only cycle allowed is a package's ``__init__`` importing its own ``routes`` to register the
views, which stays inside the unit. A cycle means two features lean on each other and cannot be
read, tested or changed apart.
"""

import ast
import itertools
from pathlib import Path

TRACKER = Path(__file__).resolve().parent.parent / "tracker"


def unit_of(module):
    """Return the unit a dotted module name belongs to: ``tracker.plans.operations`` → ``plans``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def imported_modules(path, module, package):
    """Yield the dotted names of the tracker modules ``path`` imports, anywhere in it."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("tracker"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.startswith("tracker"):
                # "from .. import workflow" imports the module named, not the package.
                yield from ([target] if node.module else [f"{target}.{alias.name}" for alias in node.names])


def import_graph():
    """Return ``{unit: {unit it imports: [where]}}`` for the units of tracker/."""
    graph = {}
    for path in TRACKER.rglob("*.py"):
        parts = path.relative_to(TRACKER.parent).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        package = module if is_package else module.rpartition(".")[0]
        for target in imported_modules(path, module, package):
            source, imported = unit_of(module), unit_of(target)
            if source and imported and source != imported:
                graph.setdefault(source, {}).setdefault(imported, []).append(str(path.relative_to(TRACKER.parent)))
    return graph


def find_cycle(graph):
    """Return one cycle of ``graph`` as a list of units (first repeated last), or None."""
    done, path = set(), []

    def visit(unit):
        if unit in path:
            return [*path[path.index(unit) :], unit]
        if unit in done:
            return None
        path.append(unit)
        for imported in sorted(graph.get(unit, {})):
            cycle = visit(imported)
            if cycle:
                return cycle
        path.pop()
        done.add(unit)
        return None

    for unit in sorted(graph):
        cycle = visit(unit)
        if cycle:
            return cycle
    return None


def test_no_two_packages_import_each_other_even_through_others():
    graph = import_graph()
    assert {"plans", "returns", "workflow", "chase", "exports"} <= graph.keys()  # the graph was read
    cycle = find_cycle(graph)
    where = [f"{a} -> {b}: {graph[a][b][:2]}" for a, b in itertools.pairwise(cycle)] if cycle else []
    assert cycle is None, "import cycle: " + "; ".join(where)


def test_the_cycle_finder_finds_a_cycle_through_a_third_package():
    assert find_cycle({"a": {"b": []}, "b": {"c": []}, "c": {"a": []}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": []}, "b": {"c": []}, "c": {}}) is None


def test_the_readme_layout_names_every_package_and_module_of_tracker():
    readme = (TRACKER.parent / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    units = [p.name for p in TRACKER.iterdir() if p.suffix == ".py" and p.name != "__init__.py"]
    units += [f"{p.name}/" for p in TRACKER.iterdir() if p.is_dir() and not p.name.startswith("__")]
    assert [u for u in sorted(units) if u not in layout] == []
