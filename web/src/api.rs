//! The portal's data access. Every call is a GraphQL document executed against the same schema
//! the public `/graphql` endpoint serves (in-process on the server, so no extra hop).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One row of the catalog as the portal shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamCard {
    pub slug: String,
    pub name: String,
    pub summary: String,
    pub topic: String,
    pub status: String,
    pub provider: String,
}

#[cfg(feature = "ssr")]
const CATALOG_QUERY: &str = "query PortalCatalog($first: Int!) {
  catalog(first: $first) {
    edges { node { slug name summary topic status provider { name } } }
  }
}";

/// Runs a GraphQL document against the API schema and returns its `data`.
#[cfg(feature = "ssr")]
async fn execute(
    query: &str,
    variables: serde_json::Value,
) -> Result<serde_json::Value, ServerFnError> {
    let schema = use_context::<tributary_api::ApiSchema>()
        .ok_or_else(|| ServerFnError::new("the API schema is not available"))?;
    let request = async_graphql::Request::new(query)
        .variables(async_graphql::Variables::from_json(variables));
    let response = schema.execute(request).await;
    if let Some(error) = response.errors.first() {
        return Err(ServerFnError::new(error.message.clone()));
    }
    response
        .data
        .into_json()
        .map_err(|e| ServerFnError::new(format!("unreadable API response: {e}")))
}

/// The newest published streams of the catalog.
#[server]
pub async fn catalog_streams() -> Result<Vec<StreamCard>, ServerFnError> {
    #[derive(Deserialize)]
    struct Data {
        catalog: Conn,
    }
    #[derive(Deserialize)]
    struct Conn {
        edges: Vec<EdgeNode>,
    }
    #[derive(Deserialize)]
    struct EdgeNode {
        node: Node,
    }
    #[derive(Deserialize)]
    struct Node {
        slug: String,
        name: String,
        summary: String,
        topic: String,
        status: String,
        provider: Named,
    }
    #[derive(Deserialize)]
    struct Named {
        name: String,
    }

    let data = execute(CATALOG_QUERY, serde_json::json!({ "first": 100 })).await?;
    let data: Data = serde_json::from_value(data)
        .map_err(|e| ServerFnError::new(format!("unexpected API response: {e}")))?;
    Ok(data
        .catalog
        .edges
        .into_iter()
        .map(|e| StreamCard {
            slug: e.node.slug,
            name: e.node.name,
            summary: e.node.summary,
            topic: e.node.topic,
            status: e.node.status,
            provider: e.node.provider.name,
        })
        .collect())
}
