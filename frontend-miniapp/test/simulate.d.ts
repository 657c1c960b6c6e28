declare module 'miniprogram-simulate' {
  export interface RenderedComponent {
    instance: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    data: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    dom: HTMLElement;
    attach(parent: Element): void;
    detach(): void;
    querySelector(selector: string): RenderedComponent | null;
    querySelectorAll(selector: string): RenderedComponent[];
    dispatchEvent(name: string, options?: Record<string, unknown>): void;
    setData(data: Record<string, unknown>, cb?: () => void): void;
    triggerLifeTime(name: string, ...args: unknown[]): void;
    triggerPageLifeTime(name: string, ...args: unknown[]): void;
    toJSON(): unknown;
  }
  export function load(path: string | Record<string, unknown>, tagName?: string | Record<string, unknown>, options?: Record<string, unknown>): string;
  export function render(id: string, properties?: Record<string, unknown>): RenderedComponent;
  export function sleep(ms: number): Promise<void>;
}
