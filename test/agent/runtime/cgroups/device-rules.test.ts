import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_DEVICE_RULES } from '../../../../agent/runtime/cgroups/cgroup-manager.js';
import { canonicalRuleLines, formatDeviceRule, validateDeviceRule } from '../../../../agent/runtime/cgroups/device-rules.js';

describe('device rules', () => {
  it("has runc's default allow-list", () => {
    const lines = DEFAULT_DEVICE_RULES.map(formatDeviceRule);
    for (const expected of [
      'c *:* m',
      'b *:* m',
      'c 1:3 rwm',
      'c 1:5 rwm',
      'c 1:7 rwm',
      'c 1:8 rwm',
      'c 1:9 rwm',
      'c 5:0 rwm',
      'c 5:1 rwm',
      'c 5:2 rwm',
      'c 136:* rwm',
      'c 10:200 rwm',
    ]) {
      assert.ok(lines.includes(expected), expected);
    }
    assert.equal(lines.length, 12);
    for (const rule of DEFAULT_DEVICE_RULES) validateDeviceRule(rule);
  });

  it('writes access in the kernel order and merges rules for one device as the kernel does', () => {
    assert.equal(formatDeviceRule({ type: 'c', major: 1, minor: 3, access: 'mwr' }), 'c 1:3 rwm');
    assert.deepEqual(
      canonicalRuleLines([
        { type: 'c', major: 1, minor: 3, access: 'r' },
        { type: 'b', major: 8, minor: '*', access: 'm' },
        { type: 'c', major: 1, minor: 3, access: 'w' },
      ]),
      ['b 8:* m', 'c 1:3 rw'],
    );
  });

  it('refuses rules v1 and v2 would read differently', () => {
    const invalid = (rule: Parameters<typeof validateDeviceRule>[0]) => assert.throws(() => validateDeviceRule(rule), { code: 'E_CGROUP_INVALID' });
    invalid({ type: 'a', major: 1, minor: 3, access: 'rwm' });
    invalid({ type: 'a', major: '*', minor: '*', access: 'r' });
    invalid({ type: 'c', major: 1, minor: 3, access: '' });
    invalid({ type: 'c', major: 1, minor: 3, access: 'rx' });
    invalid({ type: 'c', major: 1, minor: 3, access: 'rr' });
    invalid({ type: 'c', major: -1, minor: 3, access: 'r' });
    invalid({ type: 'x' as 'c', major: 1, minor: 3, access: 'r' });
  });
});
