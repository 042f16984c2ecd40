// A container's seccomp filter from its `seccomp_profile`: "default" (seccomp-default.ts),
// "unconfined" (no filter) or the absolute path of a Docker-format JSON profile on the
// host. The supervisor loads the profile and builds the BPF program for the container's
// capabilities and the host's architecture and kernel; the init installs it
// (seccomp-install.ts) just before execve.
import { readFileSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { isAbsolute } from 'node:path';
import { AgentFailure } from '../../rpc/failure.js';
import { hasCapability } from './capabilities.js';
import { compileSeccompFilter, type FilterRule } from './seccomp-bpf.js';
import { defaultSeccompProfile } from './seccomp-default.js';
import { parseDockerSeccompProfile } from './seccomp-docker-json.js';
import type { RuleFilter, SeccompProfile, SeccompRule } from './seccomp-model.js';
import { seccompArch, syscallNumber, type SeccompArch } from './syscall-numbers.js';

export { defaultSeccompProfile } from './seccomp-default.js';
export type { SeccompProfile } from './seccomp-model.js';

const MAX_PROFILE_BYTES = 1 << 20;

/** The profile `spec` names; null for "unconfined". Throws AgentFailure E_SECCOMP_PROFILE for a bad file. */
export function loadSeccompProfile(spec: string): SeccompProfile | null {
  if (spec === 'default') return defaultSeccompProfile;
  if (spec === 'unconfined') return null;
  if (!isAbsolute(spec)) {
    throw new AgentFailure(
      'E_SECCOMP_PROFILE',
      `seccomp_profile ${JSON.stringify(spec)}: use "default", "unconfined" or the absolute path of a Docker-format JSON profile on the host`,
    );
  }
  const parsed = parseDockerSeccompProfile(readProfileFile(spec), spec);
  if ('problems' in parsed) {
    const shown = parsed.problems.slice(0, 5);
    const more = parsed.problems.length - shown.length;
    throw new AgentFailure('E_SECCOMP_PROFILE', `seccomp profile ${spec}: ${shown.join('; ')}${more > 0 ? ` (and ${more} more)` : ''}`, {
      file: spec,
      problems: parsed.problems,
    });
  }
  return parsed.profile;
}

function readProfileFile(path: string): string {
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new AgentFailure('E_SECCOMP_PROFILE', `seccomp profile ${path} is not a regular file`);
    if (st.size > MAX_PROFILE_BYTES) throw new AgentFailure('E_SECCOMP_PROFILE', `seccomp profile ${path} is larger than 1 MiB`);
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof AgentFailure) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AgentFailure('E_SECCOMP_PROFILE', `seccomp profile ${path} does not exist on this host`);
    throw new AgentFailure('E_SECCOMP_PROFILE', `cannot read seccomp profile ${path}: ${(e as Error).message}`);
  }
}

/**
 * The BPF program (struct sock_filter entries) enforcing `profile` for a container with
 * capability mask `caps` on architecture `arch` (os.arch() or uname -m spelling), with
 * rules conditioned on the kernel version evaluated against `kernel`.
 */
export function buildSeccompProgram(profile: SeccompProfile, caps: bigint, arch: string, kernel: string = release()): Buffer {
  const target = seccompArch(arch);
  if (!target) {
    throw new AgentFailure(
      'E_SECCOMP_ARCH',
      `seccomp filters can be built for x86_64 and aarch64 only, this host is ${arch}: set seccomp_profile = "unconfined" for containers here`,
    );
  }
  const syscalls = new Map<number, FilterRule[]>();
  for (const rule of profile.rules) {
    if (!ruleApplies(rule, caps, target, kernel)) continue;
    for (const name of rule.names) {
      const nr = syscallNumber(target, name);
      if (nr === undefined) continue; // a call of other architectures
      const list = syscalls.get(nr) ?? [];
      list.push({ args: rule.args, action: rule.action });
      syscalls.set(nr, list);
    }
  }
  return compileSeccompFilter({ arch: target, defaultAction: profile.defaultAction, syscalls });
}

const ARCH_ALIASES: Record<SeccompArch, readonly string[]> = {
  x86_64: ['amd64', 'x86_64', 'SCMP_ARCH_X86_64'],
  aarch64: ['arm64', 'aarch64', 'SCMP_ARCH_AARCH64'],
};

function ruleApplies(rule: SeccompRule, caps: bigint, arch: SeccompArch, kernel: string): boolean {
  const inc = rule.includes;
  if (inc?.caps && !inc.caps.every((c) => hasCapability(caps, c))) return false;
  if (inc?.arches && !matchesArch(inc, arch)) return false;
  if (inc?.minKernel && !kernelAtLeast(kernel, inc.minKernel)) return false;
  const exc = rule.excludes;
  if (exc?.caps?.some((c) => hasCapability(caps, c))) return false;
  if (exc?.arches && matchesArch(exc, arch)) return false;
  if (exc?.minKernel && kernelAtLeast(kernel, exc.minKernel)) return false;
  return true;
}

function matchesArch(filter: RuleFilter, arch: SeccompArch): boolean {
  return (filter.arches ?? []).some((a) => ARCH_ALIASES[arch].includes(a));
}

/** `6.1.0-18-amd64` against `4.8`. */
export function kernelAtLeast(running: string, wanted: string): boolean {
  const parse = (v: string) => (/^(\d+)\.(\d+)/.exec(v) ?? ['', '0', '0']).slice(1, 3).map(Number) as [number, number];
  const [rMajor, rMinor] = parse(running);
  const [wMajor, wMinor] = parse(wanted);
  return rMajor > wMajor || (rMajor === wMajor && rMinor >= wMinor);
}
