//! Writes on the credentials that are not access keys, against the emulator through the real
//! SDK: SSH public keys, signing certificates, service-specific credentials (a Bedrock API
//! key) and the console password. Each write changes the state (read back independently),
//! journals its intent and outcome naming the credential, and refuses a vanished, changed or
//! denied target.

mod common;

use keytriage::aws::credentials::{read_console_password, read_user_credentials};
use keytriage::aws::{self, RoleOptions};
use keytriage::journal::{ActionResult, Journal, Phase};
use keytriage::model::{
    Account, AccountScan, Credential, CredentialKind, CredentialRef, CredentialStatus, KeyAction, KeyStatus, Target,
};
use keytriage::remediate::{RemediateError, Remediator, WriteRequest};
use serde_json::json;
use std::sync::Arc;

fn scenario(faults: serde_json::Value) -> serde_json::Value {
    json!({
        "organization": true,
        "accounts": [
            {"name": "mgmt", "email": "m@example.com", "management": true, "users": []},
            {"name": "prod", "email": "p@example.com", "users": [
                {"name": "dev", "path": "/", "created_days_ago": 500,
                 "password": {"last_used_days_ago": 3},
                 "ssh_keys": [{"age_days": 400, "status": "Active"}],
                 "signing_certificates": [{"age_days": 300, "status": "Active", "expires_in_days": 12}],
                 "service_credentials": [{"service": "bedrock.amazonaws.com", "age_days": 20}]}
            ]}
        ],
        "faults": faults
    })
}

struct Fixture {
    emu: keytriage::emulator::Emulator,
    remediator: Remediator,
    journal: Journal,
    prod: Account,
    scan: AccountScan,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn new(faults: serde_json::Value) -> Self {
        Self::with(scenario(faults)).await
    }

    /// A fixture on `scenario`, whose account `prod` has the user `dev` first.
    async fn with(scenario: serde_json::Value) -> Self {
        let emu = common::emulator(&scenario);
        let ctx = common::context(&emu).await;
        let org = keytriage::scan::run_to_end(ctx.clone(), Arc::new(common::scan_options()), |_| {})
            .await
            .unwrap();
        let scan = common::account(&org, "prod").clone();
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::at(dir.path().join("journal.jsonl"));
        let role = RoleOptions {
            role_name: "OrganizationAccountAccessRole".into(),
            external_id: None,
            session_length: None,
        };
        let remediator = Remediator::new(ctx, role, journal.clone(), true);
        emu.reset_stats().unwrap();
        Self {
            emu,
            remediator,
            journal,
            prod: scan.account.clone(),
            scan,
            _dir: dir,
        }
    }

    /// The scanned credential of `dev` of `kind`.
    fn scanned(&self, kind: CredentialKind) -> Credential {
        self.scan.users[0]
            .credentials
            .iter()
            .find(|c| c.kind == kind)
            .unwrap_or_else(|| panic!("no {kind} in the scan"))
            .clone()
    }

    fn request(&self, action: KeyAction, kind: CredentialKind) -> WriteRequest {
        WriteRequest::for_credential(action, &self.prod, "dev", &self.scanned(kind))
    }

    fn password_request(&self) -> WriteRequest {
        let dev = &self.scan.users[0];
        assert!(dev.password_enabled, "the scan saw dev's password");
        WriteRequest::disable_console(&self.prod, "dev", dev.password_last_used)
    }

    /// The account's config with the audit role, for independent reads and direct writes.
    async fn config(&self) -> aws_config::SdkConfig {
        let ctx = common::context(&self.emu).await;
        ctx.account_config(
            &self.prod,
            &RoleOptions {
                role_name: "OrganizationAccountAccessRole".into(),
                external_id: None,
                session_length: None,
            },
        )
        .await
        .unwrap()
    }

    /// `dev`'s credentials of `kind`, read back independently of the remediator.
    async fn read_back(&self, kind: CredentialKind) -> Vec<Credential> {
        read_user_credentials(&self.config().await, "dev", kind).await.unwrap()
    }

    fn mutating_calls(&self) -> u64 {
        self.emu.stats().unwrap()["mutating"].as_u64().unwrap()
    }
}

