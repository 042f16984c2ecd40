// The storage bench, run INSIDE the VM tier's guest (it needs device-mapper and the empty
// disk /dev/vdb): `npm run bench:storage` boots the guest and runs it there, from a copy
// of the build on the guest's own disk (the shared folder costs 5-10 ms per file opened,
// which would make every tsinfra start pay for loading its modules over 9p).
//
// Side by side, on the same disk, in turns: tsinfra's apply of a volume group, a 1G thin
// pool and 10 thin LVs with ext4 filesystems, against a shell script that runs the same
// pvcreate/vgcreate/lvcreate/mkfs.ext4 commands one after the other. Both leave the disk
// empty again (untimed). The guest is emulated (TCG): compare the two columns, not the
// absolute times with a real machine.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { table } from './report.js';

const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));
const DISK = '/dev/disk/by-id/virtio-lvmdata';
const VG = 'benchvg';
const VOLUMES = 10;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function manifest(): string {
  const lvs = Array.from(
    { length: VOLUMES },
    (_, i) => `resource "logical_volume" "v${i}" {
  host         = host.lab
  thin_pool    = thin_pool.pool.id
  virtual_size = "256M"
  filesystem { type = "ext4" }
}`,
  ).join('\n');
  return `host "lab" { transport = "local" }
resource "volume_group" "vg" {
  host             = host.lab
  name             = "${VG}"
  physical_volumes = ["${DISK}"]
}
resource "thin_pool" "pool" {
  host         = host.lab
  volume_group = volume_group.vg.id
  size         = "1G"
}
${lvs}
`;
}

/** The same work as the manifest, as an operator's script would do it. */
function script(): string {
  const lines = ['set -e', `pvcreate -q ${DISK}`, `vgcreate -q ${VG} ${DISK}`, `lvcreate -q --yes --type thin-pool -L 1G -n pool ${VG}`];
  for (let i = 0; i < VOLUMES; i++) lines.push(`lvcreate -q --yes -V 256M --thinpool ${VG}/pool -n v${i}`, `mkfs.ext4 -q /dev/${VG}/v${i}`);
  return lines.join('\n') + '\n';
}

function wipe(): void {
  spawnSync('vgremove', ['--yes', '-q', VG]);
  spawnSync('pvremove', ['--yes', '-q', DISK]);
}

function timed(command: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(command, args, { env, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return ms;
}

function main(): void {
  if (!statSync(DISK, { throwIfNoEntry: false })?.isBlockDevice()) {
    console.error('bench/storage: run it in the VM tier (npm run bench:storage), which has the empty disk ' + DISK);
    process.exit(1);
  }
  const work = mkdtempSync(join(tmpdir(), 'tsinfra-bench-storage-'));
  const env = { ...process.env, TSINFRA_CACHE: '0', TSINFRA_AGENT_STATE_DIR: join(work, 'state'), TSINFRA_AGENT_RUN_DIR: join(work, 'run') };
  const cfg = join(work, 'cfg');
  execFileSync('mkdir', ['-p', cfg]);
  writeFileSync(join(cfg, 'main.hcl'), manifest());
  writeFileSync(join(work, 'script.sh'), script());
  const applies: number[] = [];
  const scripts: number[] = [];
  try {
    wipe();
    for (let run = 0; run < RUNS; run++) {
      applies.push(timed(process.execPath, [BIN, 'apply', '--auto-approve', cfg], env));
      timed(process.execPath, [BIN, 'destroy', '--auto-approve', cfg], env);
      wipe();
      scripts.push(timed('bash', [join(work, 'script.sh')], env));
      wipe();
      console.error(`run ${run + 1}/${RUNS}: tsinfra ${seconds(applies[run]!)}, script ${seconds(scripts[run]!)}`);
    }
  } finally {
    wipe();
    rmSync(work, { recursive: true, force: true });
  }
  const a = median(applies);
  const s = median(scripts);
  console.log(`\nVG + 1G thin pool + ${VOLUMES} thin LVs with ext4, median of ${RUNS} (VM tier, TCG-emulated guest)\n`);
  console.log(
    table(['', 'tsinfra apply', 'shell script', 'script ÷ tsinfra'], [['create', seconds(a), seconds(s), `${(s / a).toFixed(2)}x`]], new Set([1, 2, 3])),
  );
}

main();
