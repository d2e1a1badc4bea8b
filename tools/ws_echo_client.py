"""WebSocket echo client for Autobahn's fuzzingserver (the testee-client convention), either runtime.

    .venv/bin/kosoku -m fuzzingserver -o reports/autobahn-client 127.0.0.1:9001 &
    .venv/bin/micropython tools/ws_echo_client.py ws://127.0.0.1:9001 [--agent camdot]

Asks /getCaseCount, then for each case opens /runCase?case=N&agent=A with camdot.websocket's
connect() and echoes every message (text as text, binary as binary) until the server closes,
then asks /updateReports?agent=A. Messages of any size are taken (max_message_length=0: the
cases go up to 16 MiB). Prints one line per case and its close code.
"""
import sys

import repo_paths  # noqa: E402,F401  (lib/ and .deps/ first)

import asyncio  # noqa: E402

from camdot.websocket import WebSocketError, connect  # noqa: E402


async def echo_case(url):
    ws = await connect(url, max_message_length=0, timeout=30)
    try:
        while True:
            await ws.send(await ws.receive())
    except WebSocketError:
        pass
    await ws.close()            # (already closed: waits for the server's end of TCP)
    return ws.close_code


async def main(base, agent):
    ws = await connect(base + '/getCaseCount', timeout=30)
    count = int(await ws.receive())
    await ws.close()
    print('ws_echo_client: %d cases' % count)
    for case in range(1, count + 1):
        code = await echo_case('%s/runCase?case=%d&agent=%s' % (base, case, agent))
        print('case %d: close %s' % (case, code))
    ws = await connect('%s/updateReports?agent=%s' % (base, agent), timeout=30)
    try:
        await ws.receive()
    except WebSocketError:
        pass
    await ws.close()
    print('ws_echo_client: reports updated')


if __name__ == '__main__':
    args = sys.argv[1:]
    agent = 'camdot'
    if '--agent' in args:
        i = args.index('--agent')
        agent = args[i + 1]
        del args[i:i + 2]
    if len(args) != 1:
        print(__doc__)
        sys.exit(2)
    asyncio.run(main(args[0].rstrip('/'), agent))
