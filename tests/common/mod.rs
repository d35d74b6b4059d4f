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
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_keytriage"));
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
