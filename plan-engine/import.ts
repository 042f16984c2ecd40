// `tsinfra import ADDR ID`: adopt an object that already exists on a host into state.
//
//   1. ADDR must name an instance the configuration declares (count/for_each keys
//      included) and the state does not hold yet
//   2. a plan without refresh, limited to ADDR's resource, says which host the instance
//      lives on, what it depends on, and what the configuration wants it to be
//   3. resource.import {type, id} on that host's agent: the object as the host shows it
//   4. when the configuration describes this very object (the planned id is the imported
//      id), a resource.read of the imported attributes overlaid with the planned ones
//      fills in what the host cannot show (a network's name: its bridge name only hashes
//      it), while everything the host can show is read back from the host
//   5. recorded as a ready instance; the serial moves on
//
// The engine knows no resource type here: which attributes a host can show is the
// agent's business (its read reports what it observes and keeps the rest).
import { parseResourceInstanceAddr } from './addresses.js';
import { Diagnostics, hasErrors, suggest, type Diagnostic } from './diagnostics.js';
import { containsUnknown, isUnknown, valuesEqual, type Value, type ValueObject } from './values.js';
import type { Change } from './plan/model.js';
import type { Run } from './run.js';
import { TSINFRA_VERSION } from './version.js';
import { providerFor } from '../providers/registry.js';
import { cloneState, newState, upsertResource, type ResourceInstanceState } from '../state/model.js';
import { StateWriter } from '../state/state-writer.js';
import { AgentError, type AgentSession } from '../transport/types.js';

export interface ImportRequest {
  /** The instance address, `network.front` or `network.front[0]`. */
  readonly address: string;
  /** The object's id on its host (for a network: the bridge's link name). */
  readonly id: string;
}

export interface ImportResult {
  /** The instance as recorded; absent when the import failed (the state is then unchanged). */
  readonly instance?: ResourceInstanceState;
  /** The serial the state was written with. */
  readonly serial?: number;
  readonly diagnostics: readonly Diagnostic[];
}

