// Only for jest: the WeChat devtools compile the TypeScript themselves (project.config.json useCompilerPlugins).
module.exports = {
  presets: [['@babel/preset-env', { targets: { node: 'current' } }], '@babel/preset-typescript'],
};
