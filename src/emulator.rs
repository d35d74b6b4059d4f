//! The local AWS emulator: moto in a cached venv whose every package is pinned by version and
//! hash (`assets/requirements-emulator.txt`), seeded from a scenario JSON by
//! `assets/emulator.py`.
//!
//! [`Emulator::start`] finds python3 (or `KEYTRIAGE_PYTHON`), creates the venv on first use
//! under the cache dir (guarded by a file lock, so parallel tests share one install), writes
//! the bundled script into a run directory of its own, starts it on 127.0.0.1 with a free port, waits for its
//! `READY <port>` line and kills it on drop. Nothing else in keytriage knows it is emulated:
//! the SDK is pointed at [`Emulator::endpoint`] with dummy credentials.
//!
//! Safety of the launch: every Python runs in isolated mode (`-I`: no current directory or
//! script directory on `sys.path`, no `PYTHON*` variables, no user site) with the private
//! cache directory as its working directory, so a `venv.py` or `pip/` where keytriage was
//! started never runs. The cache directory is created 0700 and used only when it belongs to
//! the current user and no one else can write to it. The emulator's stdin is a pipe that only
//! keytriage holds: when keytriage ends in any way (even `kill -9`), the pipe closes and the
//! emulator exits (`--exit-with-stdin`).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The emulator script, bundled in the binary.
pub const SCRIPT: &str = include_str!("../assets/emulator.py");
/// The emulator's lock file: every Python package with its exact version and hashes.
pub const REQUIREMENTS: &str = include_str!("../assets/requirements-emulator.txt");
/// The demo organization's scenario.
pub const DEMO_SCENARIO: &str = include_str!("../assets/demo-org.json");
/// Dummy credentials the emulator accepts (they act in the management account 123456789012).
pub const DUMMY_CREDENTIALS: (&str, &str) = ("AKIAKEYTRIAGEDEMO000", "keytriage-demo-not-a-secret");

/// Why the emulator could not be started.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// No usable Python.
    #[error("python3 not found ({0}); install Python 3.11+ or set KEYTRIAGE_PYTHON to its path")]
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
    /// The cache directory exists but is not private to the current user, so what is in it
    /// (the venv's python, its ready marker) could have been planted by someone else.
    #[error(
        "emulator cache {path} is not safe to use: {reason}; remove it, or set KEYTRIAGE_CACHE_DIR to a directory of your own"
    )]
    UnsafeCache {
        /// The directory.
        path: PathBuf,
        /// What is wrong (owner, mode, symlink).
        reason: String,
    },
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
    /// The write end of the emulator's stdin; closing it (drop, or keytriage's death) makes
    /// the emulator exit.
    _lifeline: Option<std::process::ChildStdin>,
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
        let python = ensure_venv(&dir, REQUIREMENTS)?;
        let run_dir = tempdir_in(&dir)?;
        // Each run gets its own copy: two keytriage builds sharing the cache (two versions
        // installed, or two checkouts testing at once) never run each other's script.
        let script = write_if_changed(&run_dir.join("emulator.py"), SCRIPT)?;
        let scenario = run_dir.join("scenario.json");
        std::fs::write(&scenario, scenario_json).map_err(io_err(&scenario))?;
        let log = run_dir.join("emulator.log");
        let log_file = std::fs::File::create(&log).map_err(io_err(&log))?;
        let mut child = emulator_command(&python, &script, &scenario, &run_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .spawn()
            .map_err(|e| EmulatorError::Start(format!("cannot run {}: {e}", python.display())))?;
        let lifeline = child.stdin.take();
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
        let mut emulator = Self {
            child,
            _lifeline: lifeline,
            port: 0,
            log,
        };
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

    /// The emulator's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
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
    cache_dir().is_ok_and(|dir| venv_dir(&dir, REQUIREMENTS).join(".keytriage-ready").exists())
}

/// A python whose venv holds exactly `requirements` (a lock file's text: every package pinned
/// with `--hash`), created on first use the way the emulator's own is (private cache dir,
/// file lock, isolated python, `pip install --require-hashes`) and reused while the text is
/// the same. The tests use it for their own tools (the OCSF validator).
///
/// # Errors
/// [`EmulatorError`]: no python, an unsafe cache directory, or the install failed.
pub fn pinned_python(requirements: &str) -> Result<PathBuf, EmulatorError> {
    ensure_venv(&cache_dir()?, requirements)
}

/// `<dir>/venv-<hash of requirements>`: a new pin gets a new venv.
fn venv_dir(dir: &Path, requirements: &str) -> PathBuf {
    dir.join(format!("venv-{:016x}", fnv(requirements)))
}

