"""The relay's hub topics, in one place: the ingest publishes them, edges subscribe to them.

    relay/<board>/frame             retained  bytes: the newest JPEG (with its camdot comment)
    relay/<board>/state             retained  {"state": "online"|"connecting"|"reconnecting"|
                                              "error", "detail", "kind", "t", "retry_s"}
    relay/<board>/td                retained  the board's Thing Description as the board serves it
    relay/<board>/properties        retained  {name: value} of every property (the shadow)
    relay/<board>/thing/property/<name>       a property changed (plain)
    relay/<board>/thing/event/<name>          an event (plain)
    relay/<board>/request                     an edge's request for the board (plain)
    relay/reply/<edge>                        the answer (plain)
"""
import re

NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$')
# names that would shadow the edge's own routes
RESERVED = ('login', 'logout', 'boards', 'favicon.ico', 'health')


def check_name(name):
    """A board name as it appears in URLs and topics (ValueError otherwise)."""
    if not NAME.match(name or '') or name in RESERVED:
        raise ValueError('a board name is 1-40 letters, digits, "_", "." or "-" (and not one '
                         'of %s): %r' % (', '.join(RESERVED), name))
    return name


def frame(board):
    return 'relay/%s/frame' % board


def state(board):
    return 'relay/%s/state' % board


def td(board):
    return 'relay/%s/td' % board


def properties(board):
    return 'relay/%s/properties' % board


def thing(board):
    """The filter of a board's property changes and events (what a Web Thing Protocol session
    reads: '.../property/<name>' and '.../event/<name>')."""
    return 'relay/%s/thing/#' % board


def property_changed(board, name):
    return 'relay/%s/thing/property/%s' % (board, name)


def event(board, name):
    return 'relay/%s/thing/event/%s' % (board, name)


def request(board):
    return 'relay/%s/request' % board


def reply(edge):
    return 'relay/reply/%s' % edge
