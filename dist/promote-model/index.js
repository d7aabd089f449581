'use strict';
// dist/<name>/index.js (copied from scripts/bundle-loader.js by scripts/build.js), then bundle.js.
// Stack traces name src/*.ts: each frame in a bundle file is mapped through its .map beside it. Node's
// own support (--enable-source-maps, process.setSourceMapsEnabled) cannot be used here: the runner
// passes no flags, and Node parses every map as its file loads, ~50 ms of each start. This reads a map
// only when a stack is first formatted, with Node's public SourceMap class.
const fs = require('fs');
const path = require('path');
const { SourceMap } = require('module');

const maps = new Map();
const texts = new Map();

function mapOf(file) {
  if (!maps.has(file)) {
    let map = null;
    try {
      if (file && path.dirname(file) === __dirname) map = new SourceMap(JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')));
    } catch {
      map = null;
    }
    maps.set(file, map);
  }
  return maps.get(file);
}

/**
 * The 0-based column to look up. An async frame stands at its `await`, which the minifier's map does not
 * mark (the lookup would land on the statement before): the awaited expression after it is marked.
 */
function lookupColumn(site, file, line, column) {
  if (!site.isAsync()) return column - 1;
  if (!texts.has(file)) texts.set(file, fs.readFileSync(file, 'utf8').split('\n'));
  const rest = texts.get(file)[line - 1]?.slice(column - 1) ?? '';
  const skip = /^await[\s(]*/.exec(rest);
  return column - 1 + (skip ? skip[0].length : 0);
}

/** The original position of a call site, or undefined outside the bundle. */
function original(site) {
  const file = site.getFileName();
  const line = site.getLineNumber();
  const column = site.getColumnNumber();
  const map = file && line && column ? mapOf(file) : null;
  const entry = map ? map.findEntry(line - 1, lookupColumn(site, file, line, column)) : undefined;
  if (!entry || entry.originalSource === undefined) return undefined;
  return { ...entry, file: path.resolve(__dirname, entry.originalSource) };
}

function frame(site, caller) {
  const at = original(site);
  if (!at) return site.toString();
  // Like Node: the original name of this function is the name its caller's call expression used.
  const name = (caller && original(caller)?.name) || site.getFunctionName();
  const where = `${at.file}:${at.originalLine + 1}:${at.originalColumn + 1}`;
  return `${site.isAsync() ? 'async ' : ''}${name ? `${name} (${where})` : where}`;
}

Error.prepareStackTrace = (error, trace) => {
  let head;
  try {
    head = Error.prototype.toString.call(error);
  } catch {
    head = '<error>';
  }
  return [head, ...trace.map((site, i) => `    at ${frame(site, trace[i + 1])}`)].join('\n');
};

require('./bundle.js');
