// zod's translated error messages, left out of the agent bundle. `zod` exports them all
// as `z.locales` (64 languages, 0.4 MB of the bundle's 1.4 MB), so esbuild cannot drop
// them; the agent never selects one (its messages are English, zod's default, which zod
// loads on its own). Every fresh host would receive, decompress and read them.
import type { Plugin } from 'esbuild';

const NAMESPACE = 'tsinfra-zod-locales';

/** Replaces zod's locales/index.js (the `z.locales` namespace) with an empty module. */
export function zodLocalesPlugin(): { plugin: Plugin; replaced: () => boolean } {
  let replaced = false;
  const plugin: Plugin = {
    name: NAMESPACE,
    setup(build) {
      build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
        /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: NAMESPACE } : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: NAMESPACE }, () => {
        replaced = true;
        return { contents: 'export {};', loader: 'js' };
      });
    },
  };
  return { plugin, replaced: () => replaced };
}
