// Configuration generators for the side-by-side benchmark. Both tools get the same
// shape: HOSTS groups, one "root" per group, and every other resource referencing its
// group's root (fan-in), so the graph has N nodes and N - HOSTS edges.
//
//   tsinfra:   tsinfra_data.n_123 { host = host.h23  input = tsinfra_data.root_23.output }
//   terraform: terraform_data.n_123 { input = terraform_data.root_23.output }
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { STATE_FORMAT_VERSION, type ResourceInstanceState, type State } from '../state/model.js';
import { TSINFRA_VERSION } from '../plan-engine/version.js';

export const HOSTS = 50;

/** File name -> content of one generated configuration directory. */
export type ConfigFiles = ReadonlyMap<string, string>;

export type Tool = 'tsinfra' | 'terraform';

/** Name of resource `i`: the first HOSTS are the roots, the rest reference them. */
function resourceName(i: number): string {
  return i < HOSTS ? `root_${i}` : `n_${i}`;
}

function tsinfraResource(i: number): string {
  const group = i % HOSTS;
  const input = i < HOSTS ? `"root-${group}"` : `tsinfra_data.root_${group}.output`;
  return `resource "tsinfra_data" "${resourceName(i)}" {\n  host  = host.h${group}\n  input = ${input}\n}\n`;
}

function terraformResource(i: number): string {
  const group = i % HOSTS;
  const input = i < HOSTS ? `"root-${group}"` : `terraform_data.root_${group}.output`;
  return `resource "terraform_data" "${resourceName(i)}" {\n  input = ${input}\n}\n`;
}

/** Splits resources 0..count-1 into `files` contiguous, nearly equal ranges. */
function splitRanges(count: number, files: number): Array<[number, number]> {
  const per = Math.ceil(count / files);
  const ranges: Array<[number, number]> = [];
  for (let from = 0; from < count; from += per) ranges.push([from, Math.min(count, from + per)]);
  return ranges;
}

function renderRange(render: (i: number) => string, [from, to]: [number, number]): string {
  const parts: string[] = [];
  for (let i = from; i < to; i++) parts.push(render(i));
  return parts.join('\n');
}

/**
 * One configuration of `count` resources for `tool`, in `files` files. With one file,
 * tsinfra's hosts sit at the top of main.hcl; with several, they get a file of their own
 * (hosts.hcl) and the resources go to part_NN files.
 */
export function generateConfig(tool: Tool, count: number, files = 1): ConfigFiles {
  if (count < HOSTS) throw new Error(`a benchmark configuration needs at least ${HOSTS} resources`);
  const out = new Map<string, string>();
  const render = tool === 'tsinfra' ? tsinfraResource : terraformResource;
  const ext = tool === 'tsinfra' ? 'hcl' : 'tf';
  const hosts = tool === 'tsinfra' ? Array.from({ length: HOSTS }, (_, h) => `host "h${h}" { transport = "local" }\n`).join('') : '';
  const ranges = splitRanges(count, files);
  if (ranges.length === 1) {
    out.set(`main.${ext}`, (hosts ? hosts + '\n' : '') + renderRange(render, ranges[0]!));
    return out;
  }
  if (hosts) out.set(`hosts.${ext}`, hosts);
  ranges.forEach((r, k) => out.set(`part_${String(k).padStart(2, '0')}.${ext}`, renderRange(render, r)));
  return out;
}

/** Deterministic UUID-shaped id, so generated states are reproducible. */
function fakeId(i: number): string {
  const hex = i.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}

/**
 * The Terraform (format v4) state a successful apply of generateConfig('terraform', count)
 * leaves behind, built directly: applying 10,000 terraform_data resources takes Terraform
 * minutes, and a plan against this state must say "No changes" (the bench checks it).
 */
export function terraformState(count: number): string {
  const provider = 'provider["terraform.io/builtin/terraform"]';
  const resources = [];
  for (let i = 0; i < count; i++) {
    const value = { value: `root-${i % HOSTS}`, type: 'string' };
    resources.push({
      mode: 'managed',
      type: 'terraform_data',
      name: resourceName(i),
      provider,
      instances: [
        {
          schema_version: 0,
          attributes: { id: fakeId(i), input: value, output: value, triggers_replace: null },
          sensitive_attributes: [],
          ...(i < HOSTS ? {} : { dependencies: [`terraform_data.root_${i % HOSTS}`] }),
        },
      ],
    });
  }
  resources.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const state = {
    version: 4,
    terraform_version: '1.11.4',
    serial: 1,
    lineage: '00000000-0000-4000-8000-00000000be0c',
    outputs: {},
    resources,
    check_results: null,
  };
  return JSON.stringify(state, null, 2) + '\n';
}

/**
 * The tsinfra state an apply of generateConfig('tsinfra', count) leaves behind, for
 * re-plan benchmarks too big to apply within the bench's time (the bench writes it
 * through the engine's own LocalBackend and checks that a plan against it says
 * "No changes").
 */
export function tsinfraState(count: number): State {
  const resources: ResourceInstanceState[] = [];
  for (let i = 0; i < count; i++) {
    const group = i % HOSTS;
    const name = resourceName(i);
    const input = `root-${group}`;
    resources.push({
      address: `tsinfra_data.${name}`,
      type: 'tsinfra_data',
      name,
      host: `host.h${group}`,
      status: 'ready',
      dependencies: i < HOSTS ? [] : [`tsinfra_data.root_${group}`],
      sensitivePaths: [],
      attributes: { input, triggers_replace: null, output: input, id: fakeId(i) },
    });
  }
  return {
    version: STATE_FORMAT_VERSION,
    serial: 1,
    lineage: '00000000-0000-4000-8000-00000000be0c',
    tsinfraVersion: TSINFRA_VERSION,
    resources,
    outputs: {},
  };
}

export async function writeConfig(dir: string, files: ConfigFiles): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all([...files].map(([name, text]) => writeFile(join(dir, name), text)));
}
