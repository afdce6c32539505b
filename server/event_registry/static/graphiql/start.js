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
 * localStorage.removeItem('event-registry-token'). A header typed into GraphiQL's Headers
 * editor as "Authorization" (same spelling) takes precedence over the stored token.
 *
 * A link can open GraphiQL on a given operation: /graphql#query=...&variables=...
 * (URL-encoded, operationName= too). It is the fragment, not GraphiQL's usual ?query=: this
 * server answers GET /graphql?query=... by running the query and returning JSON.
 */
(function () {
  'use strict';

  var TOKEN_KEY = 'event-registry-token';

  var DEFAULT_QUERY = [
    '# Knative Event Registry',
    '#',
    '# The namespaces you can see and the EventTypes in each.',
    '# ready: the EventType\'s own Ready condition.',
    '# consumable: ready, and its Broker is Ready too.',
    '# Run it with ▶ or Ctrl-Enter; the schema is in Docs.',
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
    var value = new URLSearchParams(window.location.hash.replace(/^#/, '')).get(name);
    return value === null ? undefined : value;
  }

  // An inline icon, so the browser does not ask this server for /favicon.ico (a 404).
  if (!document.querySelector('link[rel~="icon"]')) {
    var icon = document.createElement('link');
    icon.rel = 'icon';
    icon.href = 'data:image/svg+xml,' + encodeURIComponent(
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">' +
      '<circle cx="8" cy="8" r="7" fill="#e10098"/></svg>');
    document.head.appendChild(icon);
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
