#!/usr/bin/env node
// "构建 npm" (Tools > Build npm) without the devtools: miniprogram-ci's packNpmManually copies the `dependencies` of
// ./package.json (TDesign, tslib) into miniprogram/miniprogram_npm/, as project.config.json's packNpmRelationList
// says. Offline. Skipped when miniprogram_npm/ was already built from the same installed versions (--force rebuilds).
const path = require('path');
const fs = require('fs');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'miniprogram', 'miniprogram_npm');
const stampFile = path.join(dist, '.built-from');

function installedVersions() {
  const deps = Object.keys(require(path.join(root, 'package.json')).dependencies || {});
  return deps.map((d) => `${d}@${require(path.join(root, 'node_modules', d, 'package.json')).version}`).join('\n');
}

async function main() {
  const want = installedVersions();
  const probe = path.join(dist, 'tdesign-miniprogram', 'button', 'button.js');
  if (!process.argv.includes('--force') && fs.existsSync(probe) && fs.existsSync(stampFile)
      && fs.readFileSync(stampFile, 'utf8') === want) {
    console.log('miniprogram_npm is up to date');
    return;
  }
  const ci = require('miniprogram-ci');
  const result = await ci.packNpmManually({
    packageJsonPath: path.join(root, 'package.json'),
    miniprogramNpmDistDir: path.join(root, 'miniprogram'),
  });
  if (!fs.existsSync(probe)) {
    throw new Error(`packNpm did not produce ${probe}`);
  }
  fs.writeFileSync(stampFile, want);
  const n = result && result.warnList ? result.warnList.length : 0;
  console.log(`miniprogram_npm built (${n} warnings)`);
}

main().catch((e) => {
  console.error(`build:npm failed: ${e && e.message ? e.message : e}`);
  process.exit(1);
});
