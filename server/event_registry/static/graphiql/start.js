/*
 * Mounts GraphiQL (vendored by scripts/vendor-graphiql, served from /static/graphiql/) on
 * #graphiql. Everything comes from this server: the page loads nothing from a CDN, and the
 * fetcher talks only to /graphql on the same origin.
 *
 * Authentication: when the registry runs with --tokens-file, every request to /graphql needs
 * a bearer token. Store yours once in this browser, from the devtools console:
 *
 *     localStorage.setItem('event-registry-token', 'YOUR-TOKEN')
 *
 * and reload: every request then carries "Authorization: Bearer YOUR-TOKEN" (a value that
 * already starts with "Bearer " is sent as it is). Remove it with
 * localStorage.removeItem('event-registry-token'). An Authorization header typed into
 * GraphiQL's Headers editor takes precedence over the stored token.
 *
 * A link can open GraphiQL on a given operation: /graphql?query=...&variables=...
 * (URL-encoded), as GraphiQL's own examples do.
 */
(function () {
  'use strict';

  var TOKEN_KEY = 'event-registry-token';

  var DEFAULT_QUERY = [
    '# Knative Event Registry',
    '#',
    '# Every namespace (registry) you can see, with the EventTypes it offers:',
    '# ready is the EventType\'s own Ready condition; consumable also needs its Broker Ready.',
    '# Run it with the ▶ button or Ctrl-Enter; the Docs pane lists the whole schema.',
    '',
    'query Registry {',
    '  namespaces {',
    '    name',
    '    eventTypes {',
    '      type',
    '      ready',
    '      consumable',
    '    }',
    '  }',
    '}',
    ''
  ].join('\n');

  function storedToken() {
    try {
      var token = window.localStorage.getItem(TOKEN_KEY);
      return token ? token.trim() : null;
    } catch (e) {
      return null; // storage disabled (privacy mode): no token
    }
  }

  function authHeaders() {
    var token = storedToken();
    if (!token) {
      return {};
    }
    return { Authorization: /^bearer\s/i.test(token) ? token : 'Bearer ' + token };
  }

  function fromUrl(name) {
    var value = new URLSearchParams(window.location.search).get(name);
    return value === null ? undefined : value;
  }

  var root = document.getElementById('graphiql');
  if (typeof window.GraphiQL === 'undefined' || typeof window.ReactDOM === 'undefined') {
    root.textContent = 'GraphiQL failed to load: /static/graphiql/ assets are missing.';
    return;
  }

  var fetcher = window.GraphiQL.createFetcher({
    url: window.location.origin + '/graphql',
    headers: authHeaders()
  });

  var props = {
    fetcher: fetcher,
    defaultQuery: DEFAULT_QUERY,
    query: fromUrl('query'),
    variables: fromUrl('variables'),
    operationName: fromUrl('operationName'),
    defaultEditorToolsVisibility: false,
    shouldPersistHeaders: false
  };

  window.ReactDOM.createRoot(root).render(window.React.createElement(window.GraphiQL, props));
})();
