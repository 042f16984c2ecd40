// The TypeScript half of the networks example, through the typed API: a macvlan network
// on VLAN 20 of h3 (kept apart from VLAN 10 by the switch), and a second overlay, across
// h2 and h3 only, with a smaller subnet, no NAT to the outside and two containers that
// reach each other by name. Hosts and images are the ones main.hcl declares.
import { Manifest, ref } from 'tsinfra';

const m = new Manifest();
const node = ref.host('node');
const busybox = ref.image('busybox');

const vlan20 = m.resource('network', 'vlan20', {
  host: node.key('h3'),
  driver: 'macvlan',
  parent: 'eth0.20',
  vlan: 20,
  subnet: '10.20.0.0/24',
  gateway: '10.20.0.1',
  ip_range: '10.20.0.96/28',
});

// Slices of /26 (62 addresses per host): h2 gets 10.92.0.0/26, h3 10.92.0.64/26.
const backend = m.resource('overlay_network', 'backend', {
  hosts: [node.key('h2'), node.key('h3')],
  subnet: '10.92.0.0/24',
  host_prefix: 26,
  nat: false,
});

m.resource('container', 'cache', {
  host: node.key('h2'),
  image: busybox.key('h2').id,
  command: ['sh', '-c', 'mkdir -p /www && echo cached > /www/index.html && exec httpd -f -p 80 -h /www'],
  network: [{ id: backend.id, aliases: ['cache.backend'] }],
  stop_timeout: '1s',
});

const reporter = m.resource('container', 'reporter', {
  host: node.key('h3'),
  image: busybox.key('h3').id,
  command: ['sh', '-c', 'while true; do wget -q -O- http://cache.backend/; sleep 30; done'],
  network: [{ id: backend.id }, { id: vlan20.id, ip: '10.20.0.100' }],
  stop_timeout: '1s',
});

m.output('backend_bridge', { value: backend.bridge });
m.output('reporter_addresses', { value: reporter.ipAddresses });

export default m;
