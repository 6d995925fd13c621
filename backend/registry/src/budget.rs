//! Bounded CPU work for schema operations.
//!
//! Parsing, normalizing and comparing schemas is the registry's only CPU-heavy work, and its
//! cost is chosen by whoever writes the schema: a JSON Schema whose definitions `$ref` the next
//! one twice doubles the work of a naive comparison per level. Every such operation therefore
//! runs on Tokio's blocking pool (never on an async worker), at most [`CONCURRENT_SCHEMA_WORK`]
//! at once platform-wide, with a [`Budget`] of steps and a deadline. A refusal is a typed error:
//! [`RegistryError::TooComplex`] (REST 42201, GraphQL `VALIDATION`) when the schema needs more
//! than the budget, [`RegistryError::Overloaded`] (REST 50002, GraphQL `UNAVAILABLE`) when the
//! registry is busy with other schema work for longer than [`QUEUE_WAIT`].

use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::RegistryError;

/// Steps one operation may spend: one step per comparison of a (writer, reader) node pair, per
/// field name produced, per 64 bytes of schema text parsed. Real schemas use a few thousand.
pub const MAX_SCHEMA_STEPS: u64 = 2_000_000;
/// Wall-clock bound of one operation's CPU work.
pub const SCHEMA_WORK_DEADLINE: Duration = Duration::from_secs(2);
/// Schema operations running at once on the blocking pool, platform-wide (per process).
pub const CONCURRENT_SCHEMA_WORK: usize = 4;
/// How long an operation waits for a free slot before it is refused as overloaded.
pub const QUEUE_WAIT: Duration = Duration::from_secs(5);

static SLOTS: Semaphore = Semaphore::const_new(CONCURRENT_SCHEMA_WORK);

/// What one schema operation may still spend.
#[derive(Debug)]
pub struct Budget {
    steps: u64,
    deadline: Instant,
}

impl Budget {
    /// A fresh budget: [`MAX_SCHEMA_STEPS`] steps within [`SCHEMA_WORK_DEADLINE`].
    pub fn new() -> Self {
        Self::with(MAX_SCHEMA_STEPS, SCHEMA_WORK_DEADLINE)
    }

    /// A budget of `steps` within `time` (tests use small ones).
    pub fn with(steps: u64, time: Duration) -> Self {
        Self {
            steps,
            deadline: Instant::now() + time,
        }
    }

    /// Spends `n` steps; fails once the steps or the time are used up.
    pub fn spend(&mut self, n: u64) -> Result<(), RegistryError> {
        let before = self.steps;
        self.steps = self.steps.checked_sub(n).ok_or_else(|| {
            RegistryError::TooComplex(format!(
                "checking it needs more than {MAX_SCHEMA_STEPS} steps"
            ))
        })?;
        // The clock is read about once per 1 024 steps.
        if before >> 10 != self.steps >> 10 && Instant::now() > self.deadline {
            return Err(RegistryError::TooComplex(format!(
                "checking it takes longer than {} ms",
                SCHEMA_WORK_DEADLINE.as_millis()
            )));
        }
        Ok(())
    }

    /// Spends the steps that parsing `text` costs (one per 64 bytes, at least one).
    pub fn parse_cost(&mut self, text: &str) -> Result<(), RegistryError> {
        self.spend(text.len() as u64 / 64 + 1)
    }
}

impl Default for Budget {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs `work` on the blocking pool with a fresh [`Budget`], once a slot is free. The answer
/// comes within the deadline even when the work is stuck inside a parser that cannot be
/// interrupted; such work keeps its slot until it ends, so runaway work can never exceed
/// [`CONCURRENT_SCHEMA_WORK`] threads.
pub async fn run<T, F>(work: F) -> Result<T, RegistryError>
where
    T: Send + 'static,
    F: FnOnce(&mut Budget) -> Result<T, RegistryError> + Send + 'static,
{
    let permit = tokio::time::timeout(QUEUE_WAIT, SLOTS.acquire())
        .await
        .map_err(|_| {
            RegistryError::Overloaded(
                "the registry is busy checking other schemas; try again shortly".into(),
            )
        })?
        .map_err(|_| RegistryError::Overloaded("the registry is shutting down".into()))?;
    let handle = tokio::task::spawn_blocking(move || {
        let _slot = permit;
        work(&mut Budget::new())
    });
    match tokio::time::timeout(SCHEMA_WORK_DEADLINE + Duration::from_millis(500), handle).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(RegistryError::TooComplex(format!(
            "checking it failed: {join}"
        ))),
        Err(_) => Err(RegistryError::TooComplex(format!(
            "checking it takes longer than {} ms",
            SCHEMA_WORK_DEADLINE.as_millis()
        ))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn steps_run_out() {
        let mut b = Budget::with(10, Duration::from_secs(60));
        assert!(b.spend(6).is_ok());
        assert!(b.spend(4).is_ok());
        assert!(matches!(b.spend(1), Err(RegistryError::TooComplex(_))));
    }

    #[test]
    fn time_runs_out() {
        let mut b = Budget::with(u64::MAX, Duration::ZERO);
        std::thread::sleep(Duration::from_millis(2));
        let refused = (0..4096).any(|_| b.spend(1).is_err());
        assert!(refused, "the deadline is checked while spending");
    }

    #[tokio::test]
    async fn work_runs_off_the_async_workers() {
        let async_thread = std::thread::current().id();
        let ran_on = run(|b| {
            b.spend(1)?;
            Ok(std::thread::current().id())
        })
        .await
        .unwrap();
        assert_ne!(ran_on, async_thread);
    }
}
