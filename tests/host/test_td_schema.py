"""The camera's Thing Description validates against the official W3C TD 1.1 JSON Schema.

The schema comes from the npm package wot-thing-description-types, installed by `make setup`
into .deps/node (never copied into the repository). A missing schema is a failure, not a skip.
"""
import asyncio
import copy
import json
import os

import jsonschema
import pytest
from microdot import Microdot
from microdot.test_client import TestClient

from camdot import config
from camdot.camera import open_camera
from camdot.hub import Hub
from camdot.settings import Settings
from thing_app import FakeStream, install_thing

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA = os.path.join(ROOT, '.deps', 'node', 'node_modules', 'wot-thing-description-types',
                      'schema', 'td-json-schema-validation.json')


@pytest.fixture(scope='module')
def validator():
    if not os.path.exists(SCHEMA):
        pytest.fail('TD JSON Schema missing at %s: run `make setup` (needs npm)' % SCHEMA)
    with open(SCHEMA) as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def fetch_td(tmp_path, host='cam.local:8080', token=''):
    async def run():
        app = Microdot()
        cfg = config.load(None)
        cfg['token'] = token
        cam = open_camera({'backend': 'sim'})
        install_thing(app, Hub(), cam, FakeStream(fps=0), cfg,
                      store=Settings(str(tmp_path / 'settings.json')))
        res = await TestClient(app).get('/.well-known/wot', headers={'Host': host})
        assert res.status_code == 200
        assert res.headers['Content-Type'] == 'application/td+json'
        return json.loads(res.body)
    return asyncio.run(run())


def errors(validator, td):
    return sorted(e.message for e in validator.iter_errors(td))


def test_camera_td_is_valid(validator, tmp_path):
    td = fetch_td(tmp_path)
    assert errors(validator, td) == []
    assert td['@context'] == ['https://www.w3.org/2019/wot/td/v1', 'https://www.w3.org/2022/wot/td/v1.1']
    ws = [f for f in td['forms'] if f.get('subprotocol') == 'webthingprotocol']
    assert ws and ws[0]['href'] == 'ws://cam.local:8080/ws'
    for name, prop in td['properties'].items():
        ops = [op for form in prop['forms'] for op in
               (form['op'] if isinstance(form['op'], list) else [form['op']])]
        assert 'readproperty' in ops, name
        assert ('writeproperty' in ops) != bool(prop.get('readOnly')), name
    for name, action in td['actions'].items():
        assert action['forms'][0] == {'href': 'actions/' + name, 'op': 'invokeaction'}


def test_validator_rejects_a_broken_td(validator, tmp_path):
    # the check above can fail: the same TD, broken in ways the schema forbids
    td = fetch_td(tmp_path)
    for breakage in ('security', 'op', 'type', 'subprotocol'):
        bad = copy.deepcopy(td)
        if breakage == 'security':
            del bad['security']
        elif breakage == 'op':
            bad['properties']['quality']['forms'][0]['op'] = 'frobnicate'
        elif breakage == 'type':
            bad['properties']['quality']['type'] = 'int'
        else:
            bad['forms'][1]['subprotocol'] = 7
        assert errors(validator, bad), breakage


def test_td_with_a_token_announces_bearer_security(validator, tmp_path):
    td = fetch_td(tmp_path, token='s3cret')
    assert errors(validator, td) == []
    assert td['security'] == 'bearer_sc'
    assert td['securityDefinitions']['bearer_sc']['scheme'] == 'bearer'
    assert 's3cret' not in json.dumps(td)
