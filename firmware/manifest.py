# The camdot firmware's frozen modules: MicroPython's ESP32 set, microdot and camdot, compiled to
# bytecode (and native code for @micropython.viper) for the port and run from flash: almost no RAM.
# Used by firmware/build.sh through the board definition in boards/CAMDOT_AI_THINKER.
# Paths are relative to this file. Run `make setup` first: it stages microdot into .deps/.
include("$(PORT_DIR)/boards/manifest.py")

# microdot 2.7.0 (pinned in requirements.txt, staged by tools/stage_deps.py), test_client too:
# camdot.test_client builds on it.
package(
    "microdot",
    files=[
        "__init__.py", "auth.py", "cors.py", "csrf.py", "helpers.py", "login.py", "microdot.py",
        "multipart.py", "session.py", "sse.py", "test_client.py", "utemplate.py", "websocket.py",
    ],
    base_path="../.deps",
)

# camdot: every .py of lib/camdot (the device page assets in lib/camdot/www are not Python: `make
# deploy` puts them on the filesystem).
package("camdot", base_path="../lib")
