import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expr, hcl, Manifest, ref } from '../../api/index.js';
import { hclLiteral } from '../../api/hcl-literal.js';
import { stringToRaw, toRawValue, type ValueProblem } from '../../api/raw-value.js';

function raw(v: unknown): unknown {
  const problems: ValueProblem[] = [];
  const out = toRawValue(v, '', problems);
  assert.deepEqual(problems, []);
  return out;
}

describe('references serialise to HCL interpolations', () => {
  const m = new Manifest();
  const local = m.host('local', { transport: 'local' });
  const front = m.resource('network', 'front', { host: local, driver: 'bridge' });
  const web = m.resource('container', 'web', { host: local, image: 'x', count: 2 });

  test('resources, attributes (camelCase to snake_case), hosts', () => {
    assert.equal(raw(front), '${network.front}');
    assert.equal(raw(front.id), '${network.front.id}');
    assert.equal(raw(web.ipAddress), '${container.web.ip_address}');
    assert.equal(raw(web.restartCount), '${container.web.restart_count}');
    assert.equal(raw(front.attr('subnet')), '${network.front.subnet}');
    assert.equal(raw(local), '${host.local}');
    assert.equal(raw(local.attr('address')), '${host.local.address}');
  });

  test('counted and keyed instances', () => {
    assert.equal(raw(web.index(0).ipAddress), '${container.web[0].ip_address}');
    assert.equal(raw(web.key('a b').id), '${container.web["a b"].id}');
    assert.equal(raw(web.index(ref.countIndex).id), '${container.web[count.index].id}');
    assert.equal(raw(web.key(ref.eachKey)), '${container.web[each.key]}');
    assert.equal(raw(local.index(1)), '${host.local[1]}');
  });

  test('nested inside arrays and objects', () => {
    assert.deepEqual(raw({ a: [front.id, { b: web.index(1).pid }], c: 1, d: null, e: undefined }), {
      a: ['${network.front.id}', { b: '${container.web[1].pid}' }],
      c: 1,
      d: null,
    });
  });

  test('references declared elsewhere and the expansion symbols', () => {
    assert.equal(raw(ref.network('back').bridge), '${network.back.bridge}');
    assert.equal(raw(ref.resource('logical_volume', 'data').path), '${logical_volume.data.path}');
    assert.equal(raw(m.ref('image', 'nginx').digest), '${image.nginx.digest}');
    assert.equal(raw(ref.host('db')), '${host.db}');
    assert.equal(raw(ref.variable('env')), '${var.env}');
    assert.equal(raw(ref.local('prefix')), '${local.prefix}');
    assert.deepEqual(raw([ref.countIndex, ref.eachKey, ref.eachValue]), ['${count.index}', '${each.key}', '${each.value}']);
  });
});

describe('templates', () => {
  const env = ref.variable<string>('env');
  const web = ref.container('web');

  test('expr`...` interpolates references and keeps literal text literal', () => {
    assert.equal(raw(expr`shop-${env}`), 'shop-${var.env}');
    assert.equal(raw(expr`${web.index(0).ipAddress}:${8080}`), '${container.web[0].ip_address}:8080');
    assert.equal(raw(expr`cost: $${'{x}'} %{y}`), 'cost: $${x} %%{y}');
    // A `$` right before an interpolation must not turn it into the `$${` escape.
    assert.equal(raw(expr`price: $${env}`), 'price: ${"$"}${var.env}');
    assert.equal(raw(`$$${env}`), '${"$$"}${var.env}');
  });

  test('templates nest inside templates and inside data', () => {
    const inner = expr`a-${env}`;
    assert.equal(raw(expr`${inner}-b`), 'a-${var.env}-b');
    assert.deepEqual(raw({ names: [expr`web-${ref.countIndex}`] }), { names: ['web-${count.index}'] });
  });

  test('a plain JS template literal holding references works too', () => {
    assert.equal(raw(`shop-${env}-${web.index(1).id}`), 'shop-${var.env}-${container.web[1].id}');
    assert.equal(raw(`id=${web.key('k').id}`), 'id=${container.web["k"].id}');
    assert.equal(raw(String(env)), '${var.env}');
  });

  test('JSON.stringify of data holding references', () => {
    assert.equal(raw(JSON.stringify({ ip: web.index(0).ipAddress })), '{"ip":"${container.web[0].ip_address}"}');
  });

  test('literal ${ and %{ in plain strings are escaped', () => {
    assert.equal(stringToRaw('echo ${HOME} %{if}'), 'echo $${HOME} %%{if}');
    assert.deepEqual(raw(['sh', '-c', 'echo ${HOME}']), ['sh', '-c', 'echo $${HOME}']);
    assert.equal(stringToRaw('already $${escaped}'), 'already $$${escaped}');
  });

  test('hcl`...` is an expression; values become HCL literals', () => {
    assert.equal(raw(hcl`length(${web.ipAddresses}) > ${2}`), '${length(container.web.ip_addresses) > 2}');
    assert.equal(raw(hcl`contains(${['a', 'b"c']}, ${env})`), '${contains(["a", "b\\"c"], var.env)}');
    assert.equal(raw(hcl`upper(${expr`x-${env}`})`), '${upper("x-${var.env}")}');
    assert.equal(raw(hcl`lookup(${{ a: 1, 'b c': true }}, "a", null)`), '${lookup({ "a" = 1, "b c" = true }, "a", null)}');
    assert.equal(raw(hcl('var.a + 1')), '${var.a + 1}');
    assert.equal(raw(hcl`replace(${'a${b}'}, "\n", " ")`), '${replace("a$${b}", "\\n", " ")}');
  });

  test('hclLiteral rejects what HCL cannot hold', () => {
    assert.throws(() => hclLiteral(new Map()), /Map object cannot be written in HCL/);
    assert.throws(() => hclLiteral(Infinity), TypeError);
    assert.throws(() => expr`${{ a: 1 }}`, /cannot interpolate/);
  });
});
