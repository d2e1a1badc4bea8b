"""Which config keys the code reads, found by reading the source with `ast` (no import, no run).

    from config_keys import keys_read
    found = keys_read(['lib/camdot/app.py', ...])   # {('camera', 'fps'): ['lib/...:45', ...]},
                                                    # plus found.unresolved: reads of a key that
                                                    # is not a string literal

A config object is a name such as `config`, `cfg`, `cam_cfg`, `wifi_config`, an attribute such as
`self.config`, or a name assigned from a section of one (`station = cfg['wifi']`,
`cam = cfg.get('camera') or {}`). Reads are subscripts (`cfg['camera']['fps']`, also as an
assignment target), `.get('key', ...)` chains and `'key' in cfg`. A key given by a name that a
comprehension takes from a module-level tuple of strings (`{k: cfg[k] for k in SETTINGS}`) counts
as each of those strings; any other computed key is listed as unresolved, so that nothing is read
out of the scan's sight.

Files under a `camera/` folder receive the camera section (`open_camera(config['camera'])`): their
config objects start at ('camera',).
"""
import ast
import re

CONFIG_NAME = re.compile(r'^_?(config|cfg|conf)$|_(config|cfg)$')


class Found(dict):
    """{key path: [where, ...]} with .unresolved: ['file:line: source', ...]."""

    def __init__(self):
        super().__init__()
        self.unresolved = []

    def add(self, path, where):
        self.setdefault(path, []).append(where)


def _root_section(filename):
    return ('camera',) if '/camera/' in filename.replace('\\', '/') else ()


def _string_tuples(tree):
    # module-level NAME = ('a', 'b', ...): what a comprehension over NAME can give as a key
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name) \
                and isinstance(node.value, (ast.Tuple, ast.List)) \
                and all(isinstance(e, ast.Constant) and isinstance(e.value, str)
                        for e in node.value.elts):
            out[node.targets[0].id] = [e.value for e in node.value.elts]
    return out


class _Scan:
    def __init__(self, filename, source, found):
        self.filename = filename
        self.source = source
        self.found = found
        self.root = _root_section(filename)
        self.tree = ast.parse(source, filename)
        self.tuples = _string_tuples(self.tree)
        self.parents = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node

    def run(self):
        self.scope(self.tree, {})

    # ---- what an expression is ----

    def path(self, node, env):
        """The key path of a config object (() for the whole config), or None."""
        if isinstance(node, ast.Name):
            if node.id in env:
                return env[node.id]
            return self.root if CONFIG_NAME.search(node.id) else None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id == 'self' and CONFIG_NAME.search(node.attr):
            return self.root
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            return self.path(node.values[0], env)     # cfg.get('camera') or {}
        base, keys = self.read(node, env)
        if base is not None and keys is not None and len(keys) == 1:
            return base + (keys[0],)
        return None

    def read(self, node, env):
        """(base path, [keys]) when `node` reads keys of a config object; keys None: computed."""
        if isinstance(node, ast.Subscript):
            base = self.path(node.value, env)
            if base is not None:
                return base, self.key(node.slice, node)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == 'get' and node.args:
            base = self.path(node.func.value, env)
            if base is not None:
                return base, self.key(node.args[0], node)
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 \
                and isinstance(node.ops[0], (ast.In, ast.NotIn)):
            base = self.path(node.comparators[0], env)
            if base is not None:
                return base, self.key(node.left, node)
        return None, None

    def key(self, node, at):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.Name):
            # a comprehension's variable over a module-level tuple of strings
            p = self.parents.get(at)
            while p is not None:
                if isinstance(p, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                    for gen in p.generators:
                        if isinstance(gen.target, ast.Name) and gen.target.id == node.id \
                                and isinstance(gen.iter, ast.Name) and gen.iter.id in self.tuples:
                            return self.tuples[gen.iter.id]
                p = self.parents.get(p)
        return None

    # ---- one function (or the module) at a time ----

    def own_nodes(self, scope):
        # the scope's nodes, not those of the functions and classes defined in it
        stack = list(ast.iter_child_nodes(scope))
        while stack:
            node = stack.pop()
            yield node
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                     ast.ClassDef)):
                stack.extend(ast.iter_child_nodes(node))

    def scope(self, scope, outer):
        env = dict(outer)
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = scope.args
            for arg in a.posonlyargs + a.args + a.kwonlyargs:
                env.pop(arg.arg, None)      # a parameter is what its name says
        nodes = list(self.own_nodes(scope))
        assigns = [node for node in nodes if isinstance(node, ast.Assign)
                   and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)]
        # names given a config section, until nothing changes (`a = cfg['x']; b = a['y']`). A
        # name on both sides (`cfg = cfg['camera']`, `x = cfg.get('x', x)`) is read as what it was
        # before this scope assigned it: the scan does not follow the order of statements.
        before = dict(env)
        early = {}   # node of such a right-hand side: the name it reads as it was before
        for node in assigns:
            inside = list(ast.walk(node.value))
            name = node.targets[0].id
            if any(isinstance(n, ast.Name) and n.id == name for n in inside):
                early.update((n, name) for n in inside)

        def env_at(node):
            if node not in early:
                return env
            seen = dict(env)
            seen.pop(early[node], None)
            if early[node] in before:
                seen[early[node]] = before[early[node]]
            return seen

        for _ in range(len(assigns) + 1):
            changed = False
            for node in assigns:
                name = node.targets[0].id
                p = self.path(node.value, env_at(node.value))
                if p is not None and env.get(name) != p:
                    env[name] = p
                    changed = True
            if not changed:
                break
        else:
            raise ValueError('%s: the config names of %s never settle'
                             % (self.filename, getattr(scope, 'name', 'the module')))
        for node in nodes:
            base, keys = self.read(node, env_at(node))
            if base is None:
                continue
            where = '%s:%d' % (self.filename, node.lineno)
            if keys is None:
                self.found.unresolved.append(
                    '%s: %s' % (where, ast.get_source_segment(self.source, node)))
            else:
                for k in keys:
                    self.found.add(base + (k,), where)
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                 ast.ClassDef)):
                self.scope(node, env)


def keys_read(files, found=None):
    """Scan `files` ((name, source) pairs or paths); return a Found."""
    found = Found() if found is None else found
    for f in files:
        if isinstance(f, tuple):
            name, source = f
        else:
            name = str(f)
            with open(f, encoding='utf-8') as fh:
                source = fh.read()
        _Scan(name, source, found).run()
    return found


def leaves(defaults, prefix=()):
    """The key paths of a nested dict's values that are not dicts themselves."""
    out = set()
    for k, v in defaults.items():
        if isinstance(v, dict):
            out |= leaves(v, prefix + (k,))
        else:
            out.add(prefix + (k,))
    return out


def sections(defaults, prefix=()):
    out = set()
    for k, v in defaults.items():
        if isinstance(v, dict):
            out.add(prefix + (k,))
            out |= sections(v, prefix + (k,))
    return out
