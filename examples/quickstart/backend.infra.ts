// The same configuration can mix TypeScript manifests with HCL files: this one adds an
// internal network (no NAT) next to the HCL one and a worker container on both networks,
// which references the HCL web container's address.
import { Manifest, ref } from 'tsinfra';

const m = new Manifest();
const local = ref.host('local');
const front = ref.network('front');
const web = ref.container('web');
const busybox = ref.image('busybox');

const back = m.resource('network', 'back', {
  host: local,
  driver: 'bridge',
  name: 'quickstart-back',
  subnet: '10.213.251.0/24',
  internal: true,
});

const worker = m.resource('container', 'worker', {
  host: local,
  image: busybox.id,
  command: ['sh', '-c', 'while true; do wget -q -O- http://web/ >/dev/null && echo "web is up"; sleep 30; done'],
  network: [{ id: back.id }, { id: front.id }],
  extra_hosts: { 'web.quickstart': web.ipAddress },
  resources: { memory: '32M', pids_limit: 16 },
  restart: { policy: 'always' },
  stop_timeout: '1s',
});

m.output('networks', { value: { front: front.bridge, back: back.bridge } });
m.output('worker_ips', { value: worker.ipAddresses });

export default m;
