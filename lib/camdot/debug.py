"""Debug routes, off by default ("debug": true in the config).

    from camdot import debug
    debug.install(app)       # after limits.install: GET /debug/heap

GET /debug/heap answers the free and allocated heap (after a collection) and the connection
budget's counters (camdot.limits); the soak test reads it.
"""
import gc

from camdot.compat import mem_alloc, mem_free


def install(app):
    lim = app.limits

    @app.get('/debug/heap')
    async def heap(request):
        gc.collect()
        return {'free': mem_free(), 'alloc': mem_alloc(), 'conns': len(lim.conns),
                'requests': lim.requests, 'viewers': lim.viewers, 'sockets': lim.sockets,
                'dropped': lim.dropped, 'refused': lim.refused}