/** Imports one object into the state of a run (which holds the lock). */
export async function importInstance(run: Run, req: ImportRequest, onProgress?: (message: string) => void): Promise<ImportResult> {
  const diags = new Diagnostics();
  const fail = (): ImportResult => ({ diagnostics: diags.items });
  const config = run.workspace.config;
  const backend = run.workspace.backend;
  if (!config || !backend) throw new Error('bug: import without configuration or backend');

  const addr = parseResourceInstanceAddr(req.address);
  if (!addr) {
    diags.error('E_INVALID_ADDRESS', `"${req.address}" is not a resource address`, {
      detail: 'Expected TYPE.NAME, TYPE.NAME[0] or TYPE.NAME["key"], for example network.front.',
    });
    return fail();
  }
  if (!config.resources.has(addr.resource.key)) {
    const s = suggest(addr.resource.key, config.resources.keys());
    diags.error('E_IMPORT_NOT_IN_CONFIG', `${addr.resource.key} is not declared in the configuration`, {
      detail: `${s ? `Did you mean ${s}? ` : ''}Declare the resource block first: import adopts an object for a resource the configuration describes.`,
      address: addr.key,
    });
    return fail();
  }
  const provider = providerFor(addr.type);
  if (provider && !provider.usesAgent) {
    diags.error('E_IMPORT_NOT_SUPPORTED', `Resources of type "${addr.type}" cannot be imported`, {
      detail: `A ${addr.type} resource has no object on a host to adopt: it lives in the state only. Apply the configuration to create it.`,
      address: addr.key,
    });
    return fail();
  }
  if (provider?.multiHost) {
    diags.error('E_IMPORT_NOT_SUPPORTED', `Resources of type "${addr.type}" cannot be imported`, {
      detail: `A ${addr.type} has a part on each of its hosts: apply the configuration, and tsinfra adopts the parts an earlier run left on them.`,
      address: addr.key,
    });
    return fail();
  }

  const planned = await run.plan({ mode: 'normal', refresh: false, targets: [addr.resource.key], replace: [] });
  diags.append(planned.diagnostics);
  if (hasErrors(planned.diagnostics) || !planned.plan || !planned.context) return fail();
  const change = planned.plan.changes.find((c) => c.address === addr.key);
  if (!change) {
    const declared = planned.plan.changes.filter((c) => c.type === addr.type && c.name === addr.name && c.action !== 'delete').map((c) => c.address);
    diags.error('E_IMPORT_NOT_IN_CONFIG', `The configuration declares no instance ${addr.key}`, {
      detail: declared.length
        ? `Instances of ${addr.resource.key}: ${declared.join(', ')}.`
        : `${addr.resource.key} has no instances (count = 0 or an empty for_each).`,
      address: addr.key,
    });
    return fail();
  }
  if (change.before !== null) {
    diags.error('E_IMPORT_ALREADY_MANAGED', `${addr.key} is already in the state`, {
      detail:
        `${change.movedFrom ? `A moved block maps ${change.movedFrom} in the state to it. ` : ''}` +
        `To adopt another object as ${addr.key}, first forget the current one with: tsinfra state rm ${addr.key}`,
      address: addr.key,
    });
    return fail();
  }

  const after = change.after ?? {};
  let attributes: ValueObject;
  try {
    const session = await run.sessions.session(change.host, planned.context);
    onProgress?.(`Importing ${JSON.stringify(req.id)} from ${change.host}...`);
    const imported = (await session.call('resource.import', { type: addr.type, id: req.id })).state as ValueObject | null;
    const complete = imported && (await completeFromConfiguration(session, addr.type, imported, after));
    if (!complete) {
      diags.error('E_IMPORT_NOT_FOUND', `Cannot import ${addr.key}: no such object on ${change.host}`, {
        detail: `The agent on ${change.host} found no ${addr.type} with id ${JSON.stringify(req.id)}. Check the id, and that the resource's host is where the object is.`,
        address: addr.key,
      });
      return fail();
    }
    attributes = complete;
  } catch (e) {
    if (!(e instanceof AgentError)) throw e;
    diags.error(e.code, `Cannot import ${addr.key} from ${change.host}: ${e.message}`, { address: addr.key });
    return fail();
  }

  // Only now, when the object exists: importing another object than the configured one is allowed, but worth a word.
  const configuredId = after['id'];
  const importedId = attributes['id'] ?? req.id;
  if (configuredId !== undefined && !isUnknown(configuredId) && !valuesEqual(configuredId, importedId)) {
    diags.warning(
      'E_IMPORT_ID_MISMATCH',
      `The configuration of ${addr.key} describes object ${JSON.stringify(configuredId)}, not the imported ${JSON.stringify(importedId)}`,
      {
        detail:
          'tsinfra plan will propose to replace the imported object with the configured one. Change the configuration to describe this object to keep it.',
        address: addr.key,
      },
    );
  }

  const instance = recordedInstance(change, attributes);
  const next = run.stored ? cloneState(run.stored) : newState(TSINFRA_VERSION);
  upsertResource(next, instance);
  const writer = new StateWriter(backend, run.stored);
  await writer.persist(next);
  const serial = writer.current?.serial;
  return { instance, ...(serial !== undefined ? { serial } : {}), diagnostics: diags.items };
}

/**
 * When the configured object is the imported one, reads it again with the configured
 * attributes overlaid: the agent reports what it observes and keeps what it cannot
 * observe. Otherwise the imported attributes stand (and plan shows the difference).
 * Null when the object vanished in between.
 */
async function completeFromConfiguration(session: AgentSession, type: string, imported: ValueObject, planned: ValueObject): Promise<ValueObject | null> {
  const plannedId = planned['id'];
  if (plannedId === undefined || isUnknown(plannedId) || !valuesEqual(plannedId, imported['id'] ?? null)) return imported;
  const overlaid: Record<string, Value> = { ...imported };
  for (const [k, v] of Object.entries(planned)) if (!containsUnknown(v)) overlaid[k] = v;
  const res = await session.call('resource.read', { items: [{ type, state: overlaid }] });
  const item = res.items[0];
  if (!item) throw new AgentError('E_RPC_INVALID', 'the agent answered a read of one object with no item', session.host);
  if ('error' in item) throw new AgentError(item.error.code, item.error.message, session.host, item.error.data);
  return item.state as ValueObject | null;
}

function recordedInstance(change: Change, attributes: ValueObject): ResourceInstanceState {
  return {
    address: change.address,
    type: change.type,
    name: change.name,
    ...(change.index !== undefined ? { index: change.index } : {}),
    host: change.host,
    attributes: attributes as Record<string, unknown>,
    sensitivePaths: [...change.sensitivePaths],
    dependencies: [...change.dependencies],
    status: 'ready',
    ...(change.createBeforeDestroy ? { createBeforeDestroy: true } : {}),
  };
}
