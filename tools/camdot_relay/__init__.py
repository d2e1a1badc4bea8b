"""camdot relay: boards -> ingest -> hub (in memory, or Redis across processes) -> edges -> viewers.

Host side only (CPython); nothing here goes to a board. `tools/relay.py` is the program; the map
of modules is in docs/relay.md.
"""
