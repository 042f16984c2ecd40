// agent.mjs, the file hosts run (`node agent.mjs [supervisor | init ...]`): checks the
// Node.js version, then runs the agent's code, agent-code.cjs (agent-entry.ts bundled as
// one CommonJS script), through launch-agent.ts.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAUNCH_FILE_NAMES } from './bundle-files.js';
import { launchAgent } from './launch-agent.js';

const MIN_NODE_MAJOR = 20;

const major = Number(process.versions.node.split('.')[0]);
if (!(major >= MIN_NODE_MAJOR)) {
  process.stderr.write(`tsinfra agent: needs Node.js ${MIN_NODE_MAJOR} or newer, ${process.execPath} is ${process.version}\n`);
  process.exit(1);
}

const self = fileURLToPath(import.meta.url);
launchAgent(createRequire(self), { ...LAUNCH_FILE_NAMES, dir: dirname(self), entry: self });
