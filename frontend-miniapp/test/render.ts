import * as path from 'path';
import * as simulate from 'miniprogram-simulate';

export const ROOT = path.resolve(__dirname, '../miniprogram');

/**
 * Loads a page (written with Component()) or a component from its source folder with WeChat's official WXML
 * compiler, renders and attaches it. Pages then get their lifecycle by calling instance.onLoad(query) etc.
 */
const loaded = new Map<string, string>();

export function mount(rel: string, props?: Record<string, unknown>): simulate.RenderedComponent {
  // simulate caches compiled WXML per path: load each path once per test file, render it as often as needed
  let id = loaded.get(rel);
  if (!id) {
    id = simulate.load(path.join(ROOT, rel), { rootPath: ROOT, compiler: 'official' });
    loaded.set(rel, id);
  }
  const comp = simulate.render(id, props);
  comp.attach(document.createElement('parent-wrapper'));
  return comp;
}

/** The rendered text of the component, whitespace squeezed (what a user reads). */
export function text(comp: simulate.RenderedComponent): string {
  return (comp.dom.textContent ?? '').replace(/\s+/g, ' ').trim();
}

export function has(comp: simulate.RenderedComponent, selector: string): boolean {
  return comp.querySelector(selector) != null;
}

export async function settle(times = 50): Promise<void> {
  for (let i = 0; i < times; i++) await Promise.resolve();
}
