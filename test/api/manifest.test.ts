import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expr, hcl, Manifest, ref } from '../../api/index.js';
import type { DocumentBlock } from '../../api/manifest-document.js';
import { documentOf } from '../../api/manifest.js';
import { refToRaw } from '../../api/raw-value.js';

/** A block without its call site, nested blocks likewise, as plain comparable data. */
function shape(b: DocumentBlock): unknown {
  return { type: b.type, labels: b.labels, attributes: Object.fromEntries(b.attributes), blocks: b.blocks.map(shape) };
}

function blocks(m: Manifest): unknown[] {
  return documentOf(m).blocks.map(shape);
}

describe('Manifest records each declaration as an HCL block', () => {
  test('variable: type as hcl2json writes it, validation blocks, condition functions get the variable', () => {
    const m = new Manifest();
    const count = m.variable('web_count', {
      type: 'number',
      default: 2,
      sensitive: false,
      validation: [{ condition: (v) => hcl`${v} <= 10`, error_message: 'At most 10 web containers.' }],
    });
    m.variable('anything');
    assert.deepEqual(blocks(m), [
      {
        type: 'variable',
        labels: ['web_count'],
        attributes: { type: '${number}', default: 2, sensitive: false },
        blocks: [
          {
            type: 'validation',
            labels: [],
            attributes: { condition: '${var.web_count <= 10}', error_message: 'At most 10 web containers.' },
            blocks: [],
          },
        ],
      },
      { type: 'variable', labels: ['anything'], attributes: {}, blocks: [] },
    ]);
    assert.equal(refToRaw(count), '${var.web_count}');
  });

  test('locals and local return references', () => {
    const m = new Manifest();
    const { a, b } = m.locals({ a: 1, b: ['x'], skipped: undefined });
    const c = m.local('c', a);
    assert.deepEqual(blocks(m), [
      { type: 'locals', labels: [], attributes: { a: 1, b: ['x'] }, blocks: [] },
      { type: 'locals', labels: [], attributes: { c: '${local.a}' }, blocks: [] },
    ]);
    assert.deepEqual([a, b, c].map(refToRaw), ['${local.a}', '${local.b}', '${local.c}']);
  });

  test('host with meta-arguments; a for_each array is a set', () => {
    const m = new Manifest();
    const bastion = m.host('bastion', { address: '10.0.0.1' });
    m.host('web', { for_each: ['a', 'b'], address: expr`10.0.0.${ref.eachKey}`, jump_host: bastion, depends_on: [bastion] });
    assert.deepEqual(blocks(m)[1], {
      type: 'host',
      labels: ['web'],
      attributes: {
        for_each: '${toset(["a", "b"])}',
        address: '10.0.0.${each.key}',
        jump_host: '${host.bastion}',
        depends_on: ['${host.bastion}'],
      },
      blocks: [],
    });
  });

  test('resource: nested blocks from the type, single or repeated; lifecycle', () => {
    const m = new Manifest();
    const h = ref.host('h');
    m.resource('container', 'web', {
      host: h,
      image: 'x',
      network: { id: 'n1' },
      port: [
        { host_port: 8080, container_port: 80 },
        { host_port: 8443, container_port: 443 },
      ],
      resources: { memory: '1G' },
      env: { A: 'b' },
      lifecycle: { create_before_destroy: true, ignore_changes: 'all' },
    });
    m.resource('logical_volume', 'data', { host: h, volume_group: 'vg', size: '100%FREE', filesystem: { type: 'xfs' } });
    const [web, lv] = blocks(m);
    assert.deepEqual(web, {
      type: 'resource',
      labels: ['container', 'web'],
      attributes: { host: '${host.h}', image: 'x', env: { A: 'b' } },
      blocks: [
        { type: 'network', labels: [], attributes: { id: 'n1' }, blocks: [] },
        { type: 'port', labels: [], attributes: { host_port: 8080, container_port: 80 }, blocks: [] },
        { type: 'port', labels: [], attributes: { host_port: 8443, container_port: 443 }, blocks: [] },
        { type: 'resources', labels: [], attributes: { memory: '1G' }, blocks: [] },
        { type: 'lifecycle', labels: [], attributes: { create_before_destroy: true, ignore_changes: '${all}' }, blocks: [] },
      ],
    });
    assert.deepEqual(lv, {
      type: 'resource',
      labels: ['logical_volume', 'data'],
      attributes: { host: '${host.h}', volume_group: 'vg', size: '100%FREE' },
      blocks: [{ type: 'filesystem', labels: [], attributes: { type: 'xfs' }, blocks: [] }],
    });
  });

  test('overlay_network needs no host; tsinfra_data takes any value', () => {
    const m = new Manifest();
    m.resource('overlay_network', 'ov', { hosts: [ref.host('a'), ref.host('b')], subnet: '10.9.0.0/16' });
    const d = m.resource('tsinfra_data', 'd', { host: ref.host('a'), input: { any: ['thing', 1] }, triggers_replace: ref.variable('v') });
    assert.deepEqual(
      documentOf(m).blocks.map((b) => Object.fromEntries(b.attributes)),
      [
        { hosts: ['${host.a}', '${host.b}'], subnet: '10.9.0.0/16' },
        { host: '${host.a}', input: { any: ['thing', 1] }, triggers_replace: '${var.v}' },
      ],
    );
    assert.equal(refToRaw(d.output), '${tsinfra_data.d.output}');
  });

  test('output, moved (strings or references), settings with a labelled backend block', () => {
    const m = new Manifest();
    const web = m.resource('container', 'web', { host: ref.host('h'), image: 'x' });
    m.output('ip', { value: web.ipAddress, sensitive: true, depends_on: [web] });
    m.moved({ from: 'container.old[0]', to: web });
    m.settings({ backend: { local: { path: 'state.json' } } });
    assert.deepEqual(blocks(m).slice(1), [
      { type: 'output', labels: ['ip'], attributes: { value: '${container.web.ip_address}', sensitive: true, depends_on: ['${container.web}'] }, blocks: [] },
      { type: 'moved', labels: [], attributes: { from: '${container.old[0]}', to: '${container.web}' }, blocks: [] },
      { type: 'tsinfra', labels: [], attributes: {}, blocks: [{ type: 'backend', labels: ['local'], attributes: { path: 'state.json' }, blocks: [] }] },
    ]);
  });

  test('arguments are copied when declared; later changes do not leak in', () => {
    const m = new Manifest();
    const env: Record<string, string> = { A: '1' };
    m.resource('container', 'web', { host: ref.host('h'), image: 'x', env });
    env['B'] = '2';
    assert.deepEqual(Object.fromEntries(documentOf(m).blocks[0]!.attributes)['env'], { A: '1' });
  });

  test('each declaration records the stack of its call site', () => {
    const m = new Manifest();
    m.host('h', {});
    assert.match(documentOf(m).blocks[0]!.site ?? '', /manifest\.test\.js/);
  });
});

