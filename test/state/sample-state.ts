// A small state with the shapes state files must carry.
import { newState, upsertResource, type State } from '../../state/model.js';

export function sampleState(): State {
  const s = newState('0.1.0-test');
  upsertResource(s, {
    address: 'network.front[0]',
    type: 'network',
    name: 'front',
    index: 0,
    host: 'host.local',
    attributes: { driver: 'bridge', subnet: '172.18.0.0/24', mtu: 1500, nat: true },
    sensitivePaths: [],
    dependencies: [],
    status: 'ready',
  });
  upsertResource(s, {
    address: 'container.web["a"]',
    type: 'container',
    name: 'web',
    index: 'a',
    host: 'host.web[1]',
    attributes: {
      image: 'sha256:abc',
      env: { TZ: 'UTC', TOKEN: 'tok-secret-1' },
      extra_hosts: { 'db.local': 'hosts-secret-2' },
      password: 'pw-secret-3',
      mount: [{ type: 'bind', source: '/srv', target: '/www' }],
    },
    sensitivePaths: ['env.TOKEN', 'password', 'extra_hosts.db.local'],
    dependencies: ['network.front[0]'],
    status: 'tainted',
    createBeforeDestroy: true,
  });
  upsertResource(s, {
    address: 'image.nginx',
    type: 'image',
    name: 'nginx',
    host: 'host.local',
    attributes: { source: 'docker.io/library/nginx:1.27', username: 'me', password: 'registry-secret-4' },
    sensitivePaths: ['password'],
    dependencies: [],
    status: 'ready',
  });
  s.outputs['web_ip'] = { value: '172.18.0.10', sensitive: false };
  s.outputs['db_password'] = { value: { user: 'app', pass: 'output-secret-5' }, sensitive: true };
  return s;
}

/** Secret strings in sampleState(): none may appear in an encrypted file. */
export const SAMPLE_SECRETS = ['tok-secret-1', 'hosts-secret-2', 'pw-secret-3', 'registry-secret-4', 'output-secret-5'];
