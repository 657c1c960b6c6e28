/**
 * Where the mini-program talks to, by build profile (wx.getAccountInfoSync().miniProgram.envVersion):
 *  - develop: a dev server (./scripts/dev.sh) on this machine, or the LAN address in config/local.ts (git-ignored,
 *    see config/local.example.ts); login codes and payments come from the dev server's sandbox control API.
 *  - trial, release: https only, and no sandbox at all (test/unit/config.test.ts asserts it).
 */
export type EnvVersion = 'develop' | 'trial' | 'release';

export interface Profile {
  env: EnvVersion;
  /** Base of every API call, e.g. https://wxmp.example.com/api/v1 */
  apiBase: string;
  /** The dev sandbox's control API (login codes, the simulated cashier); null outside develop. */
  sandboxBase: string | null;
  /** Subscribe-message template ids asked for in the pay tap (at most 3; empty: nothing is asked). */
  subscribeTemplateIds: string[];
}

/** Overrides for a develop build, from the git-ignored config/local.ts. */
export interface LocalConfig {
  apiBase?: string;
  sandboxBase?: string;
  subscribeTemplateIds?: string[];
}

/** The production API. Change it here (https, a domain listed under 开发管理 → 服务器域名 → request 合法域名). */
export const RELEASE_API_BASE = 'https://wxmp.example.com/api/v1';

const DEV_API_BASE = 'http://127.0.0.1:8080/api/v1';
const DEV_SANDBOX_BASE = 'http://127.0.0.1:8081';

export function profileFor(env: EnvVersion, local: LocalConfig | null): Profile {
  if (env === 'develop') {
    return {
      env,
      apiBase: stripSlash(local?.apiBase ?? DEV_API_BASE),
      sandboxBase: stripSlash(local?.sandboxBase ?? DEV_SANDBOX_BASE),
      subscribeTemplateIds: (local?.subscribeTemplateIds ?? []).slice(0, 3),
    };
  }
  // trial and release ignore config/local.ts entirely: no http, no sandbox can leak into them.
  return { env, apiBase: RELEASE_API_BASE, sandboxBase: null, subscribeTemplateIds: [] };
}

export function currentEnv(): EnvVersion {
  try {
    const v = wx.getAccountInfoSync().miniProgram.envVersion;
    return v === 'develop' || v === 'trial' ? v : 'release';
  } catch {
    return 'release'; // unknown means the strictest profile
  }
}

function loadLocal(): LocalConfig | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('./local');
    return (mod && (mod.default ?? mod)) as LocalConfig;
  } catch {
    return null;
  }
}

let active: Profile | null = null;

export function config(): Profile {
  if (!active) {
    const env = currentEnv();
    active = profileFor(env, env === 'develop' ? loadLocal() : null);
  }
  return active;
}

/** Tests (and the live layer) point the app at a server of their choosing; null goes back to the profile. */
export function useProfile(profile: Profile | null): void {
  active = profile;
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
