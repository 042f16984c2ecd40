// `@cdktf/hcl2json` starts its WebAssembly parser as soon as it is imported (about
// 0.5 s and 75 MB): load it on first use only, so that commands and threads that
// parse nothing (or only what the pure-JS fast path handles) never pay for it.
type Hcl2Json = typeof import('@cdktf/hcl2json');

let loading: Promise<Hcl2Json> | undefined;

export function hcl2json(): Promise<Hcl2Json> {
  loading ??= import('@cdktf/hcl2json');
  return loading;
}
