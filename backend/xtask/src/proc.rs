//! Running commands and owning long-lived child processes.

use std::{
    collections::BTreeMap,
    fs::File,
    io::{BufRead, BufReader},
    net::{TcpListener, TcpStream},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use crate::ui;

/// Set by Ctrl-C / SIGTERM; long waits check it so the stack stops promptly.
pub fn interrupted_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
        .clone()
}

pub fn interrupted() -> bool {
    interrupted_flag().load(Ordering::SeqCst)
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs a command to completion with inherited output; non-zero exit is an error.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    let text = describe(cmd);
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run `{text}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{text}` exited with {status}"))
    }
}

/// Runs a command and returns its stdout; output on failure is included in the error.
pub fn output(cmd: &mut Command) -> Result<String, String> {
    let text = describe(cmd);
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run `{text}`: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`{text}` exited with {}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Runs a command, showing a one-line progress counter of output lines matching `pattern`
/// instead of its full output (which is kept in `log`).
pub fn run_with_progress(
    cmd: &mut Command,
    log: &Path,
    label: &str,
    pattern: &str,
) -> Result<(), String> {
    let text = describe(cmd);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `{text}`: {e}"))?;
    let stderr = child.stderr.take();
    let err_lines = thread::spawn(move || {
        stderr
            .map(|s| {
                BufReader::new(s)
                    .lines()
                    .map_while(Result::ok)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    let mut kept = Vec::new();
    let mut count = 0usize;
    // The first match, then at most one line every 5 s (a big build downloads over a thousand).
    let mut last_note: Option<Instant> = None;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains(pattern) {
                count += 1;
                if last_note.is_none_or(|t| t.elapsed() >= Duration::from_secs(5)) {
                    ui::detail(format!("{label}: {count}…"));
                    last_note = Some(Instant::now());
                }
            }
            kept.push(line);
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    kept.extend(err_lines.join().unwrap_or_default());
    let _ = std::fs::write(log, kept.join("\n"));
    if count > 0 {
        ui::detail(format!("{label}: {count}"));
    }
    if status.success() {
        Ok(())
    } else {
        let tail: Vec<&String> = kept.iter().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().map(String::as_str).collect();
        Err(format!(
            "`{text}` exited with {status}; last output:\n{}",
            tail.join("\n")
        ))
    }
}

/// Whether a program is on PATH.
pub fn on_path(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A free TCP port on loopback (bound then released; fine for a local stack).
pub fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

pub fn port_open(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(300)).is_ok()
}

/// Polls `ready` until it returns true, the child dies, time runs out, or the user interrupts.
pub fn wait_until(
    what: &str,
    timeout: Duration,
    mut service: Option<&mut Service>,
    mut ready: impl FnMut() -> bool,
) -> Result<(), String> {
    let started = Instant::now();
    let mut last_note = Instant::now();
    loop {
        if ready() {
            return Ok(());
        }
        if interrupted() {
            return Err("interrupted".into());
        }
        if let Some(service) = service.as_deref_mut()
            && let Some(status) = service.exited()
        {
            return Err(format!(
                "{} exited ({status}) before it was ready; see {}",
                service.name,
                service.log.display()
            ));
        }
        if started.elapsed() > timeout {
            return Err(format!("{what} not ready after {}", ui::human(timeout)));
        }
        if last_note.elapsed() > Duration::from_secs(10) {
            ui::detail(format!(
                "still waiting for {what} ({})",
                ui::human(started.elapsed())
            ));
            last_note = Instant::now();
        }
        thread::sleep(Duration::from_millis(200));
    }
}

/// A long-lived child in its own process group (so a terminal Ctrl-C reaches only us, and we
/// stop children in order). Stopped with SIGTERM, then SIGKILL after a deadline, on drop too.
pub struct Service {
    pub name: String,
    pub log: PathBuf,
    child: Option<Child>,
    stop_deadline: Duration,
}

impl Service {
    pub fn spawn(
        name: &str,
        cmd: &mut Command,
        log: &Path,
        env: &BTreeMap<String, String>,
        stop_deadline: Duration,
    ) -> Result<Self, String> {
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        let out = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let text = describe(cmd);
        let child = cmd
            .envs(env)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start {name} (`{text}`): {e}"))?;
        Ok(Self {
            name: name.to_owned(),
            log: log.to_owned(),
            child: Some(child),
            stop_deadline,
        })
    }

    /// `Some(status)` once the process has exited.
    pub fn exited(&mut self) -> Option<String> {
        let child = self.child.as_mut()?;
        match child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(e.to_string()),
        }
    }

    /// SIGTERM, wait up to the deadline, then SIGKILL.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let started = Instant::now();
        while started.elapsed() < self.stop_deadline {
            if let Ok(Some(_)) = child.try_wait() {
                ui::detail(format!("{} stopped", self.name));
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        ui::detail(format!(
            "{} killed after {}",
            self.name,
            ui::human(self.stop_deadline)
        ));
    }

    /// The last lines of the service's log, for error messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}
