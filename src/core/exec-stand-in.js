'use strict';
// Stands in for @actions/exec in the bundles and the tests (tsconfig.json "paths"). @actions/core's
// index imports it for `platform` (OS details), which no action reads; evaluating it (with
// child_process, @actions/io and assert) was ~5 ms of every start. Here the package is evaluated when
// a property is first read.
const { standIn } = require('./stand-in');

let real;
module.exports = standIn(
  () => {
    // By its main file: the package name means this file.
    real ??= require('@actions/exec/lib/exec');
    return real;
  },
  { esModule: true },
);
