// Copy to config/local.ts (git-ignored) to point a develop build somewhere else than 127.0.0.1, e.g. a dev server on
// your LAN for a phone preview (start it with WXMP_SANDBOX_HOST=0.0.0.0 so the phone reaches the sandbox too).
import type { LocalConfig } from './index';

const local: LocalConfig = {
  apiBase: 'http://192.168.1.20:8080/api/v1',
  sandboxBase: 'http://192.168.1.20:8081',
};

export default local;
