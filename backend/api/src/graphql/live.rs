//! Bounds on GraphQL subscriptions, whatever they stream: a connection and a caller may hold only
//! so many at once (`LIMIT_EXCEEDED` beyond), and each ends, with an `UNAUTHENTICATED` error, when
//! the credential its connection was opened with stops holding: the access token expires, the
//! session is signed out or revoked, the API token is revoked or expires.
//!
//! The per-caller count is kept by each API replica: a caller spread over several replicas may
//! hold up to the cap on each.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_graphql::{
    Response, ServerError,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextSubscribe},
    futures_util::{
        FutureExt, StreamExt,
        future::BoxFuture,
        stream::{self, BoxStream},
    },
};
use tributary_identity::{Actor, Identity, Principal};
use uuid::Uuid;

use crate::{ApiError, auth::RequestContext};

/// Most subscriptions open at once on one WebSocket connection.
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 10;
/// Most subscriptions one caller (a person or an API token) holds at once on one replica.
pub const MAX_SUBSCRIPTIONS_PER_CALLER: usize = 25;
/// How often a live subscription checks that its session or API token still holds.
pub const CREDENTIAL_CHECK: Duration = Duration::from_secs(2);

/// The subscriptions open on one WebSocket connection (its connection data).
#[derive(Clone, Default)]
pub struct ConnectionSubscriptions(Arc<AtomicUsize>);

/// The subscriptions each caller holds on this replica (schema data).
#[derive(Clone, Default)]
pub struct CallerSubscriptions(Arc<Mutex<HashMap<Uuid, usize>>>);

impl CallerSubscriptions {
    fn counts(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, usize>> {
        // A panic while counting cannot leave the map inconsistent: keep using it.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One open subscription, counted until dropped (completed, stopped, or its connection closed).
struct Slot {
    connection: Option<Arc<AtomicUsize>>,
    caller: Option<(CallerSubscriptions, Uuid)>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(connection) = &self.connection {
            connection.fetch_sub(1, Ordering::SeqCst);
        }
        if let Some((open, caller)) = &self.caller {
            let mut counts = open.counts();
            if let Some(n) = counts.get_mut(caller) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    counts.remove(caller);
                }
            }
        }
    }
}

fn caller_key(actor: &Actor) -> Uuid {
    match &actor.principal {
        Principal::User { id, .. } | Principal::ApiToken { id, .. } => *id,
    }
}

fn acquire(
    connection: Option<&ConnectionSubscriptions>,
    caller: Option<(&CallerSubscriptions, Uuid)>,
) -> Result<Slot, ApiError> {
    let mut slot = Slot {
        connection: None,
        caller: None,
    };
    if let Some(connection) = connection {
        if connection.0.fetch_add(1, Ordering::SeqCst) >= MAX_SUBSCRIPTIONS_PER_CONNECTION {
            connection.0.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiError::LimitExceeded(format!(
                "at most {MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions may be open on one connection"
            )));
        }
        slot.connection = Some(connection.0.clone());
    }
    if let Some((open, key)) = caller {
        let mut counts = open.counts();
        let held = counts.entry(key).or_default();
        if *held >= MAX_SUBSCRIPTIONS_PER_CALLER {
            return Err(ApiError::LimitExceeded(format!(
                "at most {MAX_SUBSCRIPTIONS_PER_CALLER} subscriptions may be open at once; end one first"
            )));
        }
        *held += 1;
        drop(counts);
        slot.caller = Some((open.clone(), key));
    }
    Ok(slot)
}

