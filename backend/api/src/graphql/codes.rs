//! Every GraphQL error leaves with an `extensions.code`. Resolvers code their own errors through
//! [`ApiError`](crate::ApiError); this extension codes what async-graphql refuses by itself, at the
//! stage where it refuses it:
//!
//! - a document that does not parse: `GRAPHQL_PARSE_FAILED`;
//! - a document that does not fit the schema, or exceeds a limit (depth, complexity, aliases, an
//!   unknown operation name): `GRAPHQL_VALIDATION_FAILED`;
//! - an argument that does not coerce to its type while executing (a malformed `UUID` literal or
//!   variable): `BAD_USER_INPUT`;
//! - anything else without a code is a fault of ours: `INTERNAL`, its message logged, not sent.
//!
//! It also refuses documents with more than [`MAX_ALIASES`] aliases: an alias lets one request run
//! the same field (a mutation, a rate-limited sign-in) over and over.

use std::{
    collections::HashSet,
    sync::{Arc, OnceLock},
};

use async_graphql::{
    Pos, Positioned, Response, ServerError, ServerResult, ValidationResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest, NextSubscribe,
        NextValidation,
    },
    futures_util::{StreamExt, stream::BoxStream},
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

use crate::{ErrorCode, error::has_code};

/// Most aliases one document may use.
pub const MAX_ALIASES: usize = 20;

/// Installs the coding of errors on a schema (one instance per request).
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Coder::default())
    }
}

#[derive(Default)]
struct Coder {
    /// Where the document's argument values start: an uncoded error located at one of them is
    /// the coercion of that argument failing. Shared with the stream of a subscription.
    arguments: Arc<OnceLock<HashSet<Pos>>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for Coder {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        code_response(next.run(ctx).await, &self.arguments)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let arguments = self.arguments.clone();
        next.run(
            ctx,
            stream
                .map(move |response| code_response(response, &arguments))
                .boxed(),
        )
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        match next.run(ctx, query, variables).await {
            Ok(document) => {
                let aliases = count_aliases(&document);
                if aliases > MAX_ALIASES {
                    return Err(ErrorCode::GraphqlValidationFailed.stamp(ServerError::new(
                        format!(
                            "The document uses {aliases} aliases; at most {MAX_ALIASES} are accepted."
                        ),
                        None,
                    )));
                }
                // Set once: one document per request.
                let _ = self.arguments.set(argument_positions(&document));
                Ok(document)
            }
            // The parse step also applies async-graphql's recursion and directive limits: a
            // document that parses on its own was refused by one of those.
            Err(error) => Err(if async_graphql::parser::parse_query(query).is_ok() {
                ErrorCode::GraphqlValidationFailed.stamp(error)
            } else {
                ErrorCode::GraphqlParseFailed.stamp(error)
            }),
        }
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| ErrorCode::GraphqlValidationFailed.stamp(e))
                .collect()
        })
    }
}

fn code_response(mut response: Response, arguments: &OnceLock<HashSet<Pos>>) -> Response {
    response.errors = std::mem::take(&mut response.errors)
        .into_iter()
        .map(|e| code_error(e, arguments.get()))
        .collect();
    response
}

/// Codes an error that reached the response without a code.
fn code_error(error: ServerError, arguments: Option<&HashSet<Pos>>) -> ServerError {
    if has_code(&error) {
        return error;
    }
    if arguments.is_some_and(|a| error.locations.iter().any(|l| a.contains(l))) {
        return ErrorCode::BadUserInput.stamp(error);
    }
    if error.path.is_empty() {
        // Refused before any field ran: an unknown operation name, an operation name missing
        // from a document with several, a subscription sent over plain HTTP.
        return ErrorCode::GraphqlValidationFailed.stamp(error);
    }
    tracing::error!(error = %error.message, path = ?error.path, "GraphQL error without a code");
    ErrorCode::Internal.stamp(ServerError {
        message: "internal error".into(),
        source: None,
        locations: error.locations,
        path: error.path,
        extensions: None,
    })
}

/// Visits every selection set of the document: operations and fragments.
fn each_field(
    document: &ExecutableDocument,
    visit: &mut impl FnMut(&async_graphql::parser::types::Field),
) {
    fn walk(
        set: &Positioned<SelectionSet>,
        visit: &mut impl FnMut(&async_graphql::parser::types::Field),
    ) {
        for selection in &set.node.items {
            match &selection.node {
                Selection::Field(field) => {
                    visit(&field.node);
                    walk(&field.node.selection_set, visit);
                }
                Selection::InlineFragment(fragment) => walk(&fragment.node.selection_set, visit),
                Selection::FragmentSpread(_) => {}
            }
        }
    }
    for (_, operation) in document.operations.iter() {
        walk(&operation.node.selection_set, visit);
    }
    for fragment in document.fragments.values() {
        walk(&fragment.node.selection_set, visit);
    }
}

fn count_aliases(document: &ExecutableDocument) -> usize {
    let mut count = 0;
    each_field(document, &mut |field| {
        if field.alias.is_some() {
            count += 1;
        }
    });
    count
}

fn argument_positions(document: &ExecutableDocument) -> HashSet<Pos> {
    let mut positions = HashSet::new();
    each_field(document, &mut |field| {
        positions.extend(field.arguments.iter().map(|(_, value)| value.pos));
    });
    positions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).expect("parses")
    }

    #[test]
    fn aliases_are_counted_in_operations_and_fragments() {
        let doc = document(
            "query { a: serverVersion b: serverVersion ...F } fragment F on Query { c: serverVersion serverVersion }",
        );
        assert_eq!(count_aliases(&doc), 3);
    }

    #[test]
    fn uncoded_errors_at_an_argument_are_bad_input_and_others_internal() {
        let doc = document("{ organization(id: \"nope\") { name } }");
        let arguments = argument_positions(&doc);
        let at = *arguments.iter().next().expect("one argument");
        let coerced = code_error(
            ServerError::new("Failed to parse \"UUID\"", Some(at)),
            Some(&arguments),
        );
        assert_eq!(
            coerced.extensions.and_then(|e| e.get("code").cloned()),
            Some(async_graphql::Value::from("BAD_USER_INPUT"))
        );
        let mut fault =
            ServerError::new("Data `X` does not exist.", Some(Pos { line: 1, column: 3 }));
        fault.path = vec![async_graphql::PathSegment::Field("organization".into())];
        let fault = code_error(fault, Some(&arguments));
        assert_eq!(fault.message, "internal error");
        assert_eq!(
            fault.extensions.and_then(|e| e.get("code").cloned()),
            Some(async_graphql::Value::from("INTERNAL"))
        );
    }
}
