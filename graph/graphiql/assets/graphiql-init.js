// Bootstrap for the GraphiQL page served by
// github.com/kajabi-graphql/facade/graph/graphiql.
//
// It runs as an external script (the page's Content-Security-Policy forbids
// inline scripts) and reads its configuration from the non-executed
// <script id="graphiql-config" type="application/json"> block rendered by the
// Go handler. It expects the globals React, ReactDOM (React 18 UMD builds) and
// GraphiQL (graphiql UMD build) to be loaded before it.
(function () {
  'use strict';

  var root = document.getElementById('graphiql');
  var configEl = document.getElementById('graphiql-config');

  function fail(message) {
    if (root) {
      root.textContent = message;
    }
    throw new Error(message);
  }

  // hasSavedTabs reports whether GraphiQL has persisted editor (tab) state in
  // localStorage; its default storage namespace is "graphiql".
  function hasSavedTabs() {
    try {
      return window.localStorage.getItem('graphiql:tabState') !== null;
    } catch (err) {
      return false;
    }
  }

  if (!root || !configEl) {
    fail('GraphiQL: page is missing #graphiql or #graphiql-config.');
  }
  if (!window.React || !window.ReactDOM || !window.GraphiQL) {
    fail('GraphiQL: failed to load React, ReactDOM or GraphiQL assets.');
  }

  var config;
  try {
    config = JSON.parse(configEl.textContent || '{}');
  } catch (err) {
    fail('GraphiQL: invalid configuration: ' + err);
  }

  var endpoint = new URL(config.endpoint || '/graphql', window.location.href);
  // Subscriptions go over graphql-ws to the same endpoint: GraphiQL's bundle carries the
  // graphql-ws client and uses it for a subscription operation when given subscriptionUrl,
  // sending the headers editor's contents (X-API-Key, Authorization) as the
  // connection_init payload, where the service reads a browser's credentials. The page's
  // CSP names this origin in connect-src; the service accepts the socket because its
  // Origin is the page's own host.
  var subscriptionUrl = endpoint.href.replace(/^http/, 'ws');

  var fetcher = window.GraphiQL.createFetcher({
    url: config.endpoint || '/graphql',
    subscriptionUrl: subscriptionUrl,
    // createFetcher merges these over its own lower-case defaults
    // ("content-type", "accept"); using the same lower-case keys replaces
    // them instead of producing duplicated header values.
    headers: {
      'content-type': 'application/json',
      // multipart/mixed lets the service stream a query with @defer as
      // increments, which GraphiQL merges into the result pane as they land;
      // any other query still answers graphql-response+json.
      accept: 'application/graphql-response+json, application/json;q=0.9, multipart/mixed'
    },
    enableIncrementalDelivery: true
  });

  // The documentation explorer is GraphiQL's built-in reference plugin: it is
  // enabled by default (book icon at the top of the sidebar) and is filled in
  // once schema introspection against the endpoint succeeds. It is not forced
  // open: in graphiql 4.1 the visiblePlugin prop leaves the panel collapsed
  // and the first click on the icon then closes it.
  var props = {
    fetcher: fetcher
  };
  if (typeof config.defaultQuery === 'string' && config.defaultQuery !== '') {
    props.defaultQuery = config.defaultQuery;
  }
  if (typeof config.defaultVariables === 'string' && config.defaultVariables !== '' &&
      !hasSavedTabs()) {
    // graphiql 4.1 ignores the variables of defaultTabs for the first tab, so
    // pass them as the variables prop, but only when the browser has no saved
    // editor state (which, as for defaultQuery, wins otherwise).
    props.variables = config.defaultVariables;
    props.defaultEditorToolsVisibility = 'variables';
  }

  root.textContent = '';
  window.ReactDOM.createRoot(root).render(
    window.React.createElement(window.GraphiQL, props)
  );
})();
