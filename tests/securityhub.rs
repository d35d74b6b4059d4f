//! Security Hub import against the emulator through the real SDK: round trip of ids and
//! severities, archiving after a fix, batches of at most 100, refused findings by id, retries.

mod common;

use keytriage::audit::{self, Finding, Policy, Rule};
use keytriage::aws::securityhub::{self, StoredFinding};
use keytriage::aws::{AwsContext, RoleOptions};
use keytriage::journal::Journal;
use keytriage::model::{AccessKeyId, AccountId, KeyAction};
use keytriage::remediate::{Remediator, WriteRequest};
use keytriage::report::asff::{self, Destination};
use keytriage::scan::OrgScan;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const REGION: &str = "eu-west-1";

/// Runs `body` on a runtime in a thread with a 16 MiB stack: unoptimised (test-profile)
/// deserializers of Security Hub's findings take more than a test thread's 2 MiB. The
/// binary runs them on its main thread (8 MiB).
fn on_big_stack(body: impl std::future::Future<Output = ()> + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(16 << 20)
        .spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(body)
        })
        .unwrap()
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

fn scenario(faults: serde_json::Value) -> serde_json::Value {
    let key = |age: u32| json!({"age_days": age, "status": "Active", "last_used": {"days_ago": 3, "service": "s3", "region": "eu-west-1"}});
    json!({
        "organization": true,
        "accounts": [
            {"name": "mgmt", "email": "m@example.com", "management": true, "users": []},
            {"name": "prod", "email": "p@example.com", "users": [
                {"name": "ci-robot", "path": "/", "created_days_ago": 500, "keys": [key(400)]},
                {"name": "old-and-new", "path": "/", "created_days_ago": 500, "keys": [key(400), key(10)]}
            ]}
        ],
        "faults": faults
    })
}

fn dest(ctx: &AwsContext) -> Destination {
    Destination {
        partition: ctx.caller.partition.clone(),
        account_id: ctx.caller.account_id.clone(),
        region: REGION.into(),
    }
}