/// Resolves when the credential stops holding, with the error the subscription ends on.
async fn credential_end(identity: Identity, actor: Actor, expires_at: Option<i64>) -> ApiError {
    let expiry = async {
        match expires_at {
            Some(exp) => {
                let left = u64::try_from(exp - chrono::Utc::now().timestamp()).unwrap_or(0);
                tokio::time::sleep(Duration::from_secs(left)).await;
            }
            None => std::future::pending().await,
        }
    };
    let revoked = async {
        loop {
            // A failed look-up is not a revocation: try again on the next round.
            if let Ok(false) = identity.credential_live(&actor).await {
                return;
            }
            tokio::time::sleep(CREDENTIAL_CHECK).await;
        }
    };
    tokio::select! {
        () = expiry => ApiError::Unauthenticated("the access token has expired; sign in again".into()),
        () = revoked => ApiError::Unauthenticated(match actor.principal {
            Principal::User { .. } => "the session has ended; sign in again".into(),
            Principal::ApiToken { .. } => "the API token was revoked or has expired".into(),
        }),
    }
}

fn error_response(error: ApiError) -> Response {
    let error = async_graphql::Error::from(error);
    Response::from_errors(vec![ServerError {
        message: error.message,
        source: None,
        locations: Vec::new(),
        path: Vec::new(),
        extensions: error.extensions,
    }])
}

/// Passes `stream` on until `end` resolves, then answers its error once and stops; `slot` is
/// held as long as the stream lives.
fn bounded<'s>(
    stream: BoxStream<'s, Response>,
    slot: Slot,
    end: BoxFuture<'static, ApiError>,
) -> BoxStream<'s, Response> {
    stream::unfold(
        (stream, Some(end), slot),
        |(mut stream, end, slot)| async move {
            let mut end = end?;
            tokio::select! {
                biased;
                error = &mut end => Some((error_response(error), (stream, None, slot))),
                item = stream.next() => item.map(|r| (r, (stream, Some(end), slot))),
            }
        },
    )
    .boxed()
}

/// Installs the bounds on a schema.
pub struct SubscriptionBounds;

impl ExtensionFactory for SubscriptionBounds {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SubscriptionBounds)
    }
}

impl Extension for SubscriptionBounds {
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let stream = next.run(ctx, stream);
        let request = ctx.data_opt::<RequestContext>();
        let actor = request.and_then(|r| r.actor.clone());
        let caller = actor.as_ref().and_then(|actor| {
            ctx.data_opt::<CallerSubscriptions>()
                .map(|open| (open, caller_key(actor)))
        });
        let slot = match acquire(ctx.data_opt::<ConnectionSubscriptions>(), caller) {
            Ok(slot) => slot,
            Err(error) => return stream::once(async move { error_response(error) }).boxed(),
        };
        let end = match (actor, ctx.data_opt::<Identity>()) {
            (Some(actor), Some(identity)) => {
                credential_end(identity.clone(), actor, request.and_then(|r| r.expires_at)).boxed()
            }
            _ => std::future::pending().boxed(),
        };
        bounded(stream, slot, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_per_connection_and_per_caller_and_given_back() {
        let connection = ConnectionSubscriptions::default();
        let open = CallerSubscriptions::default();
        let caller = Uuid::new_v4();
        let held: Vec<Slot> = (0..MAX_SUBSCRIPTIONS_PER_CONNECTION)
            .map(|_| acquire(Some(&connection), Some((&open, caller))).expect("under the cap"))
            .collect();
        assert!(matches!(
            acquire(Some(&connection), Some((&open, caller))),
            Err(ApiError::LimitExceeded(_))
        ));
        drop(held);
        assert_eq!(connection.0.load(Ordering::SeqCst), 0);
        assert!(open.counts().is_empty());

        let others: Vec<Slot> = (0..MAX_SUBSCRIPTIONS_PER_CALLER)
            .map(|_| acquire(None, Some((&open, caller))).expect("under the cap"))
            .collect();
        assert!(matches!(
            acquire(Some(&connection), Some((&open, caller))),
            Err(ApiError::LimitExceeded(_))
        ));
        // The refused attempt gave its connection slot back.
        assert_eq!(connection.0.load(Ordering::SeqCst), 0);
        drop(others);
        assert!(open.counts().is_empty());
    }
}
