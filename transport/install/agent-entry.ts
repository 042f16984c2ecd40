// The agent's code (agent-code.cjs, made by agent-bundle.ts and run by agent-launcher.ts
// as agent.mjs): the agent's three programs in one script, chosen by the first argument.
//
//   node agent.mjs                            the per-session agent (stdio protocol)
//   node agent.mjs supervisor                 the host's container supervisor
//   node agent.mjs init create|exec IN OUT    a container init
//
// The programs start each other through agent/entry-points.ts, which reads
// TSINFRA_AGENT_BUNDLE (set by the launcher) to know they are this one file. Each program
// is imported only when chosen (esbuild keeps dynamic imports lazy). No top-level await
// and no import.meta: the bundle is CommonJS, which V8's code cache can hold.
const role = process.argv[2];
// The programs read their own arguments from argv[2] on.
if (role !== undefined) process.argv.splice(2, 1);
if (role === undefined) void import('../../agent/main.js');
else if (role === 'supervisor') void import('../../agent/supervisor/supervisor-main.js');
else if (role === 'init') void import('../../agent/runtime/init/init-main.js');
else {
  process.stderr.write(`tsinfra agent: unknown program ${JSON.stringify(role)}; usage: agent.mjs [supervisor | init create|exec IN OUT]\n`);
  process.exit(2);
}
