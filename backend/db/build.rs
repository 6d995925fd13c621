//! `sqlx::migrate!` embeds the migrations at compile time, but cargo only knows to rebuild this
//! crate when its own sources change: a new migration file would be missing from the binary.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
