// Cgroup ids and parents become directory names: only plain path components pass.

const COMPONENT = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Throws for an id that is not one plain directory name (a bug in the caller). */
export function checkCgroupId(id: string): void {
  if (!COMPONENT.test(id) || id.length > 200) throw new Error(`bug: invalid cgroup id ${JSON.stringify(id)}`);
}

/** A parent is one or more plain components separated by "/" ("tsinfra", "tsit-1f2e/x"). */
export function checkCgroupParent(parent: string): void {
  if (!parent.split('/').every((c) => COMPONENT.test(c))) throw new Error(`bug: invalid cgroup parent ${JSON.stringify(parent)}`);
}
