// An Apollo Gateway over the registry and catalog subgraphs, served by Apollo Server.
//
//   node gateway.mjs --registry URL --catalog URL [--port N]
//   (or REGISTRY_URL / CATALOG_URL in the environment; port 0, the default, is any free port)
//
// The supergraph is composed at start-up from the live subgraphs (IntrospectAndCompose reads
// each one's `_service { sdl }`), so this checks the SDL the running registry serves, not
// only the checked-in schema.graphql. The caller's Authorization header is forwarded to the
// registry, which applies its own namespace visibility; REGISTRY_TOKEN, when set, is the
// bearer token used for introspection. Prints `gateway: http://127.0.0.1:PORT/` once
// listening; stops on SIGTERM/SIGINT.

import { parseArgs } from 'node:util';

import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

const { values } = parseArgs({
  options: {
    registry: { type: 'string', default: process.env.REGISTRY_URL },
    catalog: { type: 'string', default: process.env.CATALOG_URL },
    port: { type: 'string', default: '0' },
  },
});
if (!values.registry || !values.catalog) {
  console.error('usage: node gateway.mjs --registry URL --catalog URL [--port N]');
  process.exit(2);
}

const introspectionHeaders = process.env.REGISTRY_TOKEN
  ? { authorization: `Bearer ${process.env.REGISTRY_TOKEN}` }
  : {};

class ForwardingDataSource extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    if (context?.authorization) {
      request.http.headers.set('authorization', context.authorization);
    }
  }
}

const gateway = new ApolloGateway({
  supergraphSdl: new IntrospectAndCompose({
    subgraphs: [
      { name: 'registry', url: values.registry },
      { name: 'catalog', url: values.catalog },
    ],
    introspectionHeaders,
  }),
  buildService: ({ url }) => new ForwardingDataSource({ url }),
});

const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { host: '127.0.0.1', port: Number(values.port) },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
console.log(`gateway: ${url}`);

const stop = async () => {
  await server.stop(); // also stops the gateway
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
