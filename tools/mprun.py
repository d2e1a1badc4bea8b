"""The portable test runner: runs tests/portable under the unix-port MicroPython (and CPython).

    .venv/bin/micropython tools/mprun.py tests/portable [-k SUBSTRING] [-v]   (-v: free heap per module)

A portable test module is any `test_*.py` in tests/portable/: plain functions named `test_*`
(sync or `async def`) with plain `assert`, no pytest fixtures. pytest runs the same files on CPython.
Each failure prints its traceback; the last line is `micropython: N passed, N failed` and the exit
status is non-zero on any failure or when no test ran.
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
    names = [n[:-3] for n in os.listdir(folder) if n.startswith('test_') and n.endswith('.py')]
    names.sort()
    return names


def run_test(func):
    result = func()
    # An `async def` test returns a coroutine (a generator object on MicroPython).
    if result is not None and hasattr(result, 'send'):
        asyncio.run(result)


def main(argv):
    folder = 'tests/portable'
    pattern = None
    verbose = False
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == '-k':
            pattern = args.pop(0)
        elif arg == '-v':
            verbose = True
        else:
            folder = arg
    sys.path.insert(0, folder)
    passed = failed = 0
    for name in test_modules(folder):
        loaded = set(sys.modules)
        try:
            module = __import__(name)
        except Exception as exc:
            print('ERROR importing', name)
            print_exception(exc)
            exc = None  # a traceback keeps the failed module's objects alive on MicroPython
            failed += 1
            module = None
        tests = [t for t in sorted(dir(module)) if t.startswith('test_')] if module else []
        for test in tests:
            func = getattr(module, test)
            if not callable(func):
                continue
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
        # Unload the test module and whatever it imported, so each module starts from the same heap:
        # the small-heap run then measures one feature at a time, not the sum of all of them.
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
    print('micropython: %d passed, %d failed' % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