/// `<cache dir>/emulator`, created 0700 if absent and checked by [`private_dir`]. The cache
/// dir is `KEYTRIAGE_CACHE_DIR`, else the user's (`~/.cache/keytriage`), else, without a
/// home directory, `<tmp>/keytriage-<uid>` (a shared place: hence the checks).
fn cache_dir() -> Result<PathBuf, EmulatorError> {
    let dir = match std::env::var_os("KEYTRIAGE_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| directories::ProjectDirs::from("", "", "keytriage").map(|d| d.cache_dir().to_path_buf()))
    {
        Some(base) => {
            std::fs::create_dir_all(&base).map_err(io_err(&base))?;
            base.join("emulator")
        }
        None => tmp_fallback(&std::env::temp_dir()),
    };
    private_dir(&dir)?;
    Ok(dir)
}

/// The cache directory used without a home directory: `<tmp>/keytriage-<uid>-emulator`.
fn tmp_fallback(tmp: &Path) -> PathBuf {
    tmp.join(format!("keytriage-{}-emulator", rustix::process::geteuid().as_raw()))
}

/// Makes `dir` a private directory: creates it with mode 0700 if absent; otherwise accepts it
/// only if it is a real directory (not a symlink) owned by the current user that neither group
/// nor others can write to, and removes any group/other read access.
///
/// # Errors
/// [`EmulatorError::UnsafeCache`] when it is a symlink, someone else's, or writable by others;
/// [`EmulatorError::Io`] when it cannot be created or read.
fn private_dir(dir: &Path) -> Result<(), EmulatorError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_err(dir)(e)),
    }
    let meta = std::fs::symlink_metadata(dir).map_err(io_err(dir))?;
    let unsafe_cache = |reason: String| EmulatorError::UnsafeCache {
        path: dir.to_path_buf(),
        reason,
    };
    if !meta.file_type().is_dir() {
        return Err(unsafe_cache("it is not a directory (a symlink?)".into()));
    }
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(unsafe_cache(format!(
            "it belongs to uid {}, not to you (uid {me})",
            meta.uid()
        )));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(unsafe_cache(format!("others can write to it (mode {mode:o})")));
    }
    if mode & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io_err(dir))?;
    }
    Ok(())
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

/// Returns the python of the venv of `requirements`, creating it if needed.
fn ensure_venv(dir: &Path, requirements: &str) -> Result<PathBuf, EmulatorError> {
    let venv = venv_dir(dir, requirements);
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
    run(&mut venv_command(Path::new(&system_python), &venv, dir), &venv).map_err(|e| match e {
        EmulatorError::Install { detail, .. } if detail.starts_with("cannot run") => EmulatorError::NoPython(detail),
        other => other,
    })?;
    let req = write_if_changed(&venv.join("requirements.txt"), requirements)?;
    run(&mut pip_install_command(&python, &req, dir), &venv)?;
    std::fs::write(&done, requirements).map_err(io_err(&done))?;
    Ok(python)
}

/// `python3 -I -m venv <venv>`, run in the cache directory.
fn venv_command(system_python: &Path, venv: &Path, cache: &Path) -> Command {
    let mut cmd = Command::new(system_python);
    cmd.args(["-I", "-m", "venv"]).arg(venv).current_dir(cache);
    cmd
}

/// `<venv>/bin/python -I -m pip install --require-hashes -r <lock>`, run in the cache
/// directory: every package must be in the lock with a matching hash.
fn pip_install_command(python: &Path, lock: &Path, cache: &Path) -> Command {
    let mut cmd = Command::new(python);
    cmd.args([
        "-I",
        "-m",
        "pip",
        "install",
        "--require-hashes",
        "--disable-pip-version-check",
        "-q",
        "-r",
    ])
    .arg(lock)
    .current_dir(cache);
    cmd
}

