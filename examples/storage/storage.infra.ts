// The TypeScript half of the storage example: a thin-pool volume for containers (a
// thin LV with ext4, mounted where directory volumes live, so `mount { type = "volume" }`
// uses it alike) and a raw linear volume for a container's block device, both in the
// pool and group the HCL file declares.
import { Manifest, ref } from 'tsinfra';

const m = new Manifest();
const local = ref.host('local');
const data = ref.volume_group('data');
const pool = ref.thin_pool('pool');

m.resource('volume', 'cache', {
  host: local,
  thin_pool: pool.id,
  size: '512M',
});

const raw = m.resource('logical_volume', 'raw', {
  host: local,
  volume_group: data.id,
  size: '256M',
});

m.output('raw_device', { value: raw.path });

export default m;
