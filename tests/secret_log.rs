//! The environment cannot make the log file hold a new secret: with
//! `RUST_LOG=aws_smithy_runtime::client::orchestrator=trace` (a directive more specific than any
//! crate-wide cap) and `LOG_SENSITIVE_BODIES=true` (the SDK then logs HTTP bodies, and
//! `CreateAccessKey`'s holds the secret), a real rotation against the emulator through
//! keytriage's own logging setup leaves no secret in `keytriage.log`.
//!
//! Its own test binary: the global subscriber and the environment are per process.

mod common;

use keytriage::aws::RoleOptions;
use keytriage::journal::Journal;
use keytriage::remediate::Remediator;
use secrecy::ExposeSecret;
use serde_json::json;
use std::sync::Arc;

#[test]
fn sdk_trace_with_sensitive_bodies_does_not_reach_the_log() {
    // SAFETY: the only test of this binary, before any thread of its own is started.
    unsafe {
        std::env::set_var("RUST_LOG", "aws_smithy_runtime::client::orchestrator=trace");
        std::env::set_var("LOG_SENSITIVE_BODIES", "true");
    }
    let dir = tempfile::tempdir().unwrap();
    let guard = keytriage::logging::init(dir.path()).unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (secret, id) = runtime.block_on(async {
        let emu = common::emulator(&json!({
            "accounts": [
                {"name": "mgmt", "management": true, "users": []},
                {"name": "prod", "users": [
                    {"name": "ci-robot", "created_days_ago": 500,
                     "keys": [{"age_days": 400, "status": "Active", "last_used": null}]}]}
            ]
        }));
        let ctx = common::context(&emu).await;
        let org = keytriage::scan::run_to_end(ctx.clone(), Arc::new(common::scan_options()), |_| {})
            .await
            .unwrap();
        let prod = common::account(&org, "prod").account.clone();
        let role = RoleOptions {
            role_name: "OrganizationAccountAccessRole".into(),
            external_id: None,
            session_length: None,
        };
        let journal = Journal::at(dir.path().join("journal.jsonl"));
        let r = Remediator::new(ctx, role, journal, true);
        let (key, _) = r.create_key(&prod, "ci-robot").await.unwrap();
        (key.secret.expose_secret().to_owned(), key.id.to_string())
    });
    assert_eq!(secret.len(), 40, "a real secret was made");
    // The SDK's target does reach the file at INFO: the pipe works, only its bodies are cut.
    tracing::info!(target: "aws_smithy_runtime::client::orchestrator", "rotation of {id} done");
    drop(guard); // flushes the writer thread

    let log = std::fs::read_to_string(dir.path().join("keytriage.log")).unwrap();
    assert!(log.contains(&format!("rotation of {id} done")), "log: {log}");
    assert!(!log.contains(&secret), "the secret reached the log file");
    assert!(
        !log.contains("SecretAccessKey"),
        "a CreateAccessKey body reached the log file"
    );
}
