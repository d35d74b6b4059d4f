//! The local AWS emulator that the demo and every AWS test run against: moto, pinned, in a
//! cached venv, seeded from a scenario JSON by `assets/emulator.py` (its fault injection is
//! described in `assets/EMULATOR.md`).
//!
//! [`Emulator::start`] finds python3 (or `KEYTRIAGE_PYTHON`), creates the venv on first use
//! under the cache dir (guarded by a file lock, so parallel tests share one install), writes
//! the bundled script there, starts it on 127.0.0.1 with a free port, waits for its
//! `READY <port>` line and kills it on drop. Nothing else in keytriage knows it is emulated:
//! the SDK is pointed at [`Emulator::endpoint`] with dummy credentials.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The emulator script, bundled in the binary.
pub const SCRIPT: &str = include_str!("../assets/emulator.py");
/// The pinned Python requirements of the script.
pub const REQUIREMENTS: &str = include_str!("../assets/requirements-emulator.txt");
/// The demo organization's scenario.
pub const DEMO_SCENARIO: &str = include_str!("../assets/demo-org.json");
/// Dummy credentials the emulator accepts (they act in the management account 123456789012).
pub const DUMMY_CREDENTIALS: (&str, &str) = ("AKIAKEYTRIAGEDEMO000", "keytriage-demo-not-a-secret");

/// Why the emulator could not be started.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// No usable Python.
    #[error("python3 not found ({0}); install Python 3.9+ or set KEYTRIAGE_PYTHON to its path")]
    NoPython(String),
    /// Creating the venv or installing moto failed.
    #[error("installing the emulator (moto) into {venv} failed: {detail}")]
    Install {
        /// The venv directory.
        venv: PathBuf,
        /// The tail of pip's output.
        detail: String,
    },
    /// The script exited or said nothing useful before READY.
    #[error("the emulator did not start: {0}")]
    Start(String),
    /// File system trouble in the cache directory.
    #[error("emulator cache {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> EmulatorError + '_ {
    move |source| EmulatorError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A running emulator; stopped (killed) on drop.
