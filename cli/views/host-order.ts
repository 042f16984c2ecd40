// The order hosts are listed in: by address, numbers compared as numbers, so that
// `host.web[2]` comes before `host.web[10]`.
export function compareHosts(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
