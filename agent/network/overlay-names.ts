// What the engine and the agent agree on for an overlay network: the VXLAN device's name
// beside the bridge, the encapsulation's cost, the default UDP port.

/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers. */
export const VXLAN_OVERHEAD = 50;
export const DEFAULT_VXLAN_PORT = 4789;

/** The VXLAN device of an overlay bridge: `tsi-ovl-3fa9c1` -> `tsixovl-3fa9c1` (same length, still a tsi name). */
export function vxlanNameFor(bridge: string): string {
  return `tsix${bridge.slice(4)}`;
}
