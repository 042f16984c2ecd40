import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeLine, LineSplitter } from '../../agent/rpc/line-splitter.js';

function collect(max: number) {
  const events: (string | number)[] = [];
  const splitter = new LineSplitter(max, {
    line: (b) => events.push(b.toString('utf8')),
    overlong: (n) => events.push(n),
  });
  return { events, splitter };
}

test('joins pieces and splits several lines per chunk', () => {
  const { events, splitter } = collect(100);
  splitter.push(Buffer.from('ab'));
  splitter.push(Buffer.from('c\nde'));
  splitter.push(Buffer.from('f\n\ng\nh'));
  splitter.end();
  assert.deepEqual(events, ['abc', 'def', '', 'g', 'h']);
});

test('drops a line over the limit, reports it once, and keeps going', () => {
  const { events, splitter } = collect(5);
  splitter.push(Buffer.from('123'));
  splitter.push(Buffer.from('4567'));
  splitter.push(Buffer.from('89\nok\n'));
  splitter.push(Buffer.from('1234567'));
  splitter.end();
  assert.deepEqual(events, [9, 'ok', 7]);
});

test('a line of exactly the limit is kept', () => {
  const { events, splitter } = collect(5);
  splitter.push(Buffer.from('12345\n'));
  assert.deepEqual(events, ['12345']);
});

test('the chunk buffer may be reused by the stream after push', () => {
  const { events, splitter } = collect(100);
  const chunk = Buffer.from('abc');
  splitter.push(chunk);
  chunk.write('xyz');
  splitter.push(Buffer.from('\n'));
  assert.deepEqual(events, ['abc']);
});

test('decodeLine refuses invalid UTF-8 and drops a trailing CR', () => {
  assert.equal(decodeLine(Buffer.from([0xc3, 0x28])), undefined);
  assert.equal(decodeLine(Buffer.from([0xed, 0xa0, 0x80])), undefined); // a lone surrogate
  assert.equal(decodeLine(Buffer.from('€\r')), '€');
});
