#!/usr/bin/env node
// The model-deploy command: the bundled CLI in dist/cli (committed, so no build is needed to run it).
require('../dist/cli/index.js');
