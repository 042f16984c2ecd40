// Installing lvm2 on a host that lacks it, only where the host block allows it (VM tier:
// the guest is thrown away, so lvm2 can really be removed from it). The guest has no
// network: its apt source becomes a local repository holding the lvm2 package that
// scripts/vm-tests.sh put in .vm-artifacts/apt (from the host's apt cache or `apt-get
// download`), the way a real host installs from its mirror.
//   - without install_packages: the plan refuses, naming the host and both ways out, and
//     `hosts facts` says lvm2 is missing; nothing is installed;
//   - with it: the plan warns, the apply installs lvm2 (apt-get, after fetching the
//     package lists it never had) and then creates the volume group on a loop device.
// after() puts lvm2 back whatever happened, for the tests that may follow.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerLab, type ContainerLab } from '../cli/container-lab.js';
import { tsinfra } from '../cli/cli-harness.js';

const DEBS = '/mnt/host/.vm-artifacts/apt';
const VG = 'tsitpkg';
const SOURCES = '/etc/apt/sources.list';
const SOURCES_D = '/etc/apt/sources.list.d';

function config(netns: string, device: string, install: boolean): string {
  return `
host "lab" {
  transport        = "local"
  netns            = "${netns}"
  install_packages = ${install}
}
resource "volume_group" "vg" {
  host             = host.lab
  name             = "${VG}"
  physical_volumes = ["${device}"]
}
`;
}

const hasLvm = () => spawnSync('sh', ['-c', 'command -v lvm'], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } }).status === 0;

/** A flat apt repository (`deb [trusted=yes] file:DIR ./`) of the given packages. */
function localRepository(debs: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsit-apt-'));
  const stanzas = debs.map((deb) => {
    const name = deb.slice(deb.lastIndexOf('/') + 1);
    copyFileSync(deb, join(dir, name));
    const bytes = readFileSync(deb);
    const control = execFileSync('dpkg-deb', ['-f', deb], { encoding: 'utf8' }).trimEnd();
    return `${control}\nFilename: ./${name}\nSize: ${statSync(deb).size}\nSHA256: ${createHash('sha256').update(bytes).digest('hex')}\n`;
  });
  writeFileSync(join(dir, 'Packages'), stanzas.join('\n'));
  return dir;
}

describe('installing lvm2 where the host block allows it (VM tier)', () => {
  let lab: ContainerLab;
  let loopFile: string;
  let device: string;
  let repo: string;
  let debs: string[];

  before(async () => {
    debs = existsSync(DEBS)
      ? readdirSync(DEBS)
          .filter((f) => f.endsWith('.deb'))
          .map((f) => join(DEBS, f))
      : [];
    assert.ok(
      debs.some((d) => /\/lvm2_.*\.deb$/.test(d)),
      `scripts/vm-tests.sh puts the lvm2 package in ${DEBS}`,
    );
    lab = await containerLab();
    loopFile = join(lab.scratch, 'pv.img');
    execFileSync('truncate', ['-s', '64M', loopFile]);
    device = execFileSync('losetup', ['--find', '--show', loopFile], { encoding: 'utf8' }).trim();
    // Only the local repository: the guest reaches no mirror.
    repo = localRepository(debs);
    renameSync(SOURCES, `${SOURCES}.tsit`);
    if (existsSync(SOURCES_D)) renameSync(SOURCES_D, `${SOURCES_D}.tsit`);
    mkdirSync(SOURCES_D);
    writeFileSync(SOURCES, `deb [trusted=yes] file:${repo} ./\n`);
    rmSync('/var/lib/apt/lists', { recursive: true, force: true });
    mkdirSync('/var/lib/apt/lists/partial', { recursive: true });
    execFileSync('dpkg', ['--remove', '--force-depends', 'lvm2'], { stdio: 'ignore' });
    assert.ok(!hasLvm(), 'lvm2 is gone');
  });

  after(async () => {
    if (lab) {
      await lab.cfg.write('main.hcl', config(lab.netns, device, true));
      await tsinfra(['destroy', '--auto-approve', lab.cfg.dir], { env: lab.env }).catch(() => undefined);
    }
    spawnSync('vgremove', ['--yes', VG]);
    if (device) spawnSync('pvremove', ['--yes', device]);
    if (device) spawnSync('losetup', ['-d', device]);
    if (!hasLvm()) for (const deb of debs.filter((d) => /\/lvm2_/.test(d))) spawnSync('dpkg', ['--install', deb], { stdio: 'ignore' });
    if (existsSync(`${SOURCES}.tsit`)) renameSync(`${SOURCES}.tsit`, SOURCES);
    if (existsSync(`${SOURCES_D}.tsit`)) {
      rmSync(SOURCES_D, { recursive: true, force: true });
      renameSync(`${SOURCES_D}.tsit`, SOURCES_D);
    }
    if (repo) rmSync(repo, { recursive: true, force: true });
    await lab?.close();
  });

  test('without install_packages the plan refuses, naming the host and the ways out; hosts facts says lvm2 is missing', async () => {
    await lab.cfg.write('main.hcl', config(lab.netns, device, false));
    const plan = await tsinfra(['plan', lab.cfg.dir], { env: lab.env });
    assert.equal(plan.code, 1, plan.stdout + plan.stderr);
    assert.match(plan.stderr, /E_LVM_NOT_INSTALLED/);
    assert.match(plan.stderr, /host\.lab has no LVM tools \(lvm2\), which volume_group\.vg need/);
    assert.match(plan.stderr, /install_packages = true/);
    const facts = await tsinfra(['hosts', 'facts', lab.cfg.dir], { env: lab.env });
    assert.equal(facts.code, 0, facts.stdout + facts.stderr);
    assert.match(facts.stdout, /lvm +not installed: storage resources need lvm2/);
    const apply = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(apply.code, 1);
    assert.ok(!hasLvm(), 'nothing was installed');
  });

  test('with install_packages = true the plan warns, and the apply installs lvm2 and creates the group', async () => {
    await lab.cfg.write('main.hcl', config(lab.netns, device, true));
    const plan = await tsinfra(['plan', lab.cfg.dir], { env: lab.env });
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.match(plan.stderr + plan.stdout, /host\.lab has no LVM tools \(lvm2\): the apply installs them before volume_group\.vg/);
    const apply = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    assert.ok(hasLvm(), 'lvm2 is installed');
    const vgs = execFileSync('vgs', ['--noheadings', '-o', 'vg_name,pv_count', VG], { encoding: 'utf8' }).trim();
    assert.match(vgs, new RegExp(`^${VG}\\s+1$`));
    const log = readFileSync(join(lab.env['TSINFRA_AGENT_STATE_DIR']!, 'agent.log'), 'utf8');
    assert.match(log, /apt-get install -y -q --no-install-recommends lvm2/);
    const again = await tsinfra(['plan', '--detailed-exitcode', lab.cfg.dir], { env: lab.env });
    assert.equal(again.code, 0, again.stdout + again.stderr);
  });
});
