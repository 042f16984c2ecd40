// The `image` provider: schema, check diagnostics, and plan (computed attributes).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { changedAttributes } from '../../plan-engine/plan/diff.js';
import { UNKNOWN, type ValueObject } from '../../plan-engine/values.js';
import { imageProvider } from '../../providers/image.js';

const ctx = { address: 'image.app', name: 'app', instanceKey: undefined, host: 'host.local' };
const check = (config: ValueObject) => imageProvider.check!(config, ctx);

describe('image provider', () => {
  test('schema: source required, the registry options typed, platform os/arch[/variant], nothing else', () => {
    const ok = imageProvider.schema.safeParse({ source: 'oci-archive:/srv/app.tar', platform: 'linux/arm64/v8', insecure: true, username: 'u', password: 'p' });
    assert.ok(ok.success);
    const issues = (v: unknown) => {
      const r = imageProvider.schema.safeParse(v);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.code}`);
    };
    assert.deepEqual(issues({}), ['source: invalid_type']);
    assert.deepEqual(issues({ source: '' }), ['source: too_small']);
    assert.deepEqual(issues({ source: 'rootfs:/x', platform: 'amd64' }), ['platform: invalid_format']);
    assert.deepEqual(issues({ source: 'rootfs:/x', insecure: 'yes' }), ['insecure: invalid_type']);
    assert.deepEqual(issues({ source: 'rootfs:/x', tag: 'latest' }), [': unrecognized_keys']);
    assert.deepEqual(imageProvider.sensitive, ['password']);
    assert.deepEqual(imageProvider.updatable, []);
    assert.ok(imageProvider.computed.includes('id') && imageProvider.computed.includes('digest'));
  });

  test('check: local sources pass; registry sources say which forms work', () => {
    for (const source of ['oci-archive:/srv/app.tar', 'docker-archive:/srv/app.tar', 'rootfs:/srv/rootfs']) assert.deepEqual(check({ source }), [], source);
    for (const source of ['nginx', 'nginx:1.27', 'registry.example.com:5000/team/app:1.0', `ghcr.io/o/app@sha256:${'a'.repeat(64)}`]) {
      const [d, ...rest] = check({ source });
      assert.equal(rest.length, 0);
      assert.equal(d!.code, 'E_UNSUPPORTED', source);
      assert.deepEqual(d!.path, ['source']);
      assert.match(d!.detail!, /oci-archive:\/path\/to\/image\.tar, docker-archive:\/path\/to\/image\.tar or rootfs:\/path\/to\/directory/);
    }
  });

  test('check: local sources need absolute paths; malformed references are named', () => {
    const [rel] = check({ source: 'rootfs:images/app' });
    assert.equal(rel!.code, 'E_INVALID_IMAGE_SOURCE');
    assert.deepEqual(rel!.path, ['source']);
    assert.match(rel!.detail!, /rootfs: needs an absolute path/);
    assert.match(check({ source: 'oci-archive:' })[0]!.detail!, /needs a path/);
    assert.match(check({ source: 'docker-archive:./app.tar' })[0]!.detail!, /absolute path/);
    const [bad] = check({ source: 'Not A Reference!' });
    assert.equal(bad!.code, 'E_INVALID_IMAGE_SOURCE');
    assert.match(bad!.summary, /"Not A Reference!"/);
    assert.deepEqual(check({ source: UNKNOWN as never }), [], 'unknown until apply: nothing to say yet');
  });

  test('check: registry options on a local source are a warning', () => {
    const diags = check({ source: 'rootfs:/srv/r', username: 'u', password: 'p' });
    assert.deepEqual(
      diags.map((d) => [d.severity, d.path.join('.')]),
      [
        ['warning', 'username'],
        ['warning', 'password'],
      ],
    );
  });

  test('plan: id and digest unknown on create, kept from prior; a changed source digest forces replacement', () => {
    const created = imageProvider.plan({ source: 'oci-archive:/srv/app.tar' }, null, ctx);
    assert.deepEqual(created, {
      source: 'oci-archive:/srv/app.tar',
      insecure: false,
      username: null,
      password: null,
      platform: null,
      id: UNKNOWN,
      digest: UNKNOWN,
      source_digest: UNKNOWN,
    });
    const prior: ValueObject = { ...created, id: 'sha256:1', digest: 'sha256:2', source_digest: 'sha256:2' };
    const same = imageProvider.plan({ source: 'oci-archive:/srv/app.tar' }, prior, ctx);
    assert.deepEqual(same, prior);
    assert.deepEqual(changedAttributes(prior, same, imageProvider), []);
    // Refresh saw the archive resolve to another digest.
    const drifted = { ...prior, source_digest: 'sha256:3' };
    assert.deepEqual(changedAttributes(drifted, imageProvider.plan({ source: 'oci-archive:/srv/app.tar' }, drifted, ctx), imageProvider), ['source_digest']);
    // A new source replaces too.
    assert.deepEqual(changedAttributes(prior, imageProvider.plan({ source: 'oci-archive:/srv/other.tar' }, prior, ctx), imageProvider), ['source']);
  });
});
