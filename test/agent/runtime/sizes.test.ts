import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSize, parseSize, SizeFormatError, tryParseSize } from '../../../agent/runtime/sizes.js';

describe('sizes', () => {
  it('parses binary units and plain bytes', () => {
    assert.equal(parseSize('512K'), 512 * 1024);
    assert.equal(parseSize('200M'), 200 * 1024 ** 2);
    assert.equal(parseSize('10G'), 10 * 1024 ** 3);
    assert.equal(parseSize('1T'), 1024 ** 4);
    assert.equal(parseSize('1P'), 1024 ** 5);
    assert.equal(parseSize('4096'), 4096);
    assert.equal(parseSize(4096), 4096);
    assert.equal(parseSize('0'), 0);
  });

  it('accepts lower case, spaces, a B or iB suffix and exact fractions', () => {
    assert.equal(parseSize('64m'), 64 * 1024 ** 2);
    assert.equal(parseSize(' 64 M '), 64 * 1024 ** 2);
    assert.equal(parseSize('200MiB'), 200 * 1024 ** 2);
    assert.equal(parseSize('200MB'), 200 * 1024 ** 2);
    assert.equal(parseSize('1.5G'), 1536 * 1024 ** 2);
    assert.equal(parseSize('0.5K'), 512);
  });

  it('refuses what is not a whole number of bytes', () => {
    for (const bad of ['', 'M', '12X', '-1', '1.1G', '0.3K', '1e3', '10 GB extra', '1.5']) {
      assert.equal(tryParseSize(bad), undefined, bad);
      assert.throws(
        () => parseSize(bad),
        (e: unknown) => e instanceof SizeFormatError && e.message.includes(JSON.stringify(bad)),
      );
    }
    assert.equal(tryParseSize(1.5), undefined);
    assert.equal(tryParseSize(-1), undefined);
    assert.equal(tryParseSize('9P'), undefined, 'beyond Number.MAX_SAFE_INTEGER');
  });

  it('formats in the largest exact unit and parses back', () => {
    assert.equal(formatSize(209715200), '200M');
    assert.equal(formatSize(1536 * 1024 ** 2), '1536M');
    assert.equal(formatSize(1000), '1000');
    assert.equal(formatSize(0), '0');
    assert.equal(formatSize(1024 ** 4), '1T');
    for (const n of [0, 1, 1023, 1024, 4096, 1536 * 1024 ** 2, 10 * 1024 ** 3 + 1, 3 * 1024 ** 5]) assert.equal(parseSize(formatSize(n)), n);
  });

  it('formats approximately for display', () => {
    assert.equal(formatSize(1536 * 1024 ** 2, { approximate: true }), '1.5G');
    assert.equal(formatSize(1000, { approximate: true }), '1000');
    assert.equal(formatSize(12 * 1024 ** 2 + 300 * 1024, { approximate: true }), '12.3M');
    assert.equal(formatSize(1024 ** 3, { approximate: true }), '1G');
  });
});
