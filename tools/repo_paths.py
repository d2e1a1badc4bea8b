"""Lets a tool run from anywhere, on either runtime: puts the repo's lib/ and staged .deps/ first.

    import repo_paths  # noqa: F401  (first import of a runnable tool; tools/ is sys.path[0])
"""
import sys

# __file__ is this module's path on both runtimes; there is no os.path on MicroPython.
_root = (__file__.rsplit('/', 1)[0] if '/' in __file__ else '.') + '/..'
for _p in (_root + '/.deps', _root + '/lib'):
    if _p not in sys.path:
        sys.path.insert(0, _p)
if sys.implementation.name == 'micropython' and '.frozen' not in sys.path:
    sys.path.append('.frozen')  # the unix port's frozen asyncio