/// Deactivate, activate, then delete one credential of `kind`: each write reads back as
/// made, and the journal holds intent + outcome for each, naming the kind and id.
async fn deactivate_activate_delete(kind: CredentialKind) {
    let f = Fixture::new(json!([])).await;
    let id = f.scanned(kind).id;
    let done = f
        .remediator
        .apply(&f.request(KeyAction::Deactivate, kind))
        .await
        .unwrap();
    let reread = done.credentials.expect("the remediator re-reads the kind");
    assert_eq!(
        reread.iter().map(|c| (c.id.as_str(), c.status)).collect::<Vec<_>>(),
        [(id.as_str(), CredentialStatus::Inactive)]
    );
    assert_eq!(f.read_back(kind).await[0].status, CredentialStatus::Inactive);

    let mut activate = f.request(KeyAction::Activate, kind);
    activate.status = KeyStatus::Inactive;
    f.remediator.apply(&activate).await.unwrap();
    assert_eq!(f.read_back(kind).await[0].status, CredentialStatus::Active);

    let done = f.remediator.apply(&f.request(KeyAction::Delete, kind)).await.unwrap();
    assert_eq!(done.credentials, Some(vec![]));
    assert!(f.read_back(kind).await.is_empty(), "deleted");

    let lines = f.journal.read().unwrap();
    let expected = CredentialRef { kind, id: id.clone() };
    assert_eq!(
        lines
            .iter()
            .map(|l| (
                l.phase,
                l.action,
                l.result,
                l.credential.clone(),
                l.access_key_id.clone()
            ))
            .collect::<Vec<_>>(),
        [
            (Phase::Intent, KeyAction::Deactivate, None, Some(expected.clone()), None),
            (
                Phase::Outcome,
                KeyAction::Deactivate,
                Some(ActionResult::Ok),
                Some(expected.clone()),
                None
            ),
            (Phase::Intent, KeyAction::Activate, None, Some(expected.clone()), None),
            (
                Phase::Outcome,
                KeyAction::Activate,
                Some(ActionResult::Ok),
                Some(expected.clone()),
                None
            ),
            (Phase::Intent, KeyAction::Delete, None, Some(expected.clone()), None),
            (
                Phase::Outcome,
                KeyAction::Delete,
                Some(ActionResult::Ok),
                Some(expected),
                None
            ),
        ]
    );
    assert!(lines[1].request_id.is_some(), "the outcome carries AWS's request id");
    let text = std::fs::read_to_string(f.journal.path()).unwrap();
    assert!(
        text.contains(&format!("\"credential\":{{\"kind\":\"{kind}\",\"id\":\"{id}\"}}")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_key_deactivate_activate_delete_read_back_and_journal() {
    deactivate_activate_delete(CredentialKind::SshPublicKey).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_certificate_deactivate_activate_delete_read_back_and_journal() {
    deactivate_activate_delete(CredentialKind::SigningCertificate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bedrock_api_key_deactivate_activate_delete_read_back_and_journal() {
    deactivate_activate_delete(CredentialKind::ServiceSpecific).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_console_access_needs_the_user_name_deletes_the_password_and_journals() {
    let f = Fixture::new(json!([])).await;
    let request = f.password_request();
    assert_eq!(request.must_type().as_deref(), Some("dev"), "the user name is typed");
    assert_eq!(
        request.describe(),
        format!(
            "disable console access of dev (console password) in account {}",
            f.prod.id
        )
    );
    let done = f.remediator.apply(&request).await.unwrap();
    assert_eq!(done.password_enabled, Some(false));
    assert_eq!(read_console_password(&f.config().await, "dev").await.unwrap(), None);

    let lines = f.journal.read().unwrap();
    assert_eq!(
        lines
            .iter()
            .map(|l| (
                l.phase,
                l.action,
                l.result,
                l.user.as_str(),
                l.credential.is_none(),
                l.access_key_id.is_none()
            ))
            .collect::<Vec<_>>(),
        [
            (Phase::Intent, KeyAction::DisableConsole, None, "dev", true, true),
            (
                Phase::Outcome,
                KeyAction::DisableConsole,
                Some(ActionResult::Ok),
                "dev",
                true,
                true
            ),
        ]
    );
    let text = std::fs::read_to_string(f.journal.path()).unwrap();
    assert!(text.contains("\"action\":\"disable_console\""), "{text}");

    // Again: nothing to delete any more.
    let again = f.remediator.apply(&request).await.unwrap_err();
    assert_eq!(
        again.to_string(),
        "dev no longer has a console password; nothing was changed — rescan the account"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_deleted_between_read_and_write_is_refused_without_a_write() {
    let f = Fixture::new(json!([])).await;
    let config = f.config().await;
    for kind in CredentialKind::ALL {
        let c = f.scanned(kind);
        aws::remediate::delete_credential(&config, "dev", &c.reference())
            .await
            .unwrap();
    }
    aws::remediate::delete_login_profile(&config, "dev").await.unwrap();
    f.emu.reset_stats().unwrap();
    for kind in CredentialKind::ALL {
        let c = f.scanned(kind);
        let e = f
            .remediator
            .apply(&f.request(KeyAction::Deactivate, kind))
            .await
            .unwrap_err();
        assert!(matches!(e, RemediateError::Changed(_)), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!(
                "{} {} of dev no longer exists; nothing was changed — rescan the account",
                kind.label(),
                c.id
            )
        );
    }
    let e = f.remediator.apply(&f.password_request()).await.unwrap_err();
    assert!(e.to_string().starts_with("dev no longer has a console password"), "{e}");
    assert_eq!(f.mutating_calls(), 0, "no write was made");
    assert!(f.journal.read().unwrap().is_empty(), "nothing journaled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_whose_status_changed_is_refused() {
    let f = Fixture::new(json!([])).await;
    let c = f.scanned(CredentialKind::SshPublicKey);
    aws::remediate::set_credential_status(&f.config().await, "dev", &c.reference(), KeyStatus::Inactive)
        .await
        .unwrap();
    f.emu.reset_stats().unwrap();
    let e = f
        .remediator
        .apply(&f.request(KeyAction::Delete, CredentialKind::SshPublicKey))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "SSH public key {} is now Inactive (it was Active when scanned); nothing was changed — rescan the account",
            c.id
        )
    );
    assert_eq!(f.mutating_calls(), 0);
    assert_eq!(f.read_back(CredentialKind::SshPublicKey).await.len(), 1, "still there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_write_names_the_missing_action_is_journaled_failed_and_changes_nothing() {
    let f = Fixture::new(json!([
        {"account": "prod", "action": "UpdateSSHPublicKey", "kind": "deny"},
        {"account": "prod", "action": "DeleteServiceSpecificCredential", "kind": "deny"},
        {"account": "prod", "action": "DeleteLoginProfile", "kind": "deny"}
    ]))
    .await;
    let cases = [
        (
            f.request(KeyAction::Deactivate, CredentialKind::SshPublicKey),
            "iam:UpdateSSHPublicKey",
        ),
        (
            f.request(KeyAction::Delete, CredentialKind::ServiceSpecific),
            "iam:DeleteServiceSpecificCredential",
        ),
        (f.password_request(), "iam:DeleteLoginProfile"),
    ];
    for (request, action) in &cases {
        let e = f.remediator.apply(request).await.unwrap_err();
        match &e {
            RemediateError::Aws {
                error: aws::Error::AccessDenied { action: a, .. },
                ..
            } => assert_eq!(a, action),
            other => panic!("expected access denied on {action}, got {other:?}"),
        }
        assert!(e.to_string().starts_with(&format!("access denied on {action}")), "{e}");
    }
    let lines = f.journal.read().unwrap();
    let outcomes: Vec<_> = lines
        .iter()
        .filter(|l| l.phase == Phase::Outcome)
        .map(|l| (l.action, l.result, l.error_code.as_deref()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (KeyAction::Deactivate, Some(ActionResult::Failed), Some("AccessDenied")),
            (KeyAction::Delete, Some(ActionResult::Failed), Some("AccessDenied")),
            (
                KeyAction::DisableConsole,
                Some(ActionResult::Failed),
                Some("AccessDenied")
            ),
        ]
    );
    assert_eq!(
        f.read_back(CredentialKind::SshPublicKey).await[0].status,
        CredentialStatus::Active
    );
    assert_eq!(f.read_back(CredentialKind::ServiceSpecific).await.len(), 1);
    assert!(read_console_password(&f.config().await, "dev").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_read_answers_each_kind_and_refuses_actions_a_kind_lacks() {
    let f = Fixture::new(json!([])).await;
    let live = f
        .remediator
        .live_target(&f.request(KeyAction::Deactivate, CredentialKind::SigningCertificate))
        .await
        .unwrap();
    assert_eq!(
        live,
        keytriage::remediate::Live::Credential(f.scanned(CredentialKind::SigningCertificate))
    );
    let live = f.remediator.live_target(&f.password_request()).await.unwrap();
    let keytriage::remediate::Live::Password { last_used } = live else {
        panic!("{live:?}")
    };
    assert_eq!(
        last_used.map(|t| t.date_naive()),
        f.scan.users[0].password_last_used.map(|t| t.date_naive())
    );

    let mut rotate = f.request(KeyAction::Rotate, CredentialKind::SshPublicKey);
    assert_eq!(
        rotate.nothing_to_do().as_deref(),
        Some("only access keys can be rotated, not SSH public keys")
    );
    rotate.action = KeyAction::DisableConsole;
    let e = f.remediator.apply(&rotate).await.unwrap_err();
    assert!(matches!(e, RemediateError::Changed(_)), "{e:?}");
    assert!(matches!(rotate.target, Target::Credential(_)));
    assert_eq!(f.mutating_calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_credential_and_password_actions_are_closed_with_their_live_state() {
    let f = Fixture::new(json!([])).await;
    let ssh = f.scanned(CredentialKind::SshPublicKey);
    let config = f.config().await;
    aws::remediate::set_credential_status(&config, "dev", &ssh.reference(), KeyStatus::Inactive)
        .await
        .unwrap();
    aws::remediate::delete_login_profile(&config, "dev").await.unwrap();
    let intent = |id: &str, action: KeyAction, credential: Option<CredentialRef>| keytriage::journal::Entry {
        time: chrono::Utc::now(),
        action_id: id.into(),
        phase: Phase::Intent,
        operator: "arn:aws:sts::123456789012:user/moto".into(),
        account_id: f.prod.id.clone(),
        user: "dev".into(),
        access_key_id: None,
        credential,
        action,
        result: None,
        request_id: None,
        error_code: None,
        message: None,
        batch_id: None,
    };
    f.journal
        .append(&intent("crashed-1", KeyAction::Deactivate, Some(ssh.reference())))
        .unwrap();
    f.journal
        .append(&intent("crashed-2", KeyAction::DisableConsole, None))
        .unwrap();
    f.emu.reset_stats().unwrap();

    let lines = f.remediator.close_interrupted().await;
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].ends_with(&format!(
            "deactivate SSH public key {} of dev in {}: the SSH public key is now Inactive",
            ssh.id, f.prod.id
        )),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].ends_with(&format!(
            "disable_console the console password of dev in {}: the console password no longer exists",
            f.prod.id
        )),
        "{}",
        lines[1]
    );
    let all = f.journal.read().unwrap();
    assert_eq!(
        all.iter()
            .filter(|l| l.result == Some(ActionResult::Interrupted))
            .count(),
        2
    );
    assert_eq!(
        all[2].credential,
        Some(ssh.reference()),
        "the outcome keeps the credential"
    );
    assert_eq!(f.mutating_calls(), 0, "only reads");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activating_an_expired_service_specific_credential_is_refused_before_any_call() {
    // Before: the write was made and reported "activated" while the credential, past its
    // expiry, read back Expired (unusable) right after.
    let f = Fixture::with(json!({
        "organization": true,
        "accounts": [
            {"name": "mgmt", "email": "m@example.com", "management": true, "users": []},
            {"name": "prod", "email": "p@example.com", "users": [
                {"name": "dev", "path": "/", "created_days_ago": 500,
                 "service_credentials": [{"service": "codecommit.amazonaws.com", "age_days": 200,
                                          "expires_in_days": -15}]}
            ]}
        ]
    }))
    .await;
    let expired = f.scanned(CredentialKind::ServiceSpecific);
    assert_eq!(expired.status, CredentialStatus::Expired);
    let request = WriteRequest::for_credential(KeyAction::Activate, &f.prod, "dev", &expired);
    let err = f.remediator.apply(&request).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "service-specific credential {} expired on {}: activating cannot make it usable; create a new one (nothing was changed)",
            expired.id,
            expired.expires.unwrap().format("%Y-%m-%d")
        )
    );
    assert_eq!(f.mutating_calls(), 0, "no write was made");
    assert!(f.journal.read().unwrap().is_empty(), "nothing journaled");
    assert_eq!(
        f.read_back(CredentialKind::ServiceSpecific).await[0].status,
        CredentialStatus::Expired
    );
    // Deleting it stays possible.
    let delete = WriteRequest::for_credential(KeyAction::Delete, &f.prod, "dev", &expired);
    f.remediator.apply(&delete).await.unwrap();
    assert!(f.read_back(CredentialKind::ServiceSpecific).await.is_empty());
}