pub struct Emulator {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Emulator {
    /// Starts the emulator with a scenario given as JSON text. Waits up to `ready_timeout`
    /// for seeding (large scenarios take seconds).
    ///
    /// # Errors
    /// [`EmulatorError`]: no python, install failure, or the script failed (with its stderr tail).
    pub fn start(scenario_json: &str, ready_timeout: Duration) -> Result<Self, EmulatorError> {
        let dir = cache_dir()?;
        let python = ensure_venv(&dir)?;
        let script = write_if_changed(&dir.join("emulator.py"), SCRIPT)?;
        let run_dir = tempdir_in(&dir)?;
        let scenario = run_dir.join("scenario.json");
        std::fs::write(&scenario, scenario_json).map_err(io_err(&scenario))?;
        let log = run_dir.join("emulator.log");
        let log_file = std::fs::File::create(&log).map_err(io_err(&log))?;
        let mut child = Command::new(&python)
            .arg(&script)
            .arg("--scenario")
            .arg(&scenario)
            .args(["--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .spawn()
            .map_err(|e| EmulatorError::Start(format!("cannot run {}: {e}", python.display())))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| EmulatorError::Start("no stdout".into()))?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = line.strip_prefix("READY ").and_then(|p| p.trim().parse::<u16>().ok()) {
                    let _ = tx.send(port);
                }
            }
        });
        let mut emulator = Self { child, port: 0, log };
        match rx.recv_timeout(ready_timeout) {
            Ok(port) => {
                emulator.port = port;
                Ok(emulator)
            }
            Err(_) => {
                let status = emulator.child.try_wait().ok().flatten();
                let what = match status {
                    Some(s) => format!("it exited ({s})"),
                    None => format!("no READY line within {ready_timeout:?}"),
                };
                Err(EmulatorError::Start(format!(
                    "{what}; its log says: {}",
                    emulator.log_tail()
                )))
            }
        }
    }

    /// Starts the bundled demo organization.
    ///
    /// # Errors
    /// As [`Emulator::start`].
    pub fn demo() -> Result<Self, EmulatorError> {
        Self::start(DEMO_SCENARIO, Duration::from_secs(120))
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The emulator's request counters (`GET /_keytriage/stats`): total, faulted, by action,
    /// by account, mutating.
    ///
    /// # Errors
    /// Connection or JSON errors, as text.
    pub fn stats(&self) -> Result<serde_json::Value, String> {
        let body = self.http("GET", "/_keytriage/stats")?;
        serde_json::from_str(&body).map_err(|e| format!("stats are not JSON: {e}"))
    }

    /// Zeroes the request counters.
    ///
    /// # Errors
    /// Connection errors, as text.
    pub fn reset_stats(&self) -> Result<(), String> {
        self.http("POST", "/_keytriage/stats/reset").map(|_| ())
    }

    fn http(&self, method: &str, path: &str) -> Result<String, String> {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        write!(
            s,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
        )
        .map_err(|e| e.to_string())?;
        let mut response = String::new();
        s.read_to_string(&mut response).map_err(|e| e.to_string())?;
        let (head, body) = response.split_once("\r\n\r\n").ok_or("malformed HTTP response")?;
        if !head.starts_with("HTTP/1.0 2") && !head.starts_with("HTTP/1.1 2") {
            return Err(head.lines().next().unwrap_or_default().to_owned());
        }
        Ok(body.to_owned())
    }

    /// The last lines the emulator wrote to its log (stderr).
    pub fn log_tail(&self) -> String {
        tail(&std::fs::read_to_string(&self.log).unwrap_or_default(), 15)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = self.log.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// True when the pinned emulator venv is already installed (the next start is quick).
pub fn is_installed() -> bool {
    cache_dir().is_ok_and(|dir| venv_dir(&dir).join(".keytriage-ready").exists())
}

fn venv_dir(dir: &Path) -> PathBuf {
    dir.join(format!("venv-{:016x}", fnv(REQUIREMENTS)))
}

/// `<cache dir>/emulator`, created if absent.
fn cache_dir() -> Result<PathBuf, EmulatorError> {
    let base = std::env::var_os("KEYTRIAGE_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| directories::ProjectDirs::from("", "", "keytriage").map(|d| d.cache_dir().to_path_buf()))
        .unwrap_or_else(|| std::env::temp_dir().join("keytriage-cache"));
    let dir = base.join("emulator");
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    Ok(dir)
}

fn tempdir_in(dir: &Path) -> Result<PathBuf, EmulatorError> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let run = dir.join(format!(
        "run-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&run).map_err(io_err(&run))?;
    Ok(run)
}

fn write_if_changed(path: &Path, content: &str) -> Result<PathBuf, EmulatorError> {
    if std::fs::read_to_string(path).ok().as_deref() != Some(content) {
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, content).map_err(io_err(&tmp))?;
        std::fs::rename(&tmp, path).map_err(io_err(path))?;
    }
    Ok(path.to_path_buf())
}

/// FNV-1a, to name the venv after its requirements (a new pin gets a new venv).
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Returns the venv's python, creating the venv with the pinned requirements if needed.
fn ensure_venv(dir: &Path) -> Result<PathBuf, EmulatorError> {
    let venv = venv_dir(dir);
    let python = venv.join("bin").join("python");
    let done = venv.join(".keytriage-ready");
    if done.exists() {
        return Ok(python);
    }
    let lock_path = dir.join("venv.lock");
    let lock = std::fs::File::create(&lock_path).map_err(io_err(&lock_path))?;
    lock.lock().map_err(io_err(&lock_path))?;
    if done.exists() {
        return Ok(python);
    }
    let system_python = std::env::var("KEYTRIAGE_PYTHON").unwrap_or_else(|_| "python3".into());
    let _ = std::fs::remove_dir_all(&venv);
    run(Command::new(&system_python).args(["-m", "venv"]).arg(&venv), &venv).map_err(|e| match e {
        EmulatorError::Install { detail, .. } if detail.starts_with("cannot run") => EmulatorError::NoPython(detail),
        other => other,
    })?;
    let req = write_if_changed(&dir.join("requirements-emulator.txt"), REQUIREMENTS)?;
    run(
        Command::new(&python)
            .args(["-m", "pip", "install", "--disable-pip-version-check", "-q", "-r"])
            .arg(&req),
        &venv,
    )?;
    std::fs::write(&done, REQUIREMENTS).map_err(io_err(&done))?;
    Ok(python)
}

fn run(cmd: &mut Command, venv: &Path) -> Result<(), EmulatorError> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| EmulatorError::Install {
        venv: venv.to_path_buf(),
        detail: format!("cannot run {:?}: {e}", cmd.get_program()),
    })?;
    if out.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Err(EmulatorError::Install {
        venv: venv.to_path_buf(),
        detail: tail(&text, 10),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_last_lines() {
        assert_eq!(tail("a\nb\nc", 2), "b\nc");
        assert_eq!(tail("", 3), "");
    }

    #[test]
    fn demo_scenario_is_json() {
        let v: serde_json::Value = serde_json::from_str(DEMO_SCENARIO).unwrap();
        assert!(v["accounts"].as_array().is_some_and(|a| a.len() >= 7));
    }
}