fn audited(org: &OrgScan) -> BTreeSet<String> {
    org.accounts.iter().map(|a| a.account.id.to_string()).collect()
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn by_id(stored: &[StoredFinding]) -> BTreeMap<String, String> {
    stored
        .iter()
        .map(|f| (f.id.clone(), f.severity_label.clone()))
        .collect()
}

fn batch_calls(emu: &keytriage::emulator::Emulator) -> u64 {
    emu.stats().unwrap()["by_action"]["BatchImportFindings"]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn import_then_get_findings_returns_the_same_ids_and_severities_and_a_fix_is_archived() {
    on_big_stack(async {
        let emu = common::emulator(&scenario(json!([])));
        let ctx = common::context(&emu).await;
        let org = common::scan(&emu).await;
        let t = chrono::Utc::now();
        let findings = audit::audit_all(&org.accounts, &Policy::default(), t);
        let d = dest(&ctx);
        let sent = asff::findings(&org, &findings, &d, t);
        let client = securityhub::client(&ctx, REGION);
        let report = securityhub::sync(&client, &d.product_arn(), sent.clone(), &audited(&org), &now())
            .await
            .unwrap();
        assert_eq!(
            (report.active, report.archived, report.failed.len()),
            (sent.len(), 0, 0)
        );
        let expected: BTreeMap<String, String> =
            sent.iter().map(|f| (f.id.clone(), f.severity.label.clone())).collect();
        let stored = securityhub::stored_findings(&client, &d.product_arn()).await.unwrap();
        assert_eq!(by_id(&stored), expected);
        let prod = common::account(&org, "prod");
        let robot_key = prod.users.iter().find(|u| u.name == "ci-robot").unwrap().access_keys[0]
            .id
            .clone();
        let rotated = format!("keytriage/{}/key-not-rotated/{robot_key}", prod.account.id);
        assert_eq!(expected.get(&rotated).map(String::as_str), Some("HIGH"));
        assert!(
            expected.values().any(|l| l == "MEDIUM"),
            "multiple-active-keys: {expected:?}"
        );

        // The fix: delete ci-robot's key, rescan, sync again.
        let dir = tempfile::tempdir().unwrap();
        let role = RoleOptions {
            role_name: "OrganizationAccountAccessRole".into(),
            external_id: None,
            session_length: None,
        };
        let remediator = Remediator::new(ctx.clone(), role, Journal::at(dir.path().join("j.jsonl")), true);
        let robot = prod.users.iter().find(|u| u.name == "ci-robot").unwrap();
        remediator
            .apply(&WriteRequest::new(
                KeyAction::Delete,
                &prod.account,
                "ci-robot",
                &robot.access_keys[0],
            ))
            .await
            .unwrap();
        let org2 = common::scan(&emu).await;
        let t2 = chrono::Utc::now();
        let findings2 = audit::audit_all(&org2.accounts, &Policy::default(), t2);
        let sent2 = asff::findings(&org2, &findings2, &d, t2);
        assert!(sent2.iter().all(|f| f.id != rotated));
        let report = securityhub::sync(&client, &d.product_arn(), sent2.clone(), &audited(&org2), &now())
            .await
            .unwrap();
        let gone: Vec<&String> = expected
            .keys()
            .filter(|id| !sent2.iter().any(|f| &f.id == *id))
            .collect();
        assert_eq!(report.archived, gone.len());
        assert!(gone.contains(&&rotated));
        let stored = securityhub::stored_findings(&client, &d.product_arn()).await.unwrap();
        let ids: BTreeSet<&str> = stored.iter().map(|f| f.id.as_str()).collect();
        assert!(!ids.contains(rotated.as_str()), "the fixed finding is archived");
        assert_eq!(ids, sent2.iter().map(|f| f.id.as_str()).collect::<BTreeSet<_>>());
        // A finding still there keeps its first CreatedAt.
        let still = &sent2[0];
        let first = sent.iter().find(|f| f.id == still.id).unwrap();
        let kept = stored.iter().find(|f| f.id == still.id).unwrap();
        assert_eq!(kept.created_at, first.created_at);
    });
}

fn many(n: usize, account: &str) -> Vec<Finding> {
    (0..n)
        .map(|i| Finding {
            rule: Rule::KeyNotRotated,
            severity: Rule::KeyNotRotated.severity(),
            account_id: AccountId::parse(account).unwrap(),
            user: format!("user-{i:03}").into(),
            access_key_id: Some(AccessKeyId::from(format!("AKIATEST{i:012}"))),
            credential: None,
            detail: format!("active key is {} days old (limit 90)", 100 + i),
            controls: Rule::KeyNotRotated.controls(),
        })
        .collect()
}

fn no_org() -> OrgScan {
    OrgScan {
        organization: None,
        accounts: vec![],
        warnings: vec![],
        missing: vec![],
    }
}

#[test]
fn a_250_finding_import_goes_in_three_calls_of_at_most_100() {
    on_big_stack(async {
        let emu = common::emulator(&scenario(json!([])));
        let ctx = common::context(&emu).await;
        let d = dest(&ctx);
        let sent = asff::findings(&no_org(), &many(250, "222222222222"), &d, chrono::Utc::now());
        let client = securityhub::client(&ctx, REGION);
        emu.reset_stats().unwrap();
        let report = securityhub::sync(&client, &d.product_arn(), sent, &BTreeSet::new(), &now())
            .await
            .unwrap();
        assert_eq!((report.active, report.calls), (250, 3));
        assert_eq!(batch_calls(&emu), 3, "{}", emu.stats().unwrap());
        let stored = securityhub::stored_findings(&client, &d.product_arn()).await.unwrap();
        assert_eq!(stored.len(), 250);
        // The emulator refuses what AWS refuses: 101 findings in one call.
        let over: Vec<_> = asff::findings(&no_org(), &many(101, "222222222222"), &d, chrono::Utc::now())
            .iter()
            .map(securityhub::to_sdk)
            .collect();
        let e = client
            .batch_import_findings()
            .set_findings(Some(over))
            .send()
            .await
            .unwrap_err();
        assert!(format!("{e:?}").contains("InvalidInputException"), "{e:?}");
    });
}

#[test]
fn a_refused_finding_is_reported_by_id_and_the_others_go() {
    on_big_stack(async {
        let emu = common::emulator(&scenario(json!([])));
        let ctx = common::context(&emu).await;
        let d = dest(&ctx);
        let mut sent = asff::findings(&no_org(), &many(3, "222222222222"), &d, chrono::Utc::now());
        sent[1].aws_account_id = "999999999999".into(); // not the caller's: Security Hub refuses it
        let client = securityhub::client(&ctx, REGION);
        let report = securityhub::sync(&client, &d.product_arn(), sent.clone(), &BTreeSet::new(), &now())
            .await
            .unwrap();
        assert_eq!(report.active, 2);
        assert_eq!(report.failed.len(), 1);
        assert_eq!(report.failed[0].id, sent[1].id);
        assert_eq!(report.failed[0].code, "AccessDeniedException");
    });
}

#[test]
fn a_throttled_import_is_retried() {
    on_big_stack(async {
        let emu = common::emulator(&scenario(json!([
            {"account": "*", "action": "BatchImportFindings", "kind": "throttle", "first": 2}
        ])));
        let ctx: Arc<AwsContext> = common::context(&emu).await;
        let d = dest(&ctx);
        let sent = asff::findings(&no_org(), &many(5, "222222222222"), &d, chrono::Utc::now());
        let client = securityhub::client(&ctx, REGION);
        emu.reset_stats().unwrap();
        let report = securityhub::sync(&client, &d.product_arn(), sent, &BTreeSet::new(), &now())
            .await
            .unwrap();
        assert_eq!((report.active, report.calls), (5, 1));
        let stats = emu.stats().unwrap();
        assert_eq!(stats["by_action"]["BatchImportFindings"], 3, "{stats}");
        assert_eq!(stats["faulted_by_action"]["BatchImportFindings"], 2, "{stats}");
    });
}
