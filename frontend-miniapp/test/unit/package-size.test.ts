/**
 * WeChat refuses to upload a main package over 2 MB. The main package is every file outside the subpackage roots,
 * including what miniprogram_npm/ contributes: the devtools upload only the files the app reaches (lazyCodeLoading
 * requiredComponents + ignoreUploadUnusedFiles), so this walks that closure the same way: usingComponents from every
 * page and component, then each component's .js imports, .wxml imports/wxs and .wxss @imports.
 */
import { describe, expect, test } from '@jest/globals';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../../miniprogram');
const LIMIT = 2 * 1024 * 1024;
const app = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8')) as {
  pages: string[];
  subpackages: Array<{ root: string; pages: string[] }>;
};

function resolveModule(from: string, spec: string): string | null {
  const base = spec.startsWith('.') ? path.resolve(path.dirname(from), spec) : null;
  const candidates: string[] = [];
  if (base) candidates.push(base, `${base}.js`, path.join(base, 'index.js'));
  else {
    // a bare import from inside miniprogram_npm: the nearest miniprogram_npm/<name>
    for (let dir = path.dirname(from); dir.startsWith(ROOT); dir = path.dirname(dir)) {
      const p = path.join(dir, 'miniprogram_npm', spec);
      candidates.push(`${p}.js`, path.join(p, 'index.js'));
      if (dir === ROOT) break;
    }
  }
  return candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile()) ?? null;
}

function closure(): Set<string> {
  const files = new Set<string>();
  const seenComponents = new Set<string>();
  const addFile = (file: string) => {
    if (files.has(file) || !fs.existsSync(file)) return;
    files.add(file);
    const src = fs.readFileSync(file, 'utf8');
    if (file.endsWith('.js') || file.endsWith('.ts') || file.endsWith('.wxs')) {
      for (const m of src.matchAll(/(?:from\s*|require\()\s*["']([^"']+)["']/g)) {
        const target = resolveModule(file, m[1].replace(/\.ts$/, ''));
        const ts = m[1].startsWith('.') ? path.resolve(path.dirname(file), `${m[1]}.ts`) : null;
        if (target) addFile(target);
        else if (ts && fs.existsSync(ts)) addFile(ts);
      }
    }
    if (file.endsWith('.wxml')) {
      for (const m of src.matchAll(/<(?:import|include|wxs)[^>]*src=["']([^"']+)["']/g)) addFile(path.resolve(path.dirname(file), m[1]));
    }
    if (file.endsWith('.wxss')) {
      for (const m of src.matchAll(/@import\s+["']([^"']+)["']/g)) addFile(path.resolve(path.dirname(file), m[1]));
    }
  };
  const addComponent = (base: string) => {
    if (seenComponents.has(base)) return;
    seenComponents.add(base);
    for (const ext of ['.json', '.wxml', '.wxss', '.js', '.ts']) addFile(base + ext);
    const json = `${base}.json`;
    if (fs.existsSync(json)) {
      const using = (JSON.parse(fs.readFileSync(json, 'utf8')).usingComponents ?? {}) as Record<string, string>;
      for (const ref of Object.values(using)) addComponent(ref.startsWith('/') ? path.join(ROOT, ref) : path.resolve(path.dirname(base), ref));
    }
  };
  for (const p of app.pages) addComponent(path.join(ROOT, p));
  for (const sub of app.subpackages) for (const p of sub.pages) addComponent(path.join(ROOT, sub.root, p));
  return files;
}

const size = (files: Iterable<string>) => [...files].reduce((n, f) => n + fs.statSync(f).size, 0);
const inSub = (f: string) => app.subpackages.some((s) => f.startsWith(path.join(ROOT, s.root) + path.sep));

describe('package sizes', () => {
  test('the main package (the two tabs, shared code, the TDesign components in use) is under 2 MB', () => {
    const npm = path.join(ROOT, 'miniprogram_npm');
    expect(fs.existsSync(path.join(npm, 'tdesign-miniprogram/button/button.js'))).toBe(true); // run build:npm first
    const used = closure();
    const tdesign = [...used].filter((f) => f.startsWith(npm));
    expect(tdesign.some((f) => f.endsWith('button/button.wxml'))).toBe(true);
    expect(tdesign.some((f) => f.includes(`${path.sep}tslib${path.sep}`))).toBe(true);
    const own: string[] = [];
    const walk = (dir: string) => {
      for (const name of fs.readdirSync(dir)) {
        const p = path.join(dir, name);
        if (p === npm || name === 'local.ts') continue;
        if (fs.statSync(p).isDirectory()) walk(p);
        else if (!inSub(p)) own.push(p);
      }
    };
    walk(ROOT);
    const main = size(own) + size(tdesign);
    console.log(`main package ≈ ${(main / 1024).toFixed(0)} KiB (own ${(size(own) / 1024).toFixed(0)} KiB, TDesign in use ${(size(tdesign) / 1024).toFixed(0)} KiB of ${(size(allFiles(npm)) / 1024).toFixed(0)} KiB)`);
    expect(main).toBeLessThan(LIMIT);
  });

  test('each subpackage is under 2 MB and the tabs are in the main package', () => {
    for (const sub of app.subpackages) expect(size(allFiles(path.join(ROOT, sub.root)))).toBeLessThan(LIMIT);
    expect(app.pages).toEqual(['pages/feed/feed', 'pages/me/me']);
  });
});

function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name);
    if (fs.statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}
