"""The board's Thing Description as the edge serves it: every form points at the edge (the W3C
WoT Intermediary), security is the relay's.

    td = intermediary_td(board_td, 'http://relay:8090/porch/', 'ws://relay:8090/porch/ws',
                         token_required=True)

HTTP forms are made relative to the new `base` (properties/NAME, actions/NAME); Web Thing
Protocol forms (subprotocol webthingprotocol, or any ws:// href) point at the edge's /ws for the
board. The board's id is kept: a consumer talks to the same Thing, through the relay.
"""
import copy

WTP = 'webthingprotocol'


def _form(form, base_path, ws):
    href = form.get('href', '')
    if form.get('subprotocol') == WTP or href.startswith(('ws://', 'wss://')):
        form['href'] = ws
        return
    if '://' in href:
        # absolute: keep the path below the board's root, relative to the new base
        path = href.split('://', 1)[1].partition('/')[2]
        if base_path and path.startswith(base_path):
            path = path[len(base_path):]
        form['href'] = path
    elif href.startswith('/'):
        form['href'] = href.lstrip('/')


def intermediary_td(td, base, ws, token_required=False):
    out = copy.deepcopy(td)
    old_base = td.get('base') or ''
    base_path = old_base.split('://', 1)[1].partition('/')[2] if '://' in old_base else ''
    out['base'] = base
    for form in out.get('forms') or ():
        _form(form, base_path, ws)
    for section in ('properties', 'actions', 'events'):
        for aff in (out.get(section) or {}).values():
            for form in aff.get('forms') or ():
                _form(form, base_path, ws)
    if token_required:
        out['securityDefinitions'] = {'bearer_sc': {'scheme': 'bearer', 'in': 'header',
                                                    'name': 'Authorization'}}
        out['security'] = 'bearer_sc'
    else:
        out['securityDefinitions'] = {'nosec_sc': {'scheme': 'nosec'}}
        out['security'] = 'nosec_sc'
    return out
