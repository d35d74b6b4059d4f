//! A new secret access key never leaks: after a real rotation against the emulator, with every
//! crate logging at TRACE to a file, the secret is in none of the artefacts — the log file,
//! the journal, the scan JSON, `Debug` output of the key, the dialog and the app (what a panic
//! message would print).

mod common;

use keytriage::audit::Policy;
use keytriage::aws::RoleOptions;
use keytriage::journal::Journal;
use keytriage::remediate::Remediator;
use keytriage::remediate::WriteRequest;
use keytriage::tui::app::{App, WriteEvent};
use secrecy::ExposeSecret;
use serde_json::json;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_of_a_rotation_is_in_no_artefact() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("trace.log");
    let log_file = std::fs::File::create(&log_path).unwrap();
    tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(log_file))
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .init();

    let emu = common::emulator(&json!({
        "organization": true,
        "accounts": [
            {"name": "mgmt", "email": "m@example.com", "management": true, "users": []},
            {"name": "prod", "email": "p@example.com", "users": [
                {"name": "ci-robot", "path": "/", "created_days_ago": 500,
                 "keys": [{"age_days": 400, "status": "Active", "last_used": null}]}]}
        ]
    }));
    let ctx = common::context(&emu).await;
    let opts = Arc::new(common::scan_options());
    let org = keytriage::scan::run_to_end(ctx.clone(), opts.clone(), |_| {})
        .await
        .unwrap();
    let prod = common::account(&org, "prod").account.clone();
    let journal = Journal::at(dir.path().join("journal.jsonl"));
    let role = RoleOptions {
        role_name: "OrganizationAccountAccessRole".into(),
        external_id: None,
        session_length: None,
    };
    let r = Remediator::new(ctx.clone(), role, journal.clone(), true);
    let (key, keys) = r.create_key(&prod, "ci-robot").await.unwrap();
    let secret = key.secret.expose_secret().to_owned();
    assert_eq!(secret.len(), 40, "a real secret was made");
    // The rotation's verification signs a call with the secret.
    let arn = r
        .verify_new_key(
            &prod,
            "ci-robot",
            &key,
            keytriage::remediate::VERIFY_WINDOW,
            keytriage::remediate::VERIFY_PAUSE,
            |_, _| {},
        )
        .await
        .unwrap();
    assert!(arn.ends_with(":user/ci-robot"), "{arn}");
    // And the hand-off to Secrets Manager sends it in a request body.
    let dest = keytriage::remediate::SecretDestination::parse("sm:prod/ci-robot")
        .unwrap()
        .unwrap();
    let stored = r.hand_off(&prod, "ci-robot", &dest, &key).await.unwrap();
    assert!(stored.contains("(created)"), "{stored}");

    // The scan JSON after the rotation.
    let org = keytriage::scan::run_to_end(ctx.clone(), opts, |_| {}).await.unwrap();
    let findings = keytriage::audit::audit_all(&org.accounts, &Policy::default(), chrono::Utc::now());
    let mut scan_json = Vec::new();
    let policy = Policy::default();
    let doc = keytriage::report::ScanDocument::new(&org, &policy, &findings, chrono::Utc::now());
    keytriage::report::write_json(&mut scan_json, &doc).unwrap();
    let scan_json = String::from_utf8(scan_json).unwrap();
    assert!(scan_json.contains(key.id.as_str()), "the new key is in the scan");

    // The TUI's state while the secret dialog is open (a panic message would Debug-print it).
    let mut app = App::new(Policy::default(), chrono::Utc::now(), "op".into(), true);
    let request = WriteRequest {
        action: keytriage::model::KeyAction::Rotate,
        account: prod.clone(),
        user: "ci-robot".into(),
        target: keytriage::model::Target::AccessKey(keys.as_ref().unwrap()[0].id.clone()),
        status: keytriage::model::KeyStatus::Active,
        last_used: None,
    };
    let key = Arc::new(key);
    app.on_write_event(WriteEvent::Rotated {
        request,
        result: Ok((key.clone(), keys)),
    });
    let app_debug = format!("{app:?}");
    assert!(app_debug.contains(key.id.as_str()), "the dialog is in the Debug output");
    let panic_message = std::panic::catch_unwind(|| panic!("state: {app_debug}")).unwrap_err();
    let panic_text = panic_message.downcast_ref::<String>().cloned().unwrap_or_default();

    drop(app);
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("CreateAccessKey"),
        "the log did capture the SDK's trace of the call"
    );
    assert!(
        log.contains("CreateSecret"),
        "the log did capture the SDK's trace of the hand-off"
    );
    assert!(
        log.contains("GetCallerIdentity"),
        "the log did capture the SDK's trace of the verification"
    );
    let artefacts = [
        ("log file", log),
        ("journal", std::fs::read_to_string(journal.path()).unwrap()),
        ("scan JSON", scan_json),
        ("Debug of the key", format!("{key:?}")),
        ("Debug of the app", app_debug),
        ("panic message", panic_text),
    ];
    for (name, text) in artefacts {
        assert!(!text.is_empty(), "{name} is empty");
        assert!(!text.contains(&secret), "the secret leaked into the {name}");
    }
}