/// `<venv>/bin/python -I <script> --scenario <file> --port 0 --exit-with-stdin`, run in its
/// run directory, with a piped stdin that [`Emulator`] holds.
fn emulator_command(python: &Path, script: &Path, scenario: &Path, run_dir: &Path) -> Command {
    let mut cmd = Command::new(python);
    cmd.arg("-I")
        .arg(script)
        .arg("--scenario")
        .arg(scenario)
        .args(["--port", "0", "--exit-with-stdin"])
        .current_dir(run_dir)
        .stdin(Stdio::piped());
    cmd
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

    fn args(cmd: &Command) -> Vec<String> {
        cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn every_python_runs_isolated_in_a_directory_of_ours() {
        let cache = Path::new("/cache/emulator");
        let venv = cache.join("venv-1");
        let cmd = venv_command(Path::new("python3"), &venv, cache);
        assert_eq!(args(&cmd), ["-I", "-m", "venv", "/cache/emulator/venv-1"]);
        assert_eq!(cmd.get_current_dir(), Some(cache));

        let python = venv.join("bin/python");
        let lock = cache.join("requirements-emulator.txt");
        let cmd = pip_install_command(&python, &lock, cache);
        assert_eq!(
            args(&cmd),
            [
                "-I",
                "-m",
                "pip",
                "install",
                "--require-hashes",
                "--disable-pip-version-check",
                "-q",
                "-r",
                "/cache/emulator/requirements-emulator.txt"
            ]
        );
        assert_eq!(cmd.get_current_dir(), Some(cache));

        let run = cache.join("run-1-0");
        let cmd = emulator_command(&python, &cache.join("emulator.py"), &run.join("scenario.json"), &run);
        assert_eq!(
            args(&cmd),
            [
                "-I",
                "/cache/emulator/emulator.py",
                "--scenario",
                "/cache/emulator/run-1-0/scenario.json",
                "--port",
                "0",
                "--exit-with-stdin"
            ]
        );
        assert_eq!(cmd.get_current_dir(), Some(run.as_path()));
    }

    /// A `venv.py` in the working directory would shadow the standard module without `-I`.
    /// Run the real venv command in such a directory (without pip, to stay fast).
    #[test]
    fn a_venv_py_in_the_working_directory_does_not_run() {
        let hostile = tempfile::tempdir().unwrap();
        let marker = hostile.path().join("pwned");
        std::fs::write(
            hostile.path().join("venv.py"),
            format!("open({:?}, 'w').write('ran')\n", marker.display().to_string()),
        )
        .unwrap();
        let cache = tempfile::tempdir().unwrap();
        let venv = cache.path().join("venv-test");
        let python = std::env::var("KEYTRIAGE_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut cmd = venv_command(Path::new(&python), &venv, cache.path());
        // The worst case: keytriage's own working directory is the hostile one.
        cmd.current_dir(hostile.path()).arg("--without-pip");
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(!marker.exists(), "venv.py from the working directory ran");
        assert!(venv.join("bin/python").exists(), "the real venv module made the venv");

        // Control: without -I the same directory does run it (so the test can fail).
        let out = Command::new(&python)
            .args(["-m", "venv", "--without-pip"])
            .arg(cache.path().join("venv-2"))
            .current_dir(hostile.path())
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(marker.exists(), "the control run should have imported venv.py");
    }

    #[test]
    fn a_new_cache_dir_is_created_0700() {
        use std::os::unix::fs::PermissionsExt;
        let base = tempfile::tempdir().unwrap();
        let dir = tmp_fallback(base.path());
        assert!(
            dir.file_name()
                .unwrap()
                .to_string_lossy()
                .contains(&rustix::process::geteuid().as_raw().to_string()),
            "{dir:?} names the user"
        );
        private_dir(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        // Ours but readable by others: tightened, not refused.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn a_cache_dir_writable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let base = tempfile::tempdir().unwrap();
        let dir = tmp_fallback(base.path());
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = private_dir(&dir).unwrap_err();
        assert!(matches!(err, EmulatorError::UnsafeCache { .. }), "{err}");
        assert!(err.to_string().contains("others can write to it (mode 777)"), "{err}");
    }

    #[test]
    fn a_cache_dir_of_someone_else_or_a_symlink_is_refused() {
        let base = tempfile::tempdir().unwrap();
        let dir = tmp_fallback(base.path());
        if rustix::process::geteuid().is_root() {
            std::fs::create_dir(&dir).unwrap();
            std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
            let err = private_dir(&dir).unwrap_err();
            assert!(err.to_string().contains("belongs to uid 65534"), "{err}");
        } else {
            // Not root: a directory of root's stands for someone else's.
            let err = private_dir(Path::new("/")).unwrap_err();
            assert!(err.to_string().contains("belongs to uid 0"), "{err}");
        }
        let link = base.path().join("link");
        let target = base.path().join("target");
        std::fs::create_dir(&target).unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = private_dir(&link).unwrap_err();
        assert!(err.to_string().contains("not a directory"), "{err}");
    }

    #[test]
    fn demo_scenario_is_json() {
        let v: serde_json::Value = serde_json::from_str(DEMO_SCENARIO).unwrap();
        assert!(v["accounts"].as_array().is_some_and(|a| a.len() >= 7));
    }
}
