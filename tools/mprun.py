"""The portable test runner: runs tests/portable under the unix-port MicroPython (and CPython).

    .venv/bin/micropython tools/mprun.py tests/portable [-k SUBSTRING] [-v]
    .venv/bin/micropython tools/mprun.py tests/portable/test_hub_topics.py [...]   # those only
    .venv/bin/micropython tools/mprun.py --heap 256K tests/portable

A portable test module is any `test_*.py` in tests/portable/: plain functions named `test_*`
(sync or `async def`) with plain `assert`, no pytest fixtures. pytest runs the same files on CPython.
Each failure prints its traceback; the last line is `micropython: N passed, N failed` and the exit
status is non-zero on any failure or when no test ran; a module with no `test_*` function fails.

`--heap SIZE` runs each module in a fresh `micropython -X heapsize=SIZE` process: every feature must
fit that heap on its own, without the fragmentation that the modules before it left (loaded modules'
interned names are never freed). `-v` prints the free heap after each module.
"""
import gc
import os
import sys

try:
    import asyncio
except ImportError:  # pragma: no cover - every supported runtime has asyncio
    asyncio = None


def print_exception(exc):
    if hasattr(sys, 'print_exception'):
        sys.print_exception(exc)
    else:
        import traceback
        traceback.print_exception(type(exc), exc, exc.__traceback__)


def test_modules(folder):
    names = [n[:n.rindex('.')] for n in os.listdir(folder)
             if n.startswith('test_') and (n.endswith('.py') or n.endswith('.mpy'))]
    names.sort()
    return names


def run_test(func):
    result = func()
    # An `async def` test returns a coroutine (a generator object on MicroPython).
    if result is not None and hasattr(result, 'send'):
        asyncio.run(result)


def run_module(name, pattern, verbose):
    """Run one module's tests; return (passed, failed). Unloads what the module imported."""
    passed = failed = 0
    loaded = set(sys.modules)
    try:
        module = __import__(name)
    except Exception as exc:
        print('ERROR importing', name)
        print_exception(exc)
        exc = None  # a traceback keeps the failed module's objects alive on MicroPython
        failed += 1
        module = None
    tests = [t for t in sorted(dir(module)) if t.startswith('test_') and
             callable(getattr(module, t))] if module else []
    if module is not None and not tests:
        # A test module without tests is a mistake (a rename, a bad indent): never a silent pass.
        print('ERROR', name, 'has no test_* functions')
        failed += 1
    for test in tests:
        func = getattr(module, test)
        label = name + '.' + test
        if pattern and pattern not in label:
            continue
        gc.collect()
        try:
            run_test(func)
        except Exception as exc:
            failed += 1
            print('FAIL', label)
            print_exception(exc)
            exc = None
        else:
            passed += 1
            print('ok  ', label)
    # Unload the test module and whatever it imported, so each module starts from the same heap.
    for mod in [m for m in sys.modules if m not in loaded]:
        del sys.modules[mod]
    module = func = None
    # MicroPython's asyncio.run leaves unfinished tasks (servers, readers) in the global queue,
    # where they pin everything they reference; a new loop drops them.
    if asyncio is not None and hasattr(asyncio, 'new_event_loop'):
        asyncio.new_event_loop()
    gc.collect()
    if verbose and hasattr(gc, 'mem_free'):
        print('heap after %s: %d free' % (name, gc.mem_free()))
    return passed, failed


def run_isolated(folder, name, heap, pattern, verbose, results):
    """Run one module in a fresh process with a heap of `heap`; return (passed, failed)."""
    cmd = '%s -X heapsize=%s %s --one %s --results %s' % (
        sys.executable, heap, sys.argv[0], name, results)
    if pattern:
        cmd += " -k '%s'" % pattern
    if verbose:
        cmd += ' -v'
    try:
        os.remove(results)
    except OSError:
        pass
    status = os.system(cmd + ' ' + folder)
    try:
        with open(results) as f:
            passed, failed = [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        print('ERROR', name, 'crashed (exit status %s)' % status)
        return 0, 1
    return passed, failed


def main(argv):
    folder = 'tests/portable'
    pattern = heap = one = results = None
    verbose = False
    only = []   # test files named on the command line: those modules only
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == '-k':
            pattern = args.pop(0)
        elif arg == '-v':
            verbose = True
        elif arg == '--heap':
            heap = args.pop(0)
        elif arg == '--one':
            one = args.pop(0)
        elif arg == '--results':
            results = args.pop(0)
        elif arg.endswith('.py'):   # tests/portable/test_x.py: that module of its folder
            folder, _, name = arg.rpartition('/')
            folder = folder or '.'
            only.append(name[:-3])
        else:
            folder = arg
    sys.path.insert(0, folder)
    if one:  # a child of --heap: one module, counts to the results file
        counts = run_module(one, pattern, verbose)
        with open(results, 'w') as f:
            f.write('%d %d' % counts)
        return 0
    passed = failed = 0
    import binascii
    scratch = '%s/camdot-mprun-%s' % (os.getenv('TMPDIR') or '/tmp',
                                      binascii.hexlify(os.urandom(6)).decode())
    for name in test_modules(folder):
        if only and name not in only:
            continue
        if heap:
            p, f = run_isolated(folder, name, heap, pattern, verbose, scratch)
        else:
            p, f = run_module(name, pattern, verbose)
        passed += p
        failed += f
    if heap:
        try:
            os.remove(scratch)
        except OSError:
            pass
    print('micropython: %d passed, %d failed' % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
