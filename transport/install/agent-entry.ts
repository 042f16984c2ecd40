// The entry point of the bundled agent (agent.mjs, made by agent-bundle.ts): the agent's
// three programs in one file, chosen by the first argument.
//
//   node agent.mjs                            the per-session agent (stdio protocol)
//   node agent.mjs supervisor                 the host's container supervisor
//   node agent.mjs init create|exec IN OUT    a container init
//
// The programs start each other through agent/entry-points.ts, which reads
// TSINFRA_AGENT_BUNDLE to know they are this one file. Each program is imported only
// when chosen (esbuild keeps dynamic imports lazy), so nothing of theirs runs before the
// Node version is checked.
import { fileURLToPath } from 'node:url';

const MIN_NODE_MAJOR = 20;

const major = Number(process.versions.node.split('.')[0]);
if (!(major >= MIN_NODE_MAJOR)) {
  process.stderr.write(`tsinfra agent: needs Node.js ${MIN_NODE_MAJOR} or newer, ${process.execPath} is ${process.version}\n`);
  process.exit(1);
}
process.env['TSINFRA_AGENT_BUNDLE'] = fileURLToPath(import.meta.url);

const role = process.argv[2];
// The programs read their own arguments from argv[2] on.
if (role !== undefined) process.argv.splice(2, 1);
if (role === undefined) await import('../../agent/main.js');
else if (role === 'supervisor') await import('../../agent/supervisor/supervisor-main.js');
else if (role === 'init') await import('../../agent/runtime/init/init-main.js');
else {
  process.stderr.write(`tsinfra agent: unknown program ${JSON.stringify(role)}; usage: agent.mjs [supervisor | init create|exec IN OUT]\n`);
  process.exit(2);
}
