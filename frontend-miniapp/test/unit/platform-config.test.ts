import { beforeEach, describe, expect, test } from '@jest/globals';
import * as fs from 'fs';
import * as path from 'path';
import { currentEnv, profileFor, RELEASE_API_BASE } from '../../miniprogram/config/index';
import { canSell, isIOS } from '../../miniprogram/core/platform';
import { FakeWx, installFakeWx } from '../fake-wx';

let fake: FakeWx;
beforeEach(() => {
  fake = installFakeWx();
});

describe('the iOS gate', () => {
  test('on iOS virtual items cannot be sold; physical products can', () => {
    fake.platform = 'ios';
    expect(isIOS()).toBe(true);
    for (const kind of ['article', 'course', 'membership', 'quiz']) expect(canSell(kind)).toBe(false);
    expect(canSell('product')).toBe(true);
  });

  test('on Android, in the devtools and on Windows everything can', () => {
    for (const p of ['android', 'devtools', 'windows', 'mac']) {
      fake.platform = p;
      expect(canSell('article')).toBe(true);
      expect(canSell('membership')).toBe(true);
    }
  });
});

describe('profiles', () => {
  test('release and trial are https only and contain no sandbox, whatever config/local.ts says', () => {
    const local = { apiBase: 'http://192.168.1.20:8080/api/v1', sandboxBase: 'http://192.168.1.20:8081' };
    for (const env of ['release', 'trial'] as const) {
      const p = profileFor(env, local);
      expect(p.apiBase).toBe(RELEASE_API_BASE);
      expect(p.apiBase).toMatch(/^https:\/\//);
      expect(p.sandboxBase).toBeNull();
      const text = JSON.stringify(p);
      expect(text).not.toMatch(/http:\/\//);
      expect(text).not.toMatch(/sandbox\/|:8081|127\.0\.0\.1|192\.168\./);
    }
  });

  test('develop points at the dev server and its sandbox, or at the LAN address from config/local.ts', () => {
    expect(profileFor('develop', null)).toMatchObject({ apiBase: 'http://127.0.0.1:8080/api/v1', sandboxBase: 'http://127.0.0.1:8081' });
    expect(profileFor('develop', { apiBase: 'http://10.0.0.5:8080/api/v1/', sandboxBase: 'http://10.0.0.5:8081' })).toMatchObject({
      apiBase: 'http://10.0.0.5:8080/api/v1',
      sandboxBase: 'http://10.0.0.5:8081',
    });
  });

  test('the profile follows envVersion; anything unknown is release', () => {
    fake.envVersion = 'develop';
    expect(currentEnv()).toBe('develop');
    fake.envVersion = 'trial';
    expect(currentEnv()).toBe('trial');
    fake.envVersion = 'release';
    expect(currentEnv()).toBe('release');
    fake.envVersion = 'something-new';
    expect(currentEnv()).toBe('release');
  });

  test('the sandbox is reached only through core/sandbox.ts, which a release profile disables', () => {
    const root = path.resolve(__dirname, '../../miniprogram');
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of fs.readdirSync(dir)) {
        const p = path.join(dir, name);
        if (name === 'miniprogram_npm' || name.startsWith('local')) continue;
        if (fs.statSync(p).isDirectory()) walk(p);
        else if (/\.(ts|js|wxml|json)$/.test(name) && /\/sandbox\/|:8081/.test(fs.readFileSync(p, 'utf8'))) {
          offenders.push(path.relative(root, p));
        }
      }
    };
    walk(root);
    expect(offenders.sort()).toEqual(['config/index.ts', 'core/sandbox.ts']);
  });
});
