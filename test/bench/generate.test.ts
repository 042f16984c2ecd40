import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateConfig, HOSTS, terraformState, tsinfraState } from '../../bench/generate.js';

const count = (text: string, re: RegExp): number => text.match(re)?.length ?? 0;

describe('bench configuration generators', () => {
  test('tsinfra: one file with every host and resource, each resource on its group host', () => {
    const files = generateConfig('tsinfra', 200);
    assert.deepEqual([...files.keys()], ['main.hcl']);
    const text = files.get('main.hcl')!;
    assert.equal(count(text, /^host "h\d+" \{ transport = "local" \}$/gm), HOSTS);
    assert.equal(count(text, /^resource "tsinfra_data" /gm), 200);
    assert.match(text, /resource "tsinfra_data" "root_7" \{\n {2}host {2}= host\.h7\n {2}input = "root-7"\n\}/);
    assert.match(text, /resource "tsinfra_data" "n_123" \{\n {2}host {2}= host\.h23\n {2}input = tsinfra_data\.root_23\.output\n\}/);
  });

  test('terraform: the same resources as terraform_data, without hosts', () => {
    const text = generateConfig('terraform', 200).get('main.tf')!;
    assert.equal(count(text, /^resource "terraform_data" /gm), 200);
    assert.equal(count(text, /host/g), 0);
    assert.match(text, /resource "terraform_data" "n_123" \{\n {2}input = terraform_data\.root_23\.output\n\}/);
  });

  test('several files: hosts apart, resources split without loss', () => {
    const files = generateConfig('tsinfra', 1000, 10);
    assert.equal(files.size, 11);
    assert.ok(files.has('hosts.hcl') && files.has('part_09.hcl'));
    const all = [...files.values()].join('\n');
    assert.equal(count(all, /^resource /gm), 1000);
    assert.equal(count(all, /^host /gm), HOSTS);
  });

  test('fewer resources than hosts is refused', () => {
    assert.throws(() => generateConfig('tsinfra', HOSTS - 1));
  });

  test('terraform state: one instance per resource, dependencies on the root', () => {
    const state = JSON.parse(terraformState(120)) as {
      version: number;
      resources: Array<{ name: string; instances: Array<{ attributes: { input: { value: string } }; dependencies?: string[] }> }>;
    };
    assert.equal(state.version, 4);
    assert.equal(state.resources.length, 120);
    const n73 = state.resources.find((r) => r.name === 'n_73')!;
    assert.equal(n73.instances[0]!.attributes.input.value, 'root-23');
    assert.deepEqual(n73.instances[0]!.dependencies, ['terraform_data.root_23']);
    assert.equal(state.resources.find((r) => r.name === 'root_3')!.instances[0]!.dependencies, undefined);
  });

  test('tsinfra state: matches the configuration', () => {
    const state = tsinfraState(120);
    assert.equal(state.resources.length, 120);
    const n73 = state.resources.find((r) => r.address === 'tsinfra_data.n_73')!;
    assert.equal(n73.host, 'host.h23');
    assert.deepEqual(n73.dependencies, ['tsinfra_data.root_23']);
    assert.deepEqual(n73.attributes, { input: 'root-23', triggers_replace: null, output: 'root-23', id: n73.attributes['id'] });
  });
});
