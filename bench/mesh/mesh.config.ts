// GraphQL Mesh composition for the bench harness: Kajabi's OpenAPI description turned into
// a GraphQL subgraph, pointed at the harness's sandbox. The harness sets the environment:
//   KAJABI_OPENAPI   path of the OpenAPI description (the shared file, or the harness's
//                    run-time conversion of it)
//   KAJABI_BASE_URL  the sandbox, e.g. http://127.0.0.1:PORT
// The bearer token is read by the gateway at run time from KAJABI_TOKEN, so it is never
// written into the composed supergraph.
import { defineConfig } from '@graphql-mesh/compose-cli';
import { loadOpenAPISubgraph } from '@omnigraph/openapi';

export const composeConfig = defineConfig({
  subgraphs: [
    {
      sourceHandler: loadOpenAPISubgraph('Kajabi', {
        source: process.env.KAJABI_OPENAPI!,
        endpoint: process.env.KAJABI_BASE_URL!,
        operationHeaders: {
          Authorization: 'Bearer {env.KAJABI_TOKEN}',
        },
      }),
    },
  ],
});
