// The same configuration can mix TypeScript manifests with HCL files: this one adds an
// internal network (no NAT) next to the HCL one and references it.
import { Manifest, ref } from 'tsinfra';

const m = new Manifest();
const local = ref.host('local');
const front = ref.network('front');

const back = m.resource('network', 'back', {
  host: local,
  driver: 'bridge',
  name: 'quickstart-back',
  subnet: '10.213.251.0/24',
  internal: true,
});

m.output('networks', { value: { front: front.bridge, back: back.bridge } });

export default m;
