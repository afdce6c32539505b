// Compose the registry subgraph's SDL with the catalog subgraph into a supergraph.
//
//   node compose.mjs [REGISTRY_SDL] [--out FILE]
//
// REGISTRY_SDL defaults to the repository's schema.graphql (generated from the Strawberry
// schema). On success the supergraph SDL is printed (or written to FILE); on failure every
// composition error is printed to stderr and the exit status is 1.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

import { catalogSdl } from './catalog-subgraph.mjs';

const DEFAULT_REGISTRY_SDL = fileURLToPath(new URL('../../../schema.graphql', import.meta.url));

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string' } },
});
const registryPath = positionals[0] ?? DEFAULT_REGISTRY_SDL;

function parsed(name, sdl) {
  try {
    return parse(sdl);
  } catch (error) {
    console.error(`composition failed: ${name} SDL does not parse: ${error.message}`);
    process.exit(1);
  }
}

const result = composeServices([
  {
    name: 'registry',
    url: 'http://registry.invalid/graphql',
    typeDefs: parsed('registry', readFileSync(registryPath, 'utf8')),
  },
  { name: 'catalog', url: 'http://catalog.invalid/', typeDefs: parsed('catalog', catalogSdl) },
]);

if (result.errors?.length) {
  console.error(`composition failed with ${result.errors.length} error(s):`);
  for (const error of result.errors) {
    const code = error.extensions?.code ? `[${error.extensions.code}] ` : '';
    console.error(`- ${code}${error.message}`);
  }
  process.exit(1);
}

for (const hint of result.hints ?? []) {
  console.error(`hint: [${hint.definition.code}] ${hint.message}`);
}
if (values.out) {
  writeFileSync(values.out, result.supergraphSdl);
} else {
  process.stdout.write(result.supergraphSdl);
}
