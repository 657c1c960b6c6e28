import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface LiveState {
  api: string;
  sandbox: string;
  password: string;
  pid: number | null;
  dataDir: string | null;
  /** Which endpoints this server has (the feed and events arrive from other issues). */
  features: { feed: boolean; items: boolean; events: boolean; meItems: boolean; quizList: boolean };
}

/** Set by the global setup (jest's own process); the test workers it forks inherit it. */
export function stateFile(): string {
  if (!process.env.WXMP_LIVE_STATE) {
    process.env.WXMP_LIVE_STATE = path.join(os.tmpdir(), `wxmp-miniapp-live-${process.pid}.json`);
  }
  return process.env.WXMP_LIVE_STATE;
}

export function liveState(): LiveState {
  return JSON.parse(fs.readFileSync(stateFile(), 'utf8')) as LiveState;
}