describe('values that are not data', () => {
  test('are reported with the address and attribute path; functions are dropped', () => {
    class Thing {}
    const m = new Manifest();
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    m.resource('container', 'web', {
      host: ref.host('h'),
      image: 'x',
      env: { WHEN: new Date() as unknown as string, FN: (() => 'x') as unknown as string },
      command: [new Thing() as unknown as string, 'ok'],
      hostname: 1n as unknown as string,
    });
    m.output('big', { value: 2n ** 64n });
    m.output('cycle', { value: cyclic });
    m.output('set', { value: new Set([1]) });
    m.resource('container', 'bad', { host: ref.host('h'), image: 'x', mount: 'nope' as unknown as [] });
    assert.deepEqual(
      documentOf(m).problems.map((p) => [p.address, p.path, p.message.replace(/ cannot.*| is .*|: give.*/, '')]),
      [
        ['container.web', 'env.WHEN', 'A Date object'],
        ['container.web', 'command[0]', 'A Thing object'],
        ['output.big', 'value', '18446744073709551616n'],
        ['output.cycle', 'value.self', 'The value refers to itself (a cycle); configuration values must be trees'],
        ['output.set', 'value', 'A Set object'],
        ['container.bad', 'mount', '"mount"'],
      ],
    );
    const web = Object.fromEntries(documentOf(m).blocks[0]!.attributes);
    assert.deepEqual(web['env'], { WHEN: null });
    assert.deepEqual(web['command'], [null, 'ok']);
    assert.equal(web['hostname'], 1);
  });
});
