// The agent only touches links whose names it could have created: `tsi` prefix, at
// most 15 characters (IFNAMSIZ - 1), lower-case letters, digits and dashes. Anything
// else (eth0, a typo, an injected option like `-all`) is refused before a command runs.
import { AgentFailure } from '../rpc/failure.js';

export const LINK_PREFIX = 'tsi';
export const LINK_NAME_MAX = 15;
const SAFE_LINK_NAME = /^tsi[a-z0-9-]*$/;

export function isSafeLinkName(name: string): boolean {
  return name.length <= LINK_NAME_MAX && SAFE_LINK_NAME.test(name);
}

/** Throws E_UNSAFE_NAME unless tsinfra could own a link of this name. */
export function checkLinkName(name: string): string {
  if (!isSafeLinkName(name)) {
    throw new AgentFailure(
      'E_UNSAFE_NAME',
      `refusing to touch link ${JSON.stringify(name)}: tsinfra only manages links named ${LINK_PREFIX}... (at most ${LINK_NAME_MAX} characters of a-z, 0-9 and -)`,
    );
  }
  return name;
}
