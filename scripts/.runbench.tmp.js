require('/work/main/node_modules/ts-node').register({ transpileOnly: true, project: '/work/main/tsconfig.json' });
const mod = require(process.argv[2]);
Promise.resolve((mod.default || mod.bench)()).then((rows) => console.log(JSON.stringify(rows, null, 1)));
