import { Args, Flags } from '@oclif/core';
import { BaseCommand, varFlags } from '../base-command.js';

import { openWorkspace } from '../../plan-engine/workspace.js';
import { Run } from '../../plan-engine/run.js';
import { hasErrors } from '../../plan-engine/diagnostics.js';
import { importInstance } from '../../plan-engine/import.js';
import { JSON_FORMAT_VERSION, stateJson } from '../views/json-format.js';
import { renderResource } from '../views/state-view.js';
import { newState } from '../../state/model.js';
import { TSINFRA_VERSION } from '../../plan-engine/version.js';

export default class Import extends BaseCommand {
  static override summary = 'Adopt an existing object (a bridge, an LV) into the state.';
  static override description =
    "ADDR must name a resource instance the configuration declares and the state does not hold yet; ID is the object's id on the host the resource's host attribute names (for a network: the bridge's link name, tsi-...). Nothing on the host changes. Run tsinfra plan afterwards to compare the object with the configuration.";
  static override args = {
    address: Args.string({ description: 'The instance address, such as network.front or network.front[0].', required: true }),
    id: Args.string({ description: "The object's id on its host.", required: true }),
  };
  static override flags = {
    ...varFlags,
    dir: Flags.directory({ description: 'Configuration directory.', default: '.' }),
    lock: Flags.boolean({ description: 'Lock the state during the import (--lock=false to skip).', default: true, allowNo: true }),
  };
  static override examples = ['<%= config.bin %> import network.front tsi-front-2d8d', "<%= config.bin %> import 'network.lan[1]' tsi-lan-1-9c3e --dir infra"];

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Import);
    this.json = flags.json;
    const ws = await openWorkspace(flags.dir, this.varArgs());
    this.sources = ws.sources;
    if (hasErrors(ws.diagnostics)) {
      this.report(ws.diagnostics);
      this.exit(1);
    }
    const run = await Run.begin(ws, { operation: 'import', lock: flags.lock, parallelism: 1 });
    let code = 0;
    try {
      const progress = (m: string): void => {
        if (!this.json) this.out(`${args.address}: ${m}`);
      };
      const r = await importInstance(run, { address: args.address, id: args.id }, progress);
      this.report(r.diagnostics);
      if (!r.instance) code = 1;
      else if (this.json) {
        // The same redacted form as one entry of `tsinfra show --json`.
        const [resource] = stateJson({ ...newState(TSINFRA_VERSION), resources: [r.instance] })['resources'] as unknown[];
        this.outJson({ format_version: JSON_FORMAT_VERSION, id: args.id, serial: r.serial ?? null, resource });
      } else {
        this.out(
          [
            `${args.address}: Import complete.`,
            '',
            renderResource(r.instance, this.style),
            '',
            this.style.green(`Import successful! ${r.instance.address} is now managed by tsinfra (state serial ${r.serial}).`),
            'Run tsinfra plan to compare it with the configuration.',
          ].join('\n'),
        );
      }
    } finally {
      await run.close();
    }
    this.exit(code);
  }
}
