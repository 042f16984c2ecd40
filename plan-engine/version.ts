// The tsinfra version, read once from package.json (state files and agents carry it).
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
export const TSINFRA_VERSION: string = pkg.version;
