"""No import circles in lib/camdot (issue 16): read from the source, imports inside functions
included (tools/import_graph.py); and the reading itself finds the circles it must."""
import os
import sys

from servers import ROOT

sys.path.insert(0, os.path.join(ROOT, 'tools'))
import import_graph  # noqa: E402


def test_lib_camdot_has_no_import_circle():
    edges = import_graph.graph()
    assert len(edges) > 30 and 'camdot.websocket.codec' in edges['camdot.websocket.connection']
    assert import_graph.circles(edges) == []


def write(root, files):
    for path, text in files.items():
        path = os.path.join(root, path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(text)


def test_circles_are_found_through_lazy_relative_and_package_imports(tmp_path):
    write(str(tmp_path), {
        'camdot/__init__.py': '',
        'camdot/a.py': 'from camdot import b\n',
        'camdot/b.py': 'def later():\n    from camdot.c import thing\n',       # in a function
        'camdot/c.py': 'import camdot.a\nthing = 1\n',
        'camdot/pkg/__init__.py': 'from camdot.pkg.low import x\n',
        'camdot/pkg/low.py': 'x = 1\n',                        # its package's __init__: not a circle
        'camdot/pkg/up.py': 'from . import low\nfrom camdot.pkg import x\n',   # explicit: counted
        'camdot/pkg/down.py': 'from .. import pkg\n',
        'camdot/d.py': 'from .e import y\n',
        'camdot/e.py': 'y = 1\n',
    })
    edges = import_graph.graph(str(tmp_path))
    assert edges['camdot.pkg.up'] == ['camdot.pkg', 'camdot.pkg.low']
    assert edges['camdot.pkg.down'] == ['camdot.pkg']
    assert edges['camdot.d'] == ['camdot.e'] and edges['camdot.pkg.low'] == []
    assert import_graph.circles(edges) == [['camdot.a', 'camdot.b', 'camdot.c']]
    # the package's __init__ importing up (lazily) makes a circle with up's import of the package
    write(str(tmp_path), {'camdot/pkg/__init__.py': 'def f():\n    from camdot.pkg import up\n'})
    assert import_graph.circles(import_graph.graph(str(tmp_path))) == [
        ['camdot.a', 'camdot.b', 'camdot.c'], ['camdot.pkg', 'camdot.pkg.up']]
