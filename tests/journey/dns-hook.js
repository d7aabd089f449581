// Preloaded into each bundle of the journey (NODE_OPTIONS=--require): the journey's DNS. A TLS connection to a
// hostname in MD_JOURNEY_HOSTS ({"name": "127.0.0.1:port"}) goes to that address, while the certificate is
// still checked against the name itself (servername), as a client of the real endpoint checks it.
'use strict';
const tls = require('tls');

const hosts = JSON.parse(process.env.MD_JOURNEY_HOSTS || '{}');
const connect = tls.connect;
tls.connect = function journeyConnect(...args) {
  const [first] = args;
  const target = first && typeof first === 'object' ? hosts[first.host || first.servername] : undefined;
  if (!target) return connect.apply(this, args);
  const [host, port] = target.split(':');
  return connect.call(this, { ...first, host, port: Number(port), servername: first.servername || first.host }, ...args.slice(1));
};
