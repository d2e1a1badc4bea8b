"""Which camdot module imports which, read from the source (imports inside functions included),
and the import circles among them.

    .venv/bin/python tools/import_graph.py            # the circles in lib/camdot; exit 1 if any
    .venv/bin/python tools/import_graph.py --map      # and each module's camdot imports

A circle is a set of modules each of which imports, at some point, another of the set: a lazy
import in a function counts as much as one at the top (it runs, just later). Importing a
submodule runs its package's __init__ first; that edge is not counted (every package has it),
but an explicit `from camdot.pkg import name` in a submodule of camdot.pkg is.
"""
import ast
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = os.path.join(ROOT, 'lib')


def modules(lib=LIB, package='camdot'):
    """{dotted module name: source path} of every .py file of `package` under `lib`."""
    found = {}
    for folder, dirs, names in os.walk(os.path.join(lib, package)):
        dirs[:] = [d for d in dirs if d != '__pycache__']
        for name in names:
            if not name.endswith('.py'):
                continue
            path = os.path.join(folder, name)
            dotted = os.path.relpath(path, lib)[:-3].replace(os.sep, '.')
            if dotted.endswith('.__init__'):
                dotted = dotted[:-len('.__init__')]
            found[dotted] = path
    return found


def _imported(node, module, is_package, known):
    # The modules of `known` that one import statement loads.
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in known]
    base = node.module or ''
    if node.level:               # relative: from the module's package upwards
        parts = module.split('.') if is_package else module.split('.')[:-1]
        parts = parts[:len(parts) - node.level + 1]
        base = '.'.join(parts + ([base] if base else []))
    out = []
    for alias in node.names:
        sub = base + '.' + alias.name
        if sub in known:         # `from camdot import wifi`: the submodule
            out.append(sub)
        elif base in known:      # `from camdot.wifi import connect_station`: the module
            out.append(base)
    return out


def graph(lib=LIB, package='camdot'):
    """{module: sorted list of the package's modules it imports anywhere in its source}."""
    known = modules(lib, package)
    edges = {}
    for module, path in known.items():
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read(), path)
        is_package = path.endswith('__init__.py')
        out = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                out.update(_imported(node, module, is_package, known))
        out.discard(module)
        edges[module] = sorted(out)
    return edges


def circles(edges):
    """The import circles: strongly connected sets of more than one module (Tarjan), each
    sorted, in a stable order."""
    index = {}
    low = {}
    stack = []
    on_stack = set()
    found = []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def main(argv):
    edges = graph()
    if '--map' in argv:
        for module in sorted(edges):
            print('%-34s %s' % (module, ' '.join(m.replace('camdot.', '', 1)
                                                 for m in edges[module])))
    found = circles(edges)
    for group in found:
        print('import circle:', ' <-> '.join(group))
    if not found:
        print('import_graph: %d modules, no import circle' % len(edges))
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
