"""The house's rules, read from the source: Saleor is imported under its host
(``hosts/saleor2``) only; the core imports no host and asks the shop only what the
port (``port.Shop``) declares, which the host provides; nothing imports at call
time to hide a loop; the modules import each other without cycles."""

import ast
from pathlib import Path

PACKAGE = "saleor_aftersales"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE
# Where Saleor may be imported: the 2.10 host.
HOST_PACKAGE = f"{PACKAGE}.hosts"
SALEOR2 = f"{PACKAGE}.hosts.saleor2"
# The surfaces Saleor 2.10 serves in-process: its Celery app runs the tasks, its
# URLconf mounts the pages. They may import the 2.10 host; the core may not. The
# GraphQL API may not either: it takes its host's parts through graphql/host.py.
SURFACES = (
    f"{PACKAGE}.management",
    f"{PACKAGE}.urls",
    f"{PACKAGE}.tasks",
    f"{PACKAGE}.apps",
)
# Imports at call time that hide no loop: Django's documented place to register
# Celery tasks when the app is ready.
DEFERRED_ALLOWED = {
    (f"{PACKAGE}.apps", f"{PACKAGE}.tasks"),
    # `celery -A …worker` imports the worker before Django is set up: models wait.
    (f"{PACKAGE}.hosts.saleor3.worker", f"{PACKAGE}.hosts.saleor3.tenancy"),
    (f"{PACKAGE}.hosts.saleor3.worker", f"{PACKAGE}.hosts.saleor3.models"),
}
# The core's pure part: tested on both hosts' Pythons (tests/core, .venv-app with
# Python 3.12 and Django 5.2), so it reaches neither Saleor nor the host module.
PURE = {
    f"{PACKAGE}.enums",
    f"{PACKAGE}.error_codes",
    f"{PACKAGE}.port",
    f"{PACKAGE}.settings",
    f"{PACKAGE}.sla",
    f"{PACKAGE}.webhooks.bodies",
}


def modules():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT.parent).with_suffix("")
        if "migrations" in relative.parts:
            continue
        name = ".".join(relative.parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        yield name, path


KNOWN = dict(modules())


def resolve(module: str, node: ast.ImportFrom, alias: str) -> str:
    """The module an ``import``/``from ... import`` names (a submodule if the name
    is one)."""
    if node.level:
        package = module.split(".")
        is_package = KNOWN[module].name == "__init__.py"
        base = package[: len(package) - node.level + (1 if is_package else 0)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    candidate = f"{target}.{alias}"
    return candidate if candidate in KNOWN else target


def imports(module: str, path: Path):
    """(imported module, deferred?) for every import in the file."""
    tree = ast.parse(path.read_text())
    deferred_nodes = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    deferred_nodes.add(id(inner))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, id(node) in deferred_nodes
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                yield resolve(module, node, alias.name), id(node) in deferred_nodes


def graph():
    edges = {}
    for module, path in KNOWN.items():
        edges[module] = {
            (target, deferred)
            for target, deferred in imports(module, path)
            if target == PACKAGE or target.startswith(PACKAGE + ".")
        }
    return edges


def test_only_the_host_imports_saleor():
    offenders = sorted(
        (module, target)
        for module, path in KNOWN.items()
        for target, _ in imports(module, path)
        if (target == "saleor" or target.startswith("saleor."))
        and not _under(module, SALEOR2)
    )
    assert offenders == []


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def core_modules():
    return {
        module: path
        for module, path in KNOWN.items()
        if not _under(module, HOST_PACKAGE)
        and not any(_under(module, surface) for surface in SURFACES)
    }


def test_the_core_imports_no_host():
    offenders = sorted(
        (module, target)
        for module, path in core_modules().items()
        for target, _ in imports(module, path)
        if _under(target, HOST_PACKAGE)
    )
    assert offenders == []


def _port_members():
    tree = ast.parse((ROOT / "port.py").read_text())
    (shop,) = [
        node
        for node in tree.body
        if isinstance(node, ast.ClassDef) and node.name == "Shop"
    ]
    members = set()
    for node in shop.body:
        if isinstance(node, ast.FunctionDef):
            members.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            members.add(node.target.id)
    return members


def test_the_core_asks_the_shop_only_what_the_port_declares():
    members = _port_members()
    asked = {}
    for module, path in core_modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "host"
            ):
                asked.setdefault(node.attr, set()).add(module)
    assert {
        name: sorted(where) for name, where in asked.items() if name not in members
    } == {}
    # Every operation the port declares is asked for somewhere (no dead surface).
    assert members - set(asked) == set()


def _asked_of(name: str, modules) -> dict:
    """{attribute: modules} for every ``name.attribute`` the modules read."""
    asked = {}
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == name
            ):
                asked.setdefault(node.attr, set()).add(module)
    return asked


def _defined_in(path: Path) -> set:
    """Names a module defines or imports at its top level."""
    defined = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom):
            defined.update(alias.asname or alias.name for alias in node.names)
    return defined


def test_every_host_provides_what_the_graphql_api_is_built_on():
    api_modules = {
        module: path
        for module, path in KNOWN.items()
        if _under(module, f"{PACKAGE}.graphql")
    }
    asked = set(_asked_of("api", api_modules))
    assert asked
    for host in ("saleor2", "saleor3"):
        missing = asked - _defined_in(ROOT / "hosts" / host / "api.py")
        assert (host, sorted(missing)) == (host, [])


def test_the_saleor_2_host_provides_every_operation_of_the_port():
    tree = ast.parse((ROOT / "hosts" / "saleor2" / "shop.py").read_text())
    defined = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom):
            defined.update(alias.asname or alias.name for alias in node.names)
    assert _port_members() - defined == set()


def test_nothing_imports_at_call_time_to_hide_a_loop():
    deferred = sorted(
        (module, target)
        for module, targets in graph().items()
        for target, is_deferred in targets
        if is_deferred and (module, target) not in DEFERRED_ALLOWED
    )
    assert deferred == []


def test_the_modules_import_each_other_without_cycles():
    edges = {
        module: {
            target
            for target, is_deferred in targets
            if target in KNOWN and (module, target) not in DEFERRED_ALLOWED
        }
        for module, targets in graph().items()
    }
    # Tarjan's strongly connected components: any with two or more modules is a loop.
    index, low, stack, on_stack, loops = {}, {}, [], set(), []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in edges.get(module, ()):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    assert loops == []


def test_the_pure_core_reaches_neither_saleor_nor_the_host():
    edges = graph()
    reached = {}
    for start in sorted(PURE):
        seen, todo = set(), [start]
        while todo:
            module = todo.pop()
            for target, _ in edges.get(module, ()):
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        reached[start] = sorted(m for m in seen if _under(m, HOST_PACKAGE))
        for module in {start} | seen:
            if module in KNOWN:
                assert not any(
                    target == "saleor" or target.startswith("saleor.")
                    for target, _ in imports(module, KNOWN[module])
                ), (start, module)
    assert reached == {module: [] for module in sorted(PURE)}
