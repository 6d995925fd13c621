//! Progress output: every step says what it does, and how long it took.

use std::{
    io::Write,
    time::{Duration, Instant},
};

pub fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1} s")
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// Runs one named step, printing its start, its outcome and its duration.
pub fn step<T>(name: &str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    println!("▸ {name}");
    let _ = std::io::stdout().flush();
    let started = Instant::now();
    let result = f();
    match &result {
        Ok(_) => println!("  ✓ {name} ({})", human(started.elapsed())),
        Err(e) => println!("  ✗ {name} failed after {}: {e}", human(started.elapsed())),
    }
    result
}

/// A line of detail under the current step.
pub fn detail(text: impl AsRef<str>) {
    println!("    {}", text.as_ref());
    let _ = std::io::stdout().flush();
}
