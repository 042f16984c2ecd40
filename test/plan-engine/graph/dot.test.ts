import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, toDot } from '../../../plan-engine/graph/index.js';

describe('toDot', () => {
  test('golden output: sorted nodes, edges and attributes', () => {
    const g = new Graph<string>((s) => s);
    // Inserted out of order: output must be sorted regardless.
    g.connect('container.web', 'network.front');
    g.connect('container.web', 'host.a');
    g.connect('network.front', 'host.a');
    g.add('container.db["x"]');
    const dot = toDot(g, {
      label: (v) => v,
      attrs: (v) => (v.startsWith('host.') ? { shape: 'box', color: 'blue' } : {}),
      graphAttrs: { rankdir: 'RL' },
    });
    assert.equal(
      dot,
      [
        'digraph {',
        '  rankdir="RL";',
        '  "container.db[\\"x\\"]" [label="container.db[\\"x\\"]"];',
        '  "container.web" [label="container.web"];',
        '  "host.a" [color="blue", label="host.a", shape="box"];',
        '  "network.front" [label="network.front"];',
        '  "container.web" -> "host.a";',
        '  "container.web" -> "network.front";',
        '  "network.front" -> "host.a";',
        '}',
        '',
      ].join('\n'),
    );
  });

  test('labels are quoted: quotes, backslashes, newlines, odd attribute names', () => {
    const g = new Graph<string>((s) => s);
    g.add('v');
    const dot = toDot(g, {
      label: () => 'say "hi"\\path\nnext\\',
      attrs: () => ({ 'odd name': 'x', label: 'ignored' }),
    });
    assert.equal(dot, 'digraph {\n  "v" [label="say \\"hi\\"\\\\path\\nnext\\\\ ", "odd name"="x"];\n}\n');
  });

  test('an empty graph', () => {
    assert.equal(toDot(new Graph<string>((s) => s), { label: (v) => v }), 'digraph {\n}\n');
  });
});
