// `tsinfra { required_version = ">= 0.1, < 2" }`: version constraints as Terraform
// writes them (=, !=, >, >=, <, <=, ~>), comma-separated, all of which must hold.

type Version = readonly number[];

function parseVersion(s: string): Version | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(s.trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : undefined;
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** True when `version` satisfies `constraint`; undefined when the constraint is malformed. */
export function satisfies(version: string, constraint: string): boolean | undefined {
  const v = parseVersion(version);
  if (!v) return undefined;
  for (const part of constraint.split(',')) {
    const m = /^\s*(=|!=|>=|<=|>|<|~>)?\s*(\S+)\s*$/.exec(part);
    const want = m ? parseVersion(m[2]!) : undefined;
    if (!m || !want) return undefined;
    const c = compare(v, want);
    const digits = m[2]!.replace(/^v/, '').split('.').length;
    let ok: boolean;
    switch (m[1] ?? '=') {
      case '=':
        ok = c === 0;
        break;
      case '!=':
        ok = c !== 0;
        break;
      case '>':
        ok = c > 0;
        break;
      case '>=':
        ok = c >= 0;
        break;
      case '<':
        ok = c < 0;
        break;
      case '<=':
        ok = c <= 0;
        break;
      default: {
        // ~> 1.2 allows 1.x from 1.2; ~> 1.2.3 allows 1.2.x from 1.2.3.
        const fixed = Math.max(1, digits - 1);
        ok = c >= 0 && v.slice(0, fixed).every((n, i) => n === want[i]);
      }
    }
    if (!ok) return false;
  }
  return true;
}
