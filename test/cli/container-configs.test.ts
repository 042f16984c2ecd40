// Container and volume mistakes through the real `tsinfra validate`: each is reported
// with its code, file, line and address, all of them in one run, and nothing is written.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { providerFor } from '../../providers/registry.js';
import { configDir, tsinfra } from './cli-harness.js';

interface DiagnosticJson {
  severity: string;
  code: string;
  summary: string;
  detail?: string;
  address?: string;
  range?: { file: string; start: { line: number; column: number } };
}

// Line numbers are part of the expectations: keep the layout.
const CONFIG = `host "local" {
  transport = "local"
}

resource "container" "web" {
  image = "sha256:1111"
  resources {
    memory      = "256M"
    memory_swap = "128M"
    cpu_sharez  = 512
  }
  mount {
    type   = "bind"
    source = "/srv/www"
    target = "/www"
  }
  mount {
    type   = "bind"
    source = "/srv/conf"
    target = "conf"
  }
  network_mode = "none"
  port {
    host_port      = 8080
    container_port = 80
  }
  capabilities {
    add = ["NET_ADMINN"]
  }
  privileged   = true
  stop_timeout = "ten seconds"
}

resource "container" "db" {
  image = "sha256:1111"
  resources {
    memory = "64X"
  }
  network {
    id = "tsi-front-123456"
  }
  network_mode = "host"
  restart {
    policy      = "always"
    max_retries = 3
  }
}

resource "volume" "cache" {
  thin_pool = "vg/pool"
}

resource "volume" "bad" {
  name = "../etc"
}
`;

const EXPECTED: { code: string; line: number; address: string; says: RegExp }[] = [
  { code: 'E_UNKNOWN_ATTRIBUTE', line: 10, address: 'container.web', says: /Did you mean "cpu_shares"/ },
  { code: 'E_INVALID_VALUE', line: 20, address: 'container.web', says: /mount\[1\]\.target.*absolute path/ },
  { code: 'E_INVALID_VALUE', line: 31, address: 'container.web', says: /stop_timeout.*duration/ },
  { code: 'E_INVALID_SIZE', line: 37, address: 'container.db', says: /resources\.memory.*512K/ },
  { code: 'E_MISSING_ATTRIBUTE', line: 49, address: 'volume.cache', says: /thin-pool volume needs a size/ },
  { code: 'E_INVALID_VALUE', line: 54, address: 'volume.bad', says: /name/ },
];

// Found by check() once the schema passes: fixed separately below.
const CHECKED = `host "local" {
  transport = "local"
}

resource "container" "web" {
  image = "sha256:1111"
  resources {
    memory      = "256M"
    memory_swap = "128M"
  }
  network_mode = "none"
  port {
    host_port      = 8080
    container_port = 80
  }
  capabilities {
    add = ["NET_ADMINN"]
  }
  privileged = true
}

resource "container" "db" {
  image = "sha256:1111"
  network {
    id = "tsi-front-123456"
  }
  network_mode = "host"
  restart {
    policy      = "always"
    max_retries = 3
  }
}
`;

// Each at the attribute itself, inside its block.
const EXPECTED_CHECKED: { code: string; line: number; address: string; says: RegExp }[] = [
  { code: 'E_CONFLICT', line: 9, address: 'container.web', says: /memory_swap.*at least/ },
  { code: 'E_CONFLICT', line: 12, address: 'container.web', says: /port mappings need bridge networking/ },
  { code: 'E_INVALID_CAPABILITY', line: 17, address: 'container.web', says: /NET_ADMINN/ },
  { code: 'E_PRIVILEGED_REFUSED', line: 19, address: 'container.web', says: /allow_privileged = true/ },
  { code: 'E_CONFLICT', line: 27, address: 'container.db', says: /network blocks need network_mode = "bridge"/ },
  { code: 'E_CONFLICT', line: 30, address: 'container.db', says: /max_retries.*on-failure/ },
];

const registered = providerFor('container') !== undefined && providerFor('volume') !== undefined;
const skip = registered ? false : 'container and volume are not registered in providers/registry.ts yet';

async function validate(text: string): Promise<DiagnosticJson[]> {
  const cfg = await configDir({ 'main.hcl': text });
  try {
    const r = await tsinfra(['validate', '--json', cfg.dir]);
    assert.equal(r.code, 1, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /TypeError|ReferenceError|^ {4}at .*\.js:\d+/m, 'the CLI crashed instead of reporting a diagnostic');
    assert.deepEqual(await readdir(cfg.dir), ['main.hcl'], 'validate must write nothing');
    return (JSON.parse(r.stdout) as { diagnostics: DiagnosticJson[] }).diagnostics;
  } finally {
    await cfg.remove();
  }
}

function expectAll(ds: DiagnosticJson[], expected: typeof EXPECTED): void {
  const describeAll = () =>
    ds.map((d) => `  ${d.code} ${d.range?.file}:${d.range?.start.line} ${d.address ?? ''} — ${d.summary} / ${d.detail ?? ''}`).join('\n');
  for (const e of expected) {
    const d = ds.find((x) => x.code === e.code && x.range?.start.line === e.line);
    assert.ok(d, `expected ${e.code} at main.hcl:${e.line}, got:\n${describeAll()}`);
    assert.equal(d.range?.file, 'main.hcl');
    assert.equal(d.address, e.address);
    assert.match(`${d.summary}\n${d.detail ?? ''}`, e.says);
  }
  assert.equal(ds.filter((d) => d.severity === 'error').length, expected.length, `no other errors expected, got:\n${describeAll()}`);
}

describe('container mistakes are reported where they are', { skip }, () => {
  let schemaErrors: DiagnosticJson[];
  let checkErrors: DiagnosticJson[];
  before(async () => {
    [schemaErrors, checkErrors] = await Promise.all([validate(CONFIG), validate(CHECKED)]);
  });
  after(() => undefined);

  test('schema mistakes: names, sizes, paths, durations', () => expectAll(schemaErrors, EXPECTED));
  test('rules between attributes and refusals', () => expectAll(checkErrors, EXPECTED_CHECKED));
});
