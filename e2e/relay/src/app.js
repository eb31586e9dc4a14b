// A small Relay app, compiled by relay-compiler against ../../schema.graphqls and run by
// test/relay.test.js with relay-runtime. Ids: Relay's store keys records by nodeId (the
// schema's global id); `id` stays Kajabi's own.
import { graphql } from 'relay-runtime';

export const customerList = graphql`
  fragment app_customerList on Query
  @refetchable(queryName: "appCustomerListPaginationQuery")
  @argumentDefinitions(
    filter: { type: "CustomerFilter" }
    sort: { type: "CustomerSort" }
    first: { type: "Int", defaultValue: 20 }
    after: { type: "String" }
  ) {
    customers(filter: $filter, sort: $sort, first: $first, after: $after)
    @connection(key: "app_customers", filters: ["filter", "sort"]) {
      totalCount
      edges { node { nodeId ...app_customer } }
    }
  }
`;

export const customer = graphql`
  fragment app_customer on Customer @refetchable(queryName: "appCustomerRefetchQuery") {
    id
    name
    email
    netRevenue
  }
`;

export const nodeQuery = graphql`
  query appNodeQuery($id: ID!) {
    node(id: $id) {
      __typename
      nodeId
      ... on Customer { id name email contact { id nodeId email } }
    }
  }
`;

// Backward paging: `last`/`before` from the end of the same filtered, sorted list; Relay's
// connection handler prepends each earlier page.
export const backwardQuery = graphql`
  query appCustomersBackwardQuery($filter: CustomerFilter, $sort: CustomerSort, $last: Int!, $before: String) {
    customers(filter: $filter, sort: $sort, last: $last, before: $before)
    @connection(key: "appBackward_customers", filters: ["filter", "sort"]) {
      totalCount
      edges { node { nodeId ...app_customer } }
    }
  }
`;
