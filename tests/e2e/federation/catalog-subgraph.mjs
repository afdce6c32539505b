// The "catalog" subgraph: a second Federation v2 subgraph that extends the registry's EventType
// entity with ownership data kept outside Kubernetes (here: a tiny in-memory map).
//
//   node catalog-subgraph.mjs [--port N]      (default port 0: any free port)
//
// Prints `catalog: http://127.0.0.1:PORT/` once listening; stops on SIGTERM/SIGINT.
// Importing this module (compose.mjs does, for the SDL) starts nothing.

import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

export const catalogSdl = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])

type EventType @key(fields: "namespace name") {
  namespace: String!
  name: String!
  owningTeam: String!
  slackChannel: String
}
`;

/** Ownership by "namespace/name"; anything else is owned by UNOWNED. */
export const owners = new Map([
  ['default/com.github.pullrequest', { owningTeam: 'payments', slackChannel: '#payments-events' }],
  ['default/dev.knative.sources.ping', { owningTeam: 'platform', slackChannel: null }],
]);
export const UNOWNED = { owningTeam: 'unowned', slackChannel: null };

export const resolvers = {
  EventType: {
    __resolveReference({ namespace, name }) {
      return { namespace, name, ...(owners.get(`${namespace}/${name}`) ?? UNOWNED) };
    },
  },
};

export function buildCatalogSchema() {
  return buildSubgraphSchema([{ typeDefs: parse(catalogSdl), resolvers }]);
}

async function main() {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
  const server = new ApolloServer({
    schema: buildCatalogSchema(),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  const { url } = await startStandaloneServer(server, {
    listen: { host: '127.0.0.1', port: Number(values.port) },
  });
  console.log(`catalog: ${url}`);
  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
