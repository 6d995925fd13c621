//! Building the server binary and the portal's wasm bundle (no cargo-leptos needed: cargo builds
//! the `hydrate` library for wasm32, wasm-bindgen writes the JS glue next to it).

use std::{fs, path::PathBuf, process::Command};

use crate::{Ctx, proc, ui};

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The wasm-bindgen version in Cargo.lock; the CLI must match it exactly.
fn locked_wasm_bindgen_version(ctx: &Ctx) -> Result<String, String> {
    let lock =
        fs::read_to_string(ctx.root.join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(version.trim_end_matches('"').to_owned());
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

/// The wasm32 target and a wasm-bindgen CLI of the locked version.
pub fn ensure_wasm_toolchain(ctx: &Ctx) -> Result<PathBuf, String> {
    let sysroot = proc::output(Command::new("rustc").args(["--print", "sysroot"]))?;
    if !PathBuf::from(sysroot.trim())
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .is_dir()
    {
        ui::detail(format!("rustup target add {WASM_TARGET}"));
        proc::run(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    }
    let version = locked_wasm_bindgen_version(ctx)?;
    let root = ctx.cache.join("tools");
    let bin = root.join("bin/wasm-bindgen");
    let installed = proc::output(Command::new(&bin).arg("--version")).unwrap_or_default();
    if installed.trim() != format!("wasm-bindgen {version}") {
        ui::detail(format!(
            "cargo install wasm-bindgen-cli {version} (a few minutes, once)"
        ));
        // Not --locked: the CLI's own lock file names a webpki-roots release the registry lacks.
        proc::run(
            Command::new(&ctx.cargo)
                .args([
                    "install",
                    "wasm-bindgen-cli",
                    "--version",
                    &version,
                    "--root",
                ])
                .arg(&root)
                .env("CARGO_TARGET_DIR", ctx.cache.join("install-target")),
        )?;
    } else {
        ui::detail(format!("wasm-bindgen {version} cached"));
    }
    Ok(bin)
}

/// Builds the `tributary` binary (debug profile) and returns its path.
pub fn build_server(ctx: &Ctx) -> Result<PathBuf, String> {
    proc::run(Command::new(&ctx.cargo).current_dir(&ctx.root).args([
        "build",
        "--package",
        "tributary-server",
        "--bin",
        "tributary",
    ]))?;
    Ok(ctx.target.join("debug/tributary"))
}

/// Builds the portal's hydration bundle into `<target>/site/pkg` and returns the site root.
pub fn build_portal(ctx: &Ctx, wasm_bindgen: &PathBuf) -> Result<PathBuf, String> {
    proc::run(Command::new(&ctx.cargo).current_dir(&ctx.root).args([
        "build",
        "--package",
        "tributary-web",
        "--lib",
        "--target",
        WASM_TARGET,
        "--features",
        "hydrate",
    ]))?;
    let site = ctx.target.join("site");
    let pkg = site.join("pkg");
    fs::create_dir_all(&pkg).map_err(|e| e.to_string())?;
    let wasm = ctx
        .target
        .join(WASM_TARGET)
        .join("debug/tributary_web.wasm");
    proc::run(
        Command::new(wasm_bindgen)
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--out-name",
                "tributary_web",
                "--out-dir",
            ])
            .arg(&pkg)
            .arg(&wasm),
    )?;
    let size = fs::metadata(pkg.join("tributary_web_bg.wasm"))
        .map(|m| m.len())
        .unwrap_or(0);
    ui::detail(format!(
        "portal bundle: {} KiB wasm in {}",
        size / 1024,
        pkg.display()
    ));
    Ok(site)
}
