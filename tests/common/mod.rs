//! Shared helpers of the integration tests: start the emulator with a scenario and reach it
//! through the real SDK, as the binary does.
#![allow(dead_code)]

use keytriage::aws::credential_report::Polling;
use keytriage::aws::{self, AwsContext, ConnectOptions, RoleOptions};
use keytriage::emulator::{DUMMY_CREDENTIALS, Emulator};
use keytriage::model::AccountScan;
use keytriage::scan::{OrgScan, ScanOptions};
use std::sync::Arc;
use std::time::Duration;

/// Starts the emulator with `scenario`; panics with the emulator's own words on failure.
pub fn emulator(scenario: &serde_json::Value) -> Emulator {
    match Emulator::start(&scenario.to_string(), Duration::from_secs(180)) {
        Ok(e) => e,
        Err(e) => panic!("emulator: {e}"),
    }
}

/// Connection options for the emulator (dummy credentials, no AWS files read).
pub fn connect_options(emu: &Emulator) -> ConnectOptions {
    ConnectOptions {
        endpoint_url: Some(emu.endpoint()),
        isolated_credentials: Some((DUMMY_CREDENTIALS.0.into(), DUMMY_CREDENTIALS.1.into())),
        // At 30% throttling (tests/faults.rs) a call fails all of its n attempts with
        // probability 0.3^n: 0.8% for 4, 0.07% for 6, 6e-6 for 10. A scan makes about a
        // hundred calls, so 10 keeps that test honest without flakiness; tests that expect a
        // permanent failure set fewer attempts themselves.
        max_attempts: 10,
        ..Default::default()
    }
}

/// The caller's context against the emulator.
pub async fn context(emu: &Emulator) -> Arc<AwsContext> {
    Arc::new(
        aws::connect(&connect_options(emu))
            .await
            .expect("connect to the emulator"),
    )
}

/// Scan options with quick credential-report polling.
pub fn scan_options() -> ScanOptions {
    let mut o = ScanOptions::new(RoleOptions {
        role_name: "OrganizationAccountAccessRole".into(),
        external_id: None,
        session_length: None,
    });
    o.polling = Polling {
        deadline: Duration::from_secs(20),
        first_pause: Duration::from_millis(50),
        max_pause: Duration::from_millis(500),
    };
    o
}

/// Scans the whole emulated organization.
pub async fn scan(emu: &Emulator) -> OrgScan {
    keytriage::scan::run_to_end(context(emu).await, Arc::new(scan_options()), |_| {})
        .await
        .expect("scan")
}

/// The scan of the account named `name`.
pub fn account<'a>(org: &'a OrgScan, name: &str) -> &'a AccountScan {
    org.accounts
        .iter()
        .find(|a| a.account.name == name)
        .unwrap_or_else(|| panic!("no account {name}"))
}

/// The binary pointed at `endpoint` (`us-east-1`) with the emulator's dummy credentials in
/// the environment and no AWS files, profile or instance metadata: what every CLI test runs.
pub fn keytriage_at(endpoint: &str) -> std::process::Command {
    let mut cmd = keytriage_bin();
    cmd.args(["--endpoint-url", endpoint, "--region", "us-east-1"])
        .stdin(std::process::Stdio::null())
        .env("NO_COLOR", "1")
        .env("AWS_ACCESS_KEY_ID", DUMMY_CREDENTIALS.0)
        .env("AWS_SECRET_ACCESS_KEY", DUMMY_CREDENTIALS.1)
        .env("AWS_CONFIG_FILE", "/nonexistent/keytriage-test/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/keytriage-test/credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL");
    cmd
}

/// The binary with [`isolate`]d data and config directories: what every test runs (with
/// its own arguments and environment on top).
pub fn keytriage_bin() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_keytriage"));
    isolate(&mut cmd);
    cmd
}

/// Points `cmd`'s data directory (`XDG_DATA_HOME`: history, the demo's history, journal,
/// log) and config directory (`XDG_CONFIG_HOME`: config and exceptions files) at
/// [`isolated_dirs`], and drops a `KEYTRIAGE_JOURNAL` inherited from the person running the
/// tests, so no test reads or writes their real files. Call it after `env_clear`. The cache
/// (`XDG_CACHE_HOME`, the emulator's venv) is left shared.
pub fn isolate(cmd: &mut std::process::Command) -> &mut std::process::Command {
    let (data, config) = isolated_dirs();
    cmd.env("XDG_DATA_HOME", data)
        .env("XDG_CONFIG_HOME", config)
        .env_remove("KEYTRIAGE_JOURNAL")
}

/// `(data, config)`: this test process's own directories, `<CARGO_TARGET_TMPDIR>/isolated-<pid>/
/// {data,config}`, made on first use. Those of earlier runs (their process gone, per /proc)
/// are removed then, so they do not pile up.
pub fn isolated_dirs() -> (std::path::PathBuf, std::path::PathBuf) {
    static DIRS: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let root = DIRS.get_or_init(|| {
        let parent = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
        let procfs = std::path::Path::new("/proc/self").exists();
        if let Ok(entries) = std::fs::read_dir(parent)
            .map_err(|_| ())
            .and_then(|e| if procfs { Ok(e) } else { Err(()) })
        {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let gone = name
                    .strip_prefix("isolated-")
                    .and_then(|pid| pid.parse::<u32>().ok())
                    .is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists());
                if gone {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let root = parent.join(format!("isolated-{}", std::process::id()));
        for sub in ["data", "config"] {
            std::fs::create_dir_all(root.join(sub)).expect("create the isolated test directories");
        }
        root
    });
    (root.join("data"), root.join("config"))
}
