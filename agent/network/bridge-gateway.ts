// The gateway address on a tsinfra bridge, as the bridge and the overlay drivers both
// keep it: the planned gateway checked against its subnet, converged onto the link with
// the mtu and the up state, and read back.
import type { Progress } from '../resources/registry.js';
import type { IpRoute, Link, LinkAddress } from './iproute.js';
import type { Ipv4Cidr } from './ipv4-cidr.js';

/** Whether `address` is the network or broadcast address of `subnet` (no gateway can be; /31 and /32 have neither). */
export function isNetworkOrBroadcast(subnet: Ipv4Cidr, address: number): boolean {
  const broadcast = (subnet.network | (0xffffffff >>> subnet.prefix)) >>> 0;
  return subnet.prefix <= 30 && (address === subnet.network || address === broadcast);
}

/** The link's IPv4 address that stands for the gateway: the expected one if present, else the first global one. */
export function gatewayAddress(link: Link, expected: string | null | undefined): LinkAddress | undefined {
  const v4 = link.addresses.filter((a) => a.family === 'inet' && a.scope === 'global');
  return v4.find((a) => a.address === expected) ?? v4[0];
}

export interface BridgeLinkWanted {
  readonly bridge: string;
  /** null: leave the link's mtu as it is. */
  readonly mtu: number | null;
  readonly gateway: string;
  readonly subnet: Ipv4Cidr;
}

/** Brings an existing bridge to the wanted mtu, the gateway as its only IPv4 address, and up. */
export async function convergeBridgeLink(ip: IpRoute, link: Link, want: BridgeLinkWanted, progress: Progress): Promise<void> {
  if (want.mtu !== null && link.mtu !== want.mtu) {
    progress(`setting mtu of ${want.bridge} to ${want.mtu}`);
    await ip.setMtu(want.bridge, want.mtu);
  }
  const address = `${want.gateway}/${want.subnet.prefix}`;
  const v4 = link.addresses.filter((a) => a.family === 'inet');
  if (!v4.some((a) => `${a.address}/${a.prefix}` === address)) {
    progress(`assigning ${address} to ${want.bridge}`);
    await ip.addAddress(want.bridge, address);
  }
  // The bridge is ours (tsi name): any other IPv4 address on it is a previous gateway.
  for (const a of v4) {
    const cidr = `${a.address}/${a.prefix}`;
    if (cidr !== address) await ip.deleteAddress(want.bridge, cidr);
  }
  if (!link.up) await ip.setUp(want.bridge);
}
