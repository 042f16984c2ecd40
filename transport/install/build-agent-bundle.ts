// `node dist/transport/install/build-agent-bundle.js [OUT_DIR]`: bundles the compiled agent
// for installation on hosts (default OUT_DIR: dist/agent-bundle). Run after `tsc`.
import { buildAgentBundle, bundleKoffiDirs, defaultAgentBundleDir } from './agent-bundle.js';

const outDir = process.argv[2] ?? defaultAgentBundleDir();
const bundle = await buildAgentBundle({ outDir });
process.stdout.write(`agent bundle ${bundle.version} in ${outDir} (native modules: ${bundleKoffiDirs(bundle).join(', ')})\n`);
