"""The camdot relay: any number of viewers of many boards, each board seeing one viewer.

    .venv/bin/python tools/relay.py --board porch=http://192.168.1.20 [--port 8090]
        [--redis redis://127.0.0.1:6379] [--role all|ingest|edge] [--token T]

(`make relay BOARD=porch=http://...` does the first.) See docs/relay.md and `--help`.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(os.path.dirname(HERE), 'lib'), HERE]

from camdot_relay.main import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
