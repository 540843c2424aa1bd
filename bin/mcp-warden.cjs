#!/usr/bin/env node
/*
 * The mcp-warden launcher: what `mcp-warden` (package.json "bin") and the desktop-client configurations
 * run. mcp-warden needs Node 24; desktop clients start whatever `node` is on their PATH, often an older
 * system Node. So this file is plain CommonJS that any Node parses (no modern syntax):
 *   - under Node 24 it loads the CLI (dist/host/bundle/cli.js: the compiled host bundled into one module and
 *     its lazily loaded chunks by scripts/bundle-host.ts, whose scripts/cli-entry.ts names the same path) in this process;
 *   - under another Node it re-executes the CLI with the Node 24 of the `node` npm package (the project's
 *     pinned devDependency, installed by `npm ci` in the checkout), with stdio inherited and signals forwarded, and exits as the CLI does;
 *   - when there is no Node 24 to use, it prints one readable line naming the version needed.
 */
'use strict';
/* global require, __dirname, process */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: any Node must parse this file */

var path = require('path');
var fs = require('fs');
var childProcess = require('child_process');
var url = require('url');

var REQUIRED_MAJOR = 24;
var cli = path.join(__dirname, '..', 'dist', 'host', 'bundle', 'cli.js');
var found = process.versions.node;
var major = parseInt(found.split('.')[0], 10);

function fail(message) {
  process.stderr.write('mcp-warden: ' + message + '\n');
  process.exit(1);
}

/** The Node 24 binary of the `node` npm package next to this installation, or null. */
function bundledNode() {
  var pkg;
  try {
    pkg = require.resolve('node/package.json', { paths: [path.join(__dirname, '..')] });
  } catch (notInstalled) {
    void notInstalled;
    return null;
  }
  var names = process.platform === 'win32' ? ['node.exe', 'node.cmd'] : ['node'];
  for (var i = 0; i < names.length; i++) {
    var candidate = path.join(path.dirname(pkg), 'bin', names[i]);
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}

if (!fs.existsSync(cli)) fail('dist/host/bundle/cli.js is missing: build mcp-warden first (npm run build)');

if (major === REQUIRED_MAJOR) {
  // In this process: the CLI reads process.argv as it would have (node, this file, args...).
  // `import()` through Function so that a Node too old to parse it still reaches the message below.
  new Function('u', 'return import(u)')(url.pathToFileURL(cli).href).catch(function (e) {
    fail('cannot start: ' + (e && e.message ? e.message : String(e)));
  });
} else {
  var node = bundledNode();
  if (!node) {
    process.stderr.write(
      'mcp-warden needs Node ' + REQUIRED_MAJOR + ' (found ' + found + '): install Node ' + REQUIRED_MAJOR +
        ' (https://nodejs.org), or run `npm ci` in the mcp-warden checkout (its "node" devDependency brings Node ' + REQUIRED_MAJOR + ')\n'
    );
    process.exit(1);
  }
  var child = childProcess.spawn(node, [cli].concat(process.argv.slice(2)), { stdio: 'inherit', windowsHide: true });
  var signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
  var forward = function (signal) {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  signals.forEach(function (s) {
    process.on(s, forward);
  });
  child.on('error', function (e) {
    fail('cannot start Node ' + REQUIRED_MAJOR + ' (' + node + '): ' + e.message);
  });
  child.on('exit', function (code, signal) {
    signals.forEach(function (s) {
      process.removeListener(s, forward);
    });
    // Die of the same signal, so the caller sees what the CLI saw.
    if (signal) process.kill(process.pid, signal);
    else process.exit(code === null ? 1 : code);
  });
}
