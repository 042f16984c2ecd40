// Parsing of image `source` strings: local prefix forms and registry references.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseImageSource } from '../../../agent/images/image-source.js';
import { isAgentFailure } from '../../../agent/rpc/failure.js';

describe('image source', () => {
  test('local forms carry an absolute path, colons included', () => {
    assert.deepEqual(parseImageSource('oci-archive:/srv/app.tar'), { kind: 'oci-archive', path: '/srv/app.tar' });
    assert.deepEqual(parseImageSource('docker-archive:/srv/a:b.tar'), { kind: 'docker-archive', path: '/srv/a:b.tar' });
    assert.deepEqual(parseImageSource('rootfs:/srv/rootfs'), { kind: 'rootfs', path: '/srv/rootfs' });
  });

  test('registry references in Docker syntax', () => {
    assert.deepEqual(parseImageSource('busybox'), {
      kind: 'registry',
      reference: 'busybox',
      registry: 'docker.io',
      repository: 'library/busybox',
      tag: 'latest',
    });
    assert.deepEqual(parseImageSource('localhost:5000/team/app:1.2'), {
      kind: 'registry',
      reference: 'localhost:5000/team/app:1.2',
      registry: 'localhost:5000',
      repository: 'team/app',
      tag: '1.2',
    });
    const digest = `sha256:${'b'.repeat(64)}`;
    assert.deepEqual(parseImageSource(`ghcr.io/org/app@${digest}`), {
      kind: 'registry',
      reference: `ghcr.io/org/app@${digest}`,
      registry: 'ghcr.io',
      repository: 'org/app',
      digest,
    });
  });

  test('anything else is E_IMAGE_SOURCE with the reason', () => {
    for (const [source, why] of [
      ['rootfs:', /needs a path/],
      ['oci-archive:app.tar', /needs an absolute path/],
      ['docker://busybox', /not a registry reference .* nor one of oci-archive:/],
      ['Upper/Case', /not a registry reference/],
      ['app@sha256:short', /not a registry reference/],
    ] as const) {
      assert.throws(
        () => parseImageSource(source),
        (e: unknown) => isAgentFailure(e) && e.code === 'E_IMAGE_SOURCE' && why.test(e.message) && e.message.includes(JSON.stringify(source)),
        source,
      );
    }
  });
});
