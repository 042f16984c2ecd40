// The `source` attribute of an image: a local archive or directory (prefix form), or a
// registry reference in Docker's syntax. Parsing is pure so that the provider's check
// and the agent agree on what a source means.
import { isAbsolute } from 'node:path';
import { AgentFailure } from '../rpc/failure.js';
import { IMAGE_ERRORS } from './image-errors.js';

export type LocalSourceKind = 'oci-archive' | 'docker-archive' | 'rootfs';

export interface LocalImageSource {
  readonly kind: LocalSourceKind;
  /** Absolute path of the archive (a file) or the root filesystem (a directory). */
  readonly path: string;
}

export interface RegistryImageSource {
  readonly kind: 'registry';
  /** The reference as written. */
  readonly reference: string;
  /** `docker.io` when the reference names no registry. */
  readonly registry: string;
  /** `library/nginx` */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

export type ImageSource = LocalImageSource | RegistryImageSource;

export const LOCAL_SOURCE_FORMS = 'oci-archive:/path/to/image.tar, docker-archive:/path/to/image.tar or rootfs:/path/to/directory';

export const REGISTRY_UNSUPPORTED_MESSAGE = `registry pulls are not supported by this agent yet; use oci-archive:, docker-archive: or rootfs: (${LOCAL_SOURCE_FORMS})`;

const LOCAL_PREFIXES: readonly LocalSourceKind[] = ['oci-archive', 'docker-archive', 'rootfs'];

// Docker's reference grammar (distribution/reference), without the parts nobody uses.
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:localhost|[a-zA-Z0-9-]+(?:\\.[a-zA-Z0-9-]+)+|[a-zA-Z0-9-]+(?:\\.[a-zA-Z0-9-]+)*:[0-9]+|\\[[0-9a-fA-F:]+\\](?::[0-9]+)?)';
const REFERENCE_RE = new RegExp(
  `^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$`,
);

function invalidSource(source: string, why: string): AgentFailure {
  return new AgentFailure(IMAGE_ERRORS.source, `image source ${JSON.stringify(source)}: ${why}`);
}

/** Throws E_IMAGE_SOURCE for a source that is none of the known forms. */
export function parseImageSource(source: string): ImageSource {
  for (const kind of LOCAL_PREFIXES) {
    if (!source.startsWith(`${kind}:`)) continue;
    const path = source.slice(kind.length + 1);
    if (path === '') throw invalidSource(source, `${kind}: needs a path, like ${kind}:/srv/images/app${kind === 'rootfs' ? '' : '.tar'}`);
    if (!isAbsolute(path)) throw invalidSource(source, `${kind}: needs an absolute path (the agent may run anywhere on the host)`);
    if (path.includes('\0')) throw invalidSource(source, 'the path contains a NUL character');
    return { kind, path };
  }
  const m = REFERENCE_RE.exec(source);
  if (!m) {
    throw invalidSource(source, `not a registry reference (like registry.example.com/app:1.2) nor one of ${LOCAL_SOURCE_FORMS}`);
  }
  const [, domain, path, tag, digest] = m;
  const registry = domain ?? 'docker.io';
  const repository = registry === 'docker.io' && !path!.includes('/') ? `library/${path}` : path!;
  return {
    kind: 'registry',
    reference: source,
    registry,
    repository,
    ...(tag !== undefined ? { tag } : digest === undefined ? { tag: 'latest' } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

export function isLocalSource(s: ImageSource): s is LocalImageSource {
  return s.kind !== 'registry';
}
