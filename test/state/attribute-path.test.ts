import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatAttrPath, parseAttrPath, resolveAttrPath } from '../../state/attribute-path.js';

describe('attribute paths', () => {
  test('parse and format are inverse', () => {
    for (const s of ['password', 'env.TOKEN', 'mount[0].source', 'extra_hosts["db.local"]', 'a["x y"][2].b']) {
      const p = parseAttrPath(s);
      assert.ok(p, s);
      assert.equal(formatAttrPath(p), s);
    }
    assert.deepEqual(parseAttrPath('mount[0].source'), ['mount', 0, 'source']);
  });

  test('parse rejects malformed paths', () => {
    for (const s of ['', '.a', 'a..b', 'a[', 'a[x]', 'a b']) assert.equal(parseAttrPath(s), undefined, s);
  });

  test('resolve finds keys that hold dots or odd characters', () => {
    const attrs = { extra_hosts: { 'db.local': 'x' }, ports: { '8080/tcp': 1 }, mount: [{ source: 's' }] };
    assert.deepEqual(resolveAttrPath(attrs, 'extra_hosts.db.local'), ['extra_hosts', 'db.local']);
    assert.deepEqual(resolveAttrPath(attrs, 'ports.8080/tcp'), ['ports', '8080/tcp']);
    assert.deepEqual(resolveAttrPath(attrs, 'mount.0.source'), ['mount', 0, 'source']);
    assert.deepEqual(resolveAttrPath(attrs, 'mount[0].source'), ['mount', 0, 'source']);
    assert.equal(resolveAttrPath(attrs, 'nope.x'), undefined);
  });
});
