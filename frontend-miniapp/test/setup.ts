// Globals the mini-program runtime gives every page and component, for jsdom (TDesign's own test setup does the same).
const g = globalThis as unknown as Record<string, unknown>;
const app: Record<string, unknown> = { globalData: {} };
g.getApp = () => app;
g.getCurrentPages = () => [];
// Pages here are written with Component(); anything still calling Page() loads as a component too.
g.Page = (options: Record<string, unknown>) => (g.Component as (o: unknown) => unknown)(options);
g.App = (options: Record<string, unknown>) => Object.assign(app, options);
