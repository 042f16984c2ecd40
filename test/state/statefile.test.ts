import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StateKey } from '../../state/encryption.js';
import { parseStateFile, serializeState, upgradeStateDocument, type StateDocument } from '../../state/statefile.js';
import { SAMPLE_SECRETS, sampleState } from './sample-state.js';

const FILE = '/srv/cfg/.tsinfra/state.json';

async function parseOk(text: string, key?: StateKey) {
  const r = await parseStateFile(text, FILE, { key });
  assert.deepEqual(r.diagnostics, []);
  assert.ok(r.value);
  return r.value;
}

async function parseErr(text: string, key?: StateKey) {
  const r = await parseStateFile(text, FILE, { key });
  assert.equal(r.value, undefined);
  assert.equal(r.diagnostics.length, 1);
  return r.diagnostics[0]!;
}

describe('state file', () => {
  test('round trip keeps everything', async () => {
    const s = sampleState();
    s.serial = 7;
    const text = await serializeState(s);
    assert.deepEqual(await parseOk(text), s);
    assert.ok(text.endsWith('}\n'));
    assert.deepEqual(Object.keys(JSON.parse(text)), ['version', 'serial', 'lineage', 'tsinfraVersion', 'resources', 'outputs']);
  });

  test('without a key sensitive values are stored in clear', async () => {
    const text = await serializeState(sampleState());
    for (const secret of SAMPLE_SECRETS) assert.ok(text.includes(secret), secret);
    assert.ok(!text.includes('$encrypted'));
  });

  test('refuses a file from a newer tsinfra', async () => {
    const doc = JSON.parse(await serializeState(sampleState()));
    doc.version = 2;
    const d = await parseErr(JSON.stringify(doc));
    assert.equal(d.code, 'E_STATE_VERSION_TOO_NEW');
    assert.ok(d.summary.includes(FILE));
    assert.match(d.summary, /version 2.*up to version 1/);
  });

  test('the upgrade chain runs step by step up to the current version', () => {
    const seen: number[] = [];
    const chain = {
      1: (d: StateDocument) => (seen.push(d.version), { ...d, version: 2, added: 'by v1->v2' }),
      2: (d: StateDocument) => (seen.push(d.version), { ...d, version: 3 }),
    };
    const r = upgradeStateDocument({ version: 1, serial: 1 }, FILE, 3, chain);
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.value, { version: 3, serial: 1, added: 'by v1->v2' });
    assert.deepEqual(seen, [1, 2]);
    const gap = upgradeStateDocument({ version: 1 }, FILE, 3, { 1: chain[1] });
    assert.equal(gap.diagnostics[0]?.code, 'E_STATE_VERSION_UNSUPPORTED');
  });

  test('a corrupted file is rejected with a message naming the file and the field', async () => {
    const doc = JSON.parse(await serializeState(sampleState()));
    doc.resources[1].status = 'exploded';
    delete doc.resources[0].host;
    const d = await parseErr(JSON.stringify(doc));
    assert.equal(d.code, 'E_STATE_INVALID');
    assert.ok(d.summary.includes(FILE));
    assert.match(d.detail ?? '', /resources\[1\]\.status/);
    assert.match(d.detail ?? '', /resources\[0\]\.host/);
  });

  test('not JSON, not an object, no version, duplicate or inconsistent addresses are rejected', async () => {
    assert.equal((await parseErr('{"version": 1, "serial":')).code, 'E_STATE_INVALID');
    assert.equal((await parseErr('[1,2]')).code, 'E_STATE_INVALID');
    assert.match((await parseErr('{"serial": 1}')).detail ?? '', /at version/);
    const doc = JSON.parse(await serializeState(sampleState()));
    doc.resources.push(doc.resources[0]);
    assert.match((await parseErr(JSON.stringify(doc))).detail ?? '', /duplicate address/);
    doc.resources.pop();
    doc.resources[0].name = 'other';
    assert.match((await parseErr(JSON.stringify(doc))).detail ?? '', /does not match type, name and index/);
  });

  describe('with TSINFRA_STATE_KEY', () => {
    test('sensitive values are encrypted in the file and decrypted on read', async () => {
      const s = sampleState();
      const text = await serializeState(s, { key: new StateKey('correct horse') });
      for (const secret of SAMPLE_SECRETS) assert.ok(!text.includes(secret), `${secret} in clear`);
      const doc = JSON.parse(text);
      assert.equal(doc.encryption.cipher, 'aes-256-gcm');
      const web = doc.resources.find((r: { address: string }) => r.address === 'container.web["a"]');
      assert.equal(web.attributes.env.TZ, 'UTC', 'non-sensitive values stay readable');
      assert.equal(typeof web.attributes.env.TOKEN.$encrypted, 'string');
      assert.equal(typeof doc.outputs.db_password.value.$encrypted, 'string');
      assert.equal(doc.outputs.web_ip.value, '172.18.0.10');
      // A new key object derives the key again from the file's salt.
      assert.deepEqual(await parseOk(text, new StateKey('correct horse')), s);
    });

    test('a wrong key fails clearly', async () => {
      const text = await serializeState(sampleState(), { key: new StateKey('right') });
      const d = await parseErr(text, new StateKey('wrong'));
      assert.equal(d.code, 'E_STATE_DECRYPT');
      assert.ok(d.summary.includes(FILE));
      assert.match(d.summary, /TSINFRA_STATE_KEY/);
    });

    test('no key for an encrypted file fails clearly', async () => {
      const text = await serializeState(sampleState(), { key: new StateKey('right') });
      const d = await parseErr(text);
      assert.equal(d.code, 'E_STATE_KEY_REQUIRED');
      assert.match(d.summary, /TSINFRA_STATE_KEY/);
    });

    test('ciphertexts are bound to their place in the file', async () => {
      const key = new StateKey('k');
      const doc = JSON.parse(await serializeState(sampleState(), { key }));
      const web = doc.resources.find((r: { address: string }) => r.address === 'container.web["a"]');
      [web.attributes.password, web.attributes.env.TOKEN] = [web.attributes.env.TOKEN, web.attributes.password];
      assert.equal((await parseErr(JSON.stringify(doc), key)).code, 'E_STATE_DECRYPT');
    });

    test('an encrypted value in a file without an encryption header is rejected', async () => {
      const doc = JSON.parse(await serializeState(sampleState(), { key: new StateKey('k') }));
      delete doc.encryption;
      assert.equal((await parseErr(JSON.stringify(doc))).code, 'E_STATE_INVALID');
    });
  });
});
