//! Remediation against the emulator through the real SDK: each write, its pre-checks, its
//! journal lines and its error paths.

mod common;

use keytriage::aws::{self, ConnectOptions, RoleOptions};
use keytriage::journal::{self, ActionResult, Journal, Phase};
use keytriage::model::{AccessKey, AccessKeyId, Account, AccountScan, KeyAction, KeyStatus};
use keytriage::remediate::{RemediateError, Remediator, WriteRequest, write_secret_file};
use secrecy::ExposeSecret;
use serde_json::json;
use std::sync::Arc;

fn scenario(faults: serde_json::Value) -> serde_json::Value {
    let key = |age: u32, status: &str| json!({"age_days": age, "status": status, "last_used": {"days_ago": 3, "service": "s3", "region": "eu-west-1"}});
    json!({
        "organization": true,
        "accounts": [
            {"name": "mgmt", "email": "m@example.com", "management": true, "users": []},
            {"name": "prod", "email": "p@example.com", "users": [
                {"name": "ci-robot", "path": "/", "created_days_ago": 500, "keys": [key(400, "Active")]},
                {"name": "full", "path": "/", "created_days_ago": 500, "keys": [key(400, "Active"), key(30, "Inactive")]},
                {"name": "both-active", "path": "/", "created_days_ago": 500, "keys": [key(400, "Active"), key(30, "Active")]}
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
    async fn new(faults: serde_json::Value, writes: bool) -> Self {
        let emu = common::emulator(&scenario(faults));
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
        let remediator = Remediator::new(ctx, role, journal.clone(), writes);
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

    fn key_of(&self, user: &str, i: usize) -> AccessKeyId {
        self.scan.users.iter().find(|u| u.name == user).unwrap().access_keys[i]
            .id
            .clone()
    }

    fn scanned(&self, user: &str, i: usize) -> AccessKey {
        self.scan.users.iter().find(|u| u.name == user).unwrap().access_keys[i].clone()
    }

    /// `action` on the `i`th key of `user` as scanned.
    fn request(&self, action: KeyAction, user: &str, i: usize) -> WriteRequest {
        WriteRequest::new(action, &self.prod, user, &self.scanned(user, i))
    }

    /// `action` on `key` of `user`, seen with `status` and the scanned last use (none for a
    /// key the scan does not have).
    fn request_for(&self, action: KeyAction, user: &str, key: &AccessKeyId, status: KeyStatus) -> WriteRequest {
        let last_used = self
            .scan
            .users
            .iter()
            .flat_map(|u| &u.access_keys)
            .find(|k| &k.id == key)
            .and_then(|k| k.last_used.clone());
        WriteRequest {
            action,
            account: self.prod.clone(),
            user: user.into(),
            target: keytriage::model::Target::AccessKey(key.clone()),
            status,
            last_used,
        }
    }

    fn calls(&self, action: &str) -> u64 {
        self.emu.stats().unwrap()["by_action"][action].as_u64().unwrap_or(0)
    }

    fn mutating_calls(&self) -> u64 {
        self.emu.stats().unwrap()["mutating"].as_u64().unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivate_then_activate_with_journal_lines() {
    let f = Fixture::new(json!([]), true).await;
    let key = f.key_of("ci-robot", 0);
    let done = f
        .remediator
        .apply(&f.request_for(KeyAction::Deactivate, "ci-robot", &key, KeyStatus::Active))
        .await
        .unwrap();
    let keys = done.keys.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!((keys[0].id.clone(), keys[0].status), (key.clone(), KeyStatus::Inactive));

    let done = f
        .remediator
        .apply(&f.request_for(KeyAction::Activate, "ci-robot", &key, KeyStatus::Inactive))
        .await
        .unwrap();
    assert_eq!(done.keys.unwrap()[0].status, KeyStatus::Active);

    let lines = f.journal.read().unwrap();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0].action_id, lines[1].action_id);
    assert_ne!(lines[0].action_id, lines[2].action_id);
    assert_eq!(
        (lines[0].phase, lines[0].action, lines[0].result),
        (Phase::Intent, KeyAction::Deactivate, None)
    );
    assert_eq!(
        (lines[1].phase, lines[1].result),
        (Phase::Outcome, Some(ActionResult::Ok))
    );
    assert!(lines[1].request_id.is_some(), "the outcome carries AWS's request id");
    assert_eq!(lines[1].access_key_id.as_ref(), Some(&key));
    assert_eq!(lines[1].account_id, f.prod.id);
    assert_eq!(lines[1].operator, "arn:aws:sts::123456789012:user/moto");
    assert_eq!(lines[3].action, KeyAction::Activate);
    assert!(journal::unfinished(&lines).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_creates_a_working_key_and_keeps_the_secret_out_of_the_journal() {
    let f = Fixture::new(json!([]), true).await;
    let (new_key, keys) = f.remediator.create_key(&f.prod, "ci-robot").await.unwrap();
    let keys = keys.unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().any(|k| k.id == new_key.id && k.status == KeyStatus::Active));
    assert!(
        !format!("{new_key:?}").contains(new_key.secret.expose_secret()),
        "Debug never shows the secret"
    );

    // The new secret works: GetCallerIdentity signed with it names the user.
    let who = aws::connect(&ConnectOptions {
        endpoint_url: Some(f.emu.endpoint()),
        isolated_credentials: Some((new_key.id.0.to_string(), new_key.secret.expose_secret().to_owned())),
        max_attempts: 2,
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(who.caller.account_id, f.prod.id);
    assert!(who.caller.arn.ends_with("user/ci-robot"), "{}", who.caller.arn);

    let text = std::fs::read_to_string(f.journal.path()).unwrap();
    assert!(text.contains(new_key.id.as_str()), "the outcome names the new key");
    assert!(!text.contains(new_key.secret.expose_secret()), "never the secret");

    // Saved to a credentials file: mode 0600, never overwriting.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ci-robot.credentials");
    write_secret_file(&path, "ci-robot", &new_key).unwrap();
    let saved = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        saved,
        format!(
            "[ci-robot]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            new_key.id,
            new_key.secret.expose_secret()
        )
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let again = write_secret_file(&path, "ci-robot", &new_key).unwrap_err();
    assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        saved,
        "existing file untouched"
    );
}

// See: issue 12, rotation that verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_key_is_verified_by_signing_get_caller_identity_with_it() {
    use keytriage::remediate::{VERIFY_PAUSE, VERIFY_WINDOW};
    let f = Fixture::new(json!([]), true).await;
    let (new_key, _) = f.remediator.create_key(&f.prod, "ci-robot").await.unwrap();
    let mut ticks = Vec::new();
    let arn = f
        .remediator
        .verify_new_key(&f.prod, "ci-robot", &new_key, VERIFY_WINDOW, VERIFY_PAUSE, |n, left| {
            ticks.push((n, left))
        })
        .await
        .unwrap();
    assert_eq!(arn, format!("arn:aws:iam::{}:user/ci-robot", f.prod.id));
    assert!(ticks.is_empty(), "moto accepts the key at once: no retry, {ticks:?}");
    let stats = f.emu.stats().unwrap();
    assert_eq!(stats["by_action"]["GetCallerIdentity"], 1, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_key_that_is_never_accepted_fails_verification_after_the_window() {
    use keytriage::remediate::VerifyError;
    use std::time::Duration;
    // IAM never accepts keys of ci-robot; the caller's own calls go through.
    let f = Fixture::new(
        json!([{"action": "GetCallerIdentity", "signer": "ci-robot", "kind": "deny",
                "code": "InvalidClientTokenId", "message": "The security token included in the request is invalid."}]),
        true,
    )
    .await;
    let (new_key, _) = f.remediator.create_key(&f.prod, "ci-robot").await.unwrap();
    let mut ticks = Vec::new();
    let started = std::time::Instant::now();
    let err = f
        .remediator
        .verify_new_key(
            &f.prod,
            "ci-robot",
            &new_key,
            Duration::from_millis(1500),
            Duration::from_millis(500),
            |n, left| ticks.push((n, left)),
        )
        .await
        .unwrap_err();
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "it waited out the window"
    );
    let VerifyError::NotAccepted {
        key, attempts, error, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(key, &new_key.id);
    assert!((3..=5).contains(attempts), "a try every 0.5 s for 1.5 s: {attempts}");
    assert_eq!(error.code(), "InvalidClientTokenId");
    assert_eq!(ticks.len() as u32, attempts - 1, "a countdown tick before each pause");
    assert!(
        ticks.windows(2).all(|w| w[1].1 < w[0].1),
        "the time left goes down: {ticks:?}"
    );
    assert!(
        err.to_string().starts_with(&format!(
            "the new access key {} was not accepted by sts:GetCallerIdentity within 1 s",
            new_key.id
        )),
        "{err}"
    );
    assert!(
        !err.to_string()
            .contains(secrecy::ExposeSecret::expose_secret(&new_key.secret))
    );
    let stats = f.emu.stats().unwrap();
    assert_eq!(
        stats["faulted_by_action"]["GetCallerIdentity"].as_u64(),
        Some(u64::from(*attempts)),
        "{stats}"
    );
}

// See: issue 12, Secrets Manager hand-off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_key_handed_off_to_secrets_manager_reads_back_and_stays_out_of_the_journal() {
    use keytriage::remediate::SecretDestination;
    let f = Fixture::new(json!([]), true).await;
    let (new_key, _) = f.remediator.create_key(&f.prod, "ci-robot").await.unwrap();
    let dest = SecretDestination::parse("sm:eu-west-1:prod/ci-robot/aws")
        .unwrap()
        .unwrap();
    let line = f
        .remediator
        .hand_off(&f.prod, "ci-robot", &dest, &new_key)
        .await
        .unwrap();
    assert!(
        line.starts_with(&format!(
            "Secrets Manager secret prod/ci-robot/aws (created) arn:aws:secretsmanager:eu-west-1:{}:secret:prod/ci-robot/aws-",
            f.prod.id
        )),
        "{line}"
    );
    assert!(!line.contains(new_key.secret.expose_secret()));

    // Read back in the key's account and that region, as an application would.
    let role = RoleOptions {
        role_name: "OrganizationAccountAccessRole".into(),
        external_id: None,
        session_length: None,
    };
    let ctx = common::context(&f.emu).await;
    let config = ctx.account_config(&f.prod, &role).await.unwrap();
    let config = config
        .to_builder()
        .region(aws_types::region::Region::new("eu-west-1"))
        .build();
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let read = |client: aws_sdk_secretsmanager::Client| async move {
        let out = client
            .get_secret_value()
            .secret_id("prod/ci-robot/aws")
            .send()
            .await
            .unwrap();
        serde_json::from_str::<serde_json::Value>(out.secret_string().unwrap()).unwrap()
    };
    assert_eq!(
        read(client.clone()).await,
        json!({"AccessKeyId": new_key.id.as_str(), "SecretAccessKey": new_key.secret.expose_secret()})
    );

    // Again under the same name: a new version (the application reads the latest).
    let line = f
        .remediator
        .hand_off(&f.prod, "ci-robot", &dest, &new_key)
        .await
        .unwrap();
    assert!(line.contains("(new version)"), "{line}");
    assert_eq!(read(client).await["AccessKeyId"], new_key.id.as_str());

    let journal = std::fs::read_to_string(f.journal.path()).unwrap();
    assert!(
        !journal.contains(new_key.secret.expose_secret()),
        "never in the journal"
    );

    // Read-only sessions refuse before any call.
    let ro = Remediator::new(ctx, role, f.journal.clone(), false);
    assert!(matches!(
        ro.hand_off(&f.prod, "ci-robot", &dest, &new_key).await,
        Err(RemediateError::ReadOnly)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_on_a_full_user_offers_the_inactive_key_and_changes_nothing() {
    let f = Fixture::new(json!([]), true).await;
    let err = f.remediator.create_key(&f.prod, "full").await.unwrap_err();
    let RemediateError::QuotaFull { user, inactive } = err else {
        panic!("{err:?}")
    };
    assert_eq!((user.as_str(), inactive), ("full", Some(f.key_of("full", 1))));
    let err = f.remediator.create_key(&f.prod, "both-active").await.unwrap_err();
    assert!(
        matches!(err, RemediateError::QuotaFull { inactive: None, .. }),
        "{err:?}"
    );
    assert_eq!(f.mutating_calls(), 0);
    assert!(f.journal.read().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_the_key() {
    let f = Fixture::new(json!([]), true).await;
    let key = f.key_of("full", 1);
    let done = f
        .remediator
        .apply(&f.request_for(KeyAction::Delete, "full", &key, KeyStatus::Inactive))
        .await
        .unwrap();
    let keys = done.keys.unwrap();
    assert_eq!(
        keys.iter().map(|k| k.id.clone()).collect::<Vec<_>>(),
        vec![f.key_of("full", 0)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vanished_or_changed_key_is_refused_without_a_write() {
    let f = Fixture::new(json!([]), true).await;
    let gone = AccessKeyId("AKIAGONE000000000000".into());
    let err = f
        .remediator
        .apply(&f.request_for(KeyAction::Deactivate, "ci-robot", &gone, KeyStatus::Active))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "access key AKIAGONE000000000000 of ci-robot no longer exists; nothing was changed — rescan the account"
    );
    let key = f.key_of("ci-robot", 0);
    let err = f
        .remediator
        .apply(&f.request_for(KeyAction::Activate, "ci-robot", &key, KeyStatus::Inactive))
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "access key {key} is now Active (it was Inactive when scanned)"
        )),
        "{err}"
    );
    let err = f
        .remediator
        .apply(&f.request_for(KeyAction::Delete, "nobody", &key, KeyStatus::Active))
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("user nobody no longer exists"), "{err}");
    assert_eq!(f.mutating_calls(), 0);
    assert!(f.journal.read().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_write_is_reported_journaled_and_changes_nothing() {
    let f = Fixture::new(
        json!([{"account": "prod", "action": "UpdateAccessKey", "kind": "deny"}]),
        true,
    )
    .await;
    let key = f.key_of("ci-robot", 0);
    let err = f
        .remediator
        .apply(&f.request_for(KeyAction::Deactivate, "ci-robot", &key, KeyStatus::Active))
        .await
        .unwrap_err();
    let RemediateError::Aws { error, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(error.code(), "AccessDenied");
    assert!(
        err.to_string().starts_with("access denied on iam:UpdateAccessKey"),
        "{err}"
    );
    let lines = f.journal.read().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1].result, Some(ActionResult::Failed));
    assert_eq!(lines[1].error_code.as_deref(), Some("AccessDenied"));
    let keys = keytriage::aws::inventory::read_user_keys(&f.remediator_config().await, "ci-robot")
        .await
        .unwrap();
    assert_eq!(keys[0].status, KeyStatus::Active, "unchanged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_makes_no_call_at_all() {
    let f = Fixture::new(json!([]), false).await;
    let key = f.key_of("ci-robot", 0);
    for action in [KeyAction::Deactivate, KeyAction::Activate, KeyAction::Delete] {
        let err = f
            .remediator
            .apply(&f.request_for(action, "ci-robot", &key, KeyStatus::Active))
            .await
            .unwrap_err();
        assert!(matches!(err, RemediateError::ReadOnly), "{err:?}");
    }
    assert!(matches!(
        f.remediator.create_key(&f.prod, "ci-robot").await,
        Err(RemediateError::ReadOnly)
    ));
    assert_eq!(f.emu.stats().unwrap()["total"], 0, "not even a read");
    assert!(f.journal.read().unwrap().is_empty());
}

impl Fixture {
    async fn remediator_config(&self) -> aws_config::SdkConfig {
        let ctx = common::context(&self.emu).await;
        let role = RoleOptions {
            role_name: "OrganizationAccountAccessRole".into(),
            external_id: None,
            session_length: None,
        };
        ctx.account_config(&self.prod, &role).await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_action_is_reported_with_the_live_state_and_closed() {
    // What a crash or kill -9 between intent and outcome leaves on disk: the synced intent
    // line, and the write done (or not) in AWS. Here the write happened.
    let f = Fixture::new(json!([]), true).await;
    let key = f.key_of("ci-robot", 0);
    let cfg = f.remediator_config().await;
    keytriage::aws::remediate::set_status(&cfg, "ci-robot", &key, KeyStatus::Inactive)
        .await
        .unwrap();
    let intent = journal::Entry {
        time: chrono::Utc::now(),
        action_id: "crashed-1".into(),
        phase: Phase::Intent,
        operator: "arn:aws:sts::123456789012:user/moto".into(),
        account_id: f.prod.id.clone(),
        user: "ci-robot".into(),
        access_key_id: Some(key.clone()),
        credential: None,
        action: KeyAction::Deactivate,
        result: None,
        request_id: None,
        error_code: None,
        message: None,
        batch_id: None,
    };
    f.journal.append(&intent).unwrap();
    f.emu.reset_stats().unwrap();

    let lines = f.remediator.close_interrupted().await;
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].ends_with(&format!(
            "deactivate {key} of ci-robot in {}: the key is now Inactive",
            f.prod.id
        )),
        "{}",
        lines[0]
    );
    let all = f.journal.read().unwrap();
    assert!(journal::unfinished(&all).is_empty(), "closed");
    assert_eq!(all[1].result, Some(ActionResult::Interrupted));
    assert_eq!(
        all[1].message.as_deref(),
        Some("found unfinished at a later start; the key is now Inactive")
    );
    assert_eq!(f.mutating_calls(), 0, "only reads");
    assert!(f.remediator.close_interrupted().await.is_empty(), "reported once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_response_is_lost_is_unknown_and_names_the_orphan_key() {
    let f = Fixture::new(
        json!([{"account": "prod", "action": "CreateAccessKey", "kind": "drop", "after": true}]),
        true,
    )
    .await;
    let err = f.remediator.create_key(&f.prod, "ci-robot").await.unwrap_err();
    let RemediateError::Unknown { found, keys, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(f.calls("CreateAccessKey"), 1, "made once, never retried");
    let keys = keys.as_ref().unwrap();
    assert_eq!(keys.len(), 2, "the create took effect");
    let orphan = keys.iter().find(|k| k.id != f.key_of("ci-robot", 0)).unwrap();
    assert_eq!(
        found,
        &format!(
            "access key {} was created, whose secret nobody has: deactivate and delete it, then rotate again",
            orphan.id
        )
    );
    assert!(
        err.to_string().starts_with("no answer from AWS to create a new access key for ci-robot, which may have taken effect (could not reach AWS for iam:CreateAccessKey"),
        "{err}"
    );
    let lines = f.journal.read().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1].result, Some(ActionResult::Unknown));
    assert_eq!(
        lines[1].access_key_id.as_ref(),
        Some(&orphan.id),
        "the orphan is journaled"
    );
    assert!(lines[1].message.as_deref().unwrap().ends_with(found.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_whose_response_is_lost_says_the_key_is_gone() {
    let f = Fixture::new(
        json!([{"account": "prod", "action": "DeleteAccessKey", "kind": "drop", "after": true}]),
        true,
    )
    .await;
    let key = f.key_of("full", 1);
    let err = f
        .remediator
        .apply(&f.request(KeyAction::Delete, "full", 1))
        .await
        .unwrap_err();
    let RemediateError::Unknown { found, keys, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(found, &format!("access key {key} is gone: the delete took effect"));
    assert_eq!(
        keys.as_ref().unwrap().iter().map(|k| k.id.clone()).collect::<Vec<_>>(),
        vec![f.key_of("full", 0)]
    );
    assert_eq!(f.calls("DeleteAccessKey"), 1, "made once, never retried");
    let lines = f.journal.read().unwrap();
    assert_eq!(lines[1].result, Some(ActionResult::Unknown));
    assert_eq!(lines[1].error_code.as_deref(), Some("Transport"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_answered_500_after_it_took_effect_is_not_retried() {
    let f = Fixture::new(
        json!([{"account": "prod", "action": "DeleteAccessKey", "kind": "error", "status": 500, "after": true}]),
        true,
    )
    .await;
    let key = f.key_of("full", 1);
    let err = f
        .remediator
        .apply(&f.request(KeyAction::Delete, "full", 1))
        .await
        .unwrap_err();
    let RemediateError::Unknown { found, error, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(error.code(), "InternalFailure");
    assert_eq!(found, &format!("access key {key} is gone: the delete took effect"));
    assert_eq!(f.calls("DeleteAccessKey"), 1, "a 5xx is not retried either");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_refused_with_a_5xx_before_any_effect_says_nothing_was_created() {
    let f = Fixture::new(
        json!([{"account": "prod", "action": "CreateAccessKey", "kind": "error", "status": 503}]),
        true,
    )
    .await;
    let err = f.remediator.create_key(&f.prod, "ci-robot").await.unwrap_err();
    let RemediateError::Unknown { found, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        found,
        "no new key exists for ci-robot: nothing was created; rotate again"
    );
    assert_eq!(f.calls("CreateAccessKey"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_used_since_it_was_seen_is_not_written_until_confirmed_again() {
    let f = Fixture::new(json!([]), true).await;
    // A key the operator sees as never used…
    let (new_key, keys) = f.remediator.create_key(&f.prod, "ci-robot").await.unwrap();
    let seen = keys.unwrap().into_iter().find(|k| k.id == new_key.id).unwrap();
    assert_eq!(seen.last_used, None);
    let request = WriteRequest::new(KeyAction::Deactivate, &f.prod, "ci-robot", &seen);
    // …is used by a workload before the write (moto records the use of a signed request).
    aws::connect(&ConnectOptions {
        endpoint_url: Some(f.emu.endpoint()),
        isolated_credentials: Some((new_key.id.0.to_string(), new_key.secret.expose_secret().to_owned())),
        max_attempts: 2,
        ..Default::default()
    })
    .await
    .unwrap();
    let journaled = f.journal.read().unwrap().len();
    let err = f.remediator.apply(&request).await.unwrap_err();
    let RemediateError::UsedSince { live, seen } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(seen, &None);
    let used = live.last_used.clone().expect("the live read has the use");
    assert!((chrono::Utc::now() - used.date).num_minutes() < 5, "{used:?}");
    assert!(
        err.to_string().starts_with(&format!(
            "access key {} was used since you confirmed (last use now ",
            new_key.id
        )),
        "{err}"
    );
    assert!(
        err.to_string()
            .ends_with("; you saw never used); nothing was changed — confirm again"),
        "{err}"
    );
    assert_eq!(f.journal.read().unwrap().len(), journaled, "no intent, no call");
    assert_eq!(f.live_status(&new_key.id).await, KeyStatus::Active);

    // Confirmed again against the live key: written.
    let again = WriteRequest::new(KeyAction::Deactivate, &f.prod, "ci-robot", live);
    f.remediator.apply(&again).await.unwrap();
    assert_eq!(f.live_status(&new_key.id).await, KeyStatus::Inactive);
}

impl Fixture {
    async fn live_status(&self, key: &AccessKeyId) -> KeyStatus {
        let keys = keytriage::aws::inventory::read_user_keys(&self.remediator_config().await, "ci-robot")
            .await
            .unwrap();
        keys.iter().find(|k| &k.id == key).unwrap().status
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_read_returns_the_keys_current_last_use() {
    let f = Fixture::new(json!([]), true).await;
    // The scanned key: its last use as seeded (3 days ago by s3 in eu-west-1), asked of
    // GetAccessKeyLastUsed, not the credential report.
    let key = f.key_of("ci-robot", 0);
    f.emu.reset_stats().unwrap();
    let live = f.remediator.live_key(&f.prod, "ci-robot", &key).await.unwrap();
    let used = live.last_used.clone().expect("seeded use");
    assert_eq!(
        (used.service.as_deref(), used.region.as_deref(), live.status),
        (Some("s3"), Some("eu-west-1"), KeyStatus::Active)
    );
    assert_eq!((chrono::Utc::now() - used.date).num_days(), 3, "{used:?}");
    assert_eq!(f.calls("GetAccessKeyLastUsed"), 1);
    assert_eq!(f.calls("ListAccessKeys"), 1);
    assert_eq!(f.mutating_calls(), 0, "a read");

    // A new key, never used, then used by a workload: the live read has the use.
    let (new_key, _) = f.remediator.create_key(&f.prod, "ci-robot").await.unwrap();
    let before = f.remediator.live_key(&f.prod, "ci-robot", &new_key.id).await.unwrap();
    assert_eq!(before.last_used, None);
    aws::connect(&ConnectOptions {
        endpoint_url: Some(f.emu.endpoint()),
        isolated_credentials: Some((new_key.id.0.to_string(), new_key.secret.expose_secret().to_owned())),
        max_attempts: 2,
        ..Default::default()
    })
    .await
    .unwrap();
    let after = f.remediator.live_key(&f.prod, "ci-robot", &new_key.id).await.unwrap();
    let used = after.last_used.expect("the use is read live");
    assert!((chrono::Utc::now() - used.date).num_minutes() < 5, "{used:?}");

    // A key that is gone says so.
    keytriage::aws::remediate::delete(&f.remediator_config().await, "ci-robot", &new_key.id)
        .await
        .unwrap();
    let err = f
        .remediator
        .live_key(&f.prod, "ci-robot", &new_key.id)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "access key {} of ci-robot no longer exists; nothing was changed — rescan the account",
            new_key.id
        )
    );
}

// ---- bulk: one action on many keys, as one batch ----

/// 3 accounts with 7, 7 and 6 `batch-job-NNN` users, one active key each (20 keys); the
/// first two used recently (2 days ago).
fn bulk_scenario() -> serde_json::Value {
    let mut n = 0;
    let mut account = |name: &str, users: usize| {
        let users: Vec<serde_json::Value> = (0..users)
            .map(|_| {
                n += 1;
                let days = if n <= 2 { 2 } else { 200 };
                json!({"name": format!("batch-job-{n:03}"), "path": "/", "created_days_ago": 500,
                       "keys": [{"age_days": 400, "status": "Active",
                                 "last_used": {"days_ago": days, "service": "s3", "region": "eu-west-1"}}]})
            })
            .collect();
        json!({"name": name, "email": format!("{name}@example.com"), "users": users})
    };
    let accounts = vec![
        json!({"name": "mgmt", "email": "m@example.com", "management": true, "users": []}),
        account("data-a", 7),
        account("data-b", 7),
        account("data-c", 6),
    ];
    json!({"organization": true, "accounts": accounts, "faults": []})
}

struct Bulk {
    emu: keytriage::emulator::Emulator,
    remediator: Remediator,
    journal: Journal,
    targets: Vec<WriteRequest>,
    ctx: Arc<keytriage::aws::AwsContext>,
    _dir: tempfile::TempDir,
}

impl Bulk {
    async fn new(writes: bool) -> Self {
        let emu = common::emulator(&bulk_scenario());
        let ctx = common::context(&emu).await;
        let org = keytriage::scan::run_to_end(ctx.clone(), Arc::new(common::scan_options()), |_| {})
            .await
            .unwrap();
        let mut targets = Vec::new();
        for name in ["data-a", "data-b", "data-c"] {
            let scan = common::account(&org, name);
            for u in &scan.users {
                for k in &u.access_keys {
                    targets.push(WriteRequest::new(KeyAction::Deactivate, &scan.account, &u.name, k));
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::at(dir.path().join("journal.jsonl"));
        let remediator = Remediator::new(ctx.clone(), role(), journal.clone(), writes);
        Self {
            emu,
            remediator,
            journal,
            targets,
            ctx,
            _dir: dir,
        }
    }

    async fn config_of(&self, t: &WriteRequest) -> aws_config::SdkConfig {
        self.ctx.account_config(&t.account, &role()).await.unwrap()
    }
}

fn role() -> RoleOptions {
    RoleOptions {
        role_name: "OrganizationAccountAccessRole".into(),
        external_id: None,
        session_length: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_deactivate_skips_a_changed_and_a_deleted_key_and_journals_every_target_under_one_batch() {
    use keytriage::remediate::bulk::{BatchEvent, BatchLimits, Outcome, new_batch_id, tally};
    let b = Bulk::new(true).await;
    assert_eq!(b.targets.len(), 20);
    assert_eq!(
        b.targets
            .iter()
            .map(|t| &t.account.id)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        3
    );
    // Between marking and confirming: one key deactivated elsewhere, one deleted.
    let (changed, gone) = (&b.targets[5], &b.targets[12]);
    keytriage::aws::remediate::set_status(
        &b.config_of(changed).await,
        &changed.user,
        changed.key().unwrap(),
        KeyStatus::Inactive,
    )
    .await
    .unwrap();
    keytriage::aws::remediate::delete(&b.config_of(gone).await, &gone.user, gone.key().unwrap())
        .await
        .unwrap();
    b.emu.reset_stats().unwrap();

    let batch = new_batch_id(chrono::Utc::now());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let limits = BatchLimits {
        accounts: 3,
        per_account: 3,
    };
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let outcomes = b
        .remediator
        .run_batch(&batch, &b.targets, limits, stop, tx)
        .await
        .unwrap();

    assert_eq!(tally(&outcomes), [18, 2, 0, 0, 0]);
    assert_eq!(
        outcomes[5],
        Outcome::Skipped(format!(
            "access key {} is now Inactive (it was Active when scanned)",
            changed.target
        ))
    );
    assert_eq!(
        outcomes[12],
        Outcome::Skipped(format!("access key {} of {} no longer exists", gone.target, gone.user))
    );
    // The channel had every start and end; the done ones carry the keys re-read.
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    assert_eq!(
        events.iter().filter(|e| matches!(e, BatchEvent::Started(_))).count(),
        20
    );
    let finished: Vec<&Outcome> = events
        .iter()
        .filter_map(|e| match e {
            BatchEvent::Finished(_, o) => Some(o),
            _ => None,
        })
        .collect();
    assert_eq!(finished.len(), 20);
    let Outcome::Done { keys: Some(keys), .. } = &outcomes[0] else {
        panic!("{:?}", outcomes[0])
    };
    assert_eq!(keys[0].status, KeyStatus::Inactive);
    // Every key live: deactivated, except the deleted one.
    assert_eq!(
        b.emu.stats().unwrap()["by_action"]["UpdateAccessKey"].as_u64(),
        Some(18)
    );
    assert_eq!(
        b.emu.stats().unwrap()["by_action"]["AssumeRole"].as_u64(),
        Some(3),
        "the role is assumed once per account, not per key"
    );
    let last_used_reads = b.emu.stats().unwrap()["by_action"]["GetAccessKeyLastUsed"]
        .as_u64()
        .unwrap();
    assert!(
        last_used_reads >= 19,
        "every present key's last use read live: {last_used_reads}"
    );

    // 20 intents and 20 outcomes, all under the batch id; 18 ok, 2 skipped with the reason.
    let lines = b.journal.read().unwrap();
    assert_eq!(lines.len(), 40);
    assert!(lines.iter().all(|e| e.batch_id.as_deref() == Some(batch.as_str())));
    assert_eq!(lines.iter().filter(|e| e.phase == Phase::Intent).count(), 20);
    let results: Vec<ActionResult> = lines.iter().filter_map(|e| e.result).collect();
    assert_eq!(results.iter().filter(|r| **r == ActionResult::Ok).count(), 18);
    assert_eq!(results.iter().filter(|r| **r == ActionResult::Skipped).count(), 2);
    assert!(journal::unfinished(&lines).is_empty());
    let skipped_gone = lines
        .iter()
        .find(|e| e.result == Some(ActionResult::Skipped) && e.access_key_id.as_ref() == gone.key())
        .unwrap();
    assert_eq!(
        skipped_gone.message.as_deref(),
        Some(format!("access key {} of {} no longer exists", gone.target, gone.user).as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_batch_launches_nothing_more_and_finishes_what_is_in_flight() {
    use keytriage::remediate::bulk::{BatchEvent, BatchLimits, Outcome, new_batch_id, tally};
    let b = Bulk::new(true).await;
    let batch = new_batch_id(chrono::Utc::now());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let limits = BatchLimits {
        accounts: 1,
        per_account: 1,
    };
    // Esc after the first target ends: one account at a time, one write at a time.
    let run = b.remediator.run_batch(&batch, &b.targets, limits, stop.clone(), tx);
    let watch = async {
        while let Some(e) = rx.recv().await {
            if matches!(e, BatchEvent::Finished(_, Outcome::Done { .. })) {
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
    };
    let (outcomes, ()) = tokio::join!(run, watch);
    let outcomes = outcomes.unwrap();
    let [done, skipped, failed, unknown, not_started] = tally(&outcomes);
    assert_eq!((skipped, failed, unknown), (0, 0, 0));
    assert!(
        (1..=2).contains(&done),
        "at most the one in flight finishes after the stop: {done}"
    );
    assert_eq!(done + not_started, 20);
    // Only what was launched is journaled, each with intent and outcome.
    let lines = b.journal.read().unwrap();
    assert_eq!(lines.len(), 2 * done);
    assert!(journal::unfinished(&lines).is_empty());
    assert_eq!(
        b.emu.stats().unwrap()["by_action"]["UpdateAccessKey"].as_u64(),
        Some(done as u64)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_batch_refuses_before_anything_starts() {
    use keytriage::remediate::bulk::{BatchLimits, new_batch_id};
    let b = Bulk::new(false).await;
    b.emu.reset_stats().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let err = b
        .remediator
        .run_batch(
            &new_batch_id(chrono::Utc::now()),
            &b.targets,
            BatchLimits::default(),
            stop,
            tx,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RemediateError::ReadOnly), "{err:?}");
    assert!(rx.try_recv().is_err(), "no event");
    assert_eq!(b.emu.stats().unwrap()["total"].as_u64().unwrap_or(0), 0, "no call");
    assert!(b.journal.read().unwrap_or_default().is_empty());
}
