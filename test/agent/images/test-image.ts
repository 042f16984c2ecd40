// Runs scripts/build-test-image.sh (the busybox image the quickstart and the container
// tests use) into a directory.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const BUILD_SCRIPT = fileURLToPath(new URL('../../../../scripts/build-test-image.sh', import.meta.url));

export type TestImageFormat = 'oci' | 'docker' | 'rootfs';

export interface TestImage {
  readonly path: string;
  /** What the script printed: `sha256:...` ids (archives only). */
  readonly id?: string;
  readonly digest?: string;
}

export async function buildTestImage(dir: string, format: TestImageFormat, name = `busybox-${format}${format === 'rootfs' ? '' : '.tar'}`): Promise<TestImage> {
  const path = join(dir, name);
  const { stdout } = await promisify(execFile)('bash', [BUILD_SCRIPT, path, '--format', format], { env: { ...process.env, TMPDIR: dir } });
  const id = /\bid (sha256:[0-9a-f]{64})/.exec(stdout)?.[1];
  const digest = /\bdigest (sha256:[0-9a-f]{64})/.exec(stdout)?.[1];
  return { path, ...(id ? { id } : {}), ...(digest ? { digest } : {}) };
}
