//! The scan against the emulator, through the real AWS SDK: exact findings for a known
//! scenario, pagination, and accounts that cannot be scanned.

mod common;

use chrono::Utc;
use keytriage::audit::{self, Policy, ROOT_USER, Rule};
use keytriage::model::{KeyStatus, MfaKind, ScanStatus};
use serde_json::json;
use std::collections::BTreeSet;

fn key(age: u32, status: &str, used: Option<(u32, &str, &str)>) -> serde_json::Value {
    json!({"age_days": age, "status": status,
           "last_used": used.map(|(d, s, r)| json!({"days_ago": d, "service": s, "region": r}))})
}

fn known_org() -> serde_json::Value {
    json!({
        "organization": true,
        "ous": [{"name": "Production", "parent": null}, {"name": "Payments", "parent": "Production"}],
        "accounts": [
            {"name": "mgmt", "email": "root@example.com", "management": true,
             "root": {"access_key": false, "mfa": "hardware"}, "users": []},
            {"name": "payments", "email": "pay@example.com", "ou": "Payments",
             "root": {"access_key": true, "mfa": null},
             "users": [
                {"name": "ci-old", "path": "/robots/", "created_days_ago": 500,
                 "keys": [key(400, "Active", Some((2, "s3", "eu-west-1")))]},
                {"name": "alice", "path": "/people/", "created_days_ago": 30,
                 "password": {"last_used_days_ago": 1}, "mfa": null, "keys": []},
                {"name": "bob", "path": "/people/", "created_days_ago": 20, "mfa": "virtual",
                 "password": {"last_used_days_ago": 1},
                 "keys": [key(10, "Active", Some((1, "ec2", "us-east-1"))), key(5, "Active", Some((1, "sts", "us-east-1")))]},
                {"name": "carol", "path": "/", "created_days_ago": 20,
                 "keys": [key(10, "Inactive", None)]},
                {"name": "dave", "path": "/", "created_days_ago": 20,
                 "keys": [key(60, "Active", None)]},
                {"name": "erin", "path": "/", "created_days_ago": 200, "mfa": "hardware",
                 "password": {"last_used_days_ago": 100}, "keys": []}
             ]},
            {"name": "web", "email": "web@example.com", "ou": "Production", "root_row": false,
             "root": {"access_key": false, "mfa": "virtual"},
             "users": [{"name": "fresh", "path": "/", "created_days_ago": 3,
                        "keys": [key(3, "Active", Some((0, "s3", "us-east-1")))]}]}
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_scenario_gives_exactly_its_findings() {
    let emu = common::emulator(&known_org());
    let org = common::scan(&emu).await;
    assert_eq!(org.accounts.len(), 3);
    assert!(
        org.accounts.iter().all(|a| a.scan.status == ScanStatus::Ok),
        "{:?}",
        org.accounts
    );

    let pay = common::account(&org, "payments");
    assert_eq!(pay.account.ou_path, "/Production/Payments");
    assert_eq!(common::account(&org, "web").account.ou_path, "/Production");
    assert_eq!(common::account(&org, "mgmt").account.ou_path, "/");
    let names: Vec<&str> = pay.users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "carol", "ci-old", "dave", "erin"]);

    // Inventory facts, as the scenario set them.
    let ci = &pay.users[3];
    assert_eq!(ci.path, "/robots/");
    let k = &ci.access_keys[0];
    assert_eq!(k.status, KeyStatus::Active);
    assert_eq!(keytriage::model::age_days(k.created, Utc::now()), 400);
    let used = k.last_used.as_ref().expect("ci-old's key was used");
    assert_eq!(
        (used.service.as_deref(), used.region.as_deref()),
        (Some("s3"), Some("eu-west-1"))
    );
    assert_eq!(keytriage::model::age_days(used.date, Utc::now()), 2);
    assert_eq!(pay.users[1].mfa_kind(), Some(MfaKind::Virtual));
    assert_eq!(pay.users[5].mfa_kind(), Some(MfaKind::Hardware));
    assert!(pay.users[0].password_enabled && !pay.users[0].mfa_active);
    assert_eq!(pay.users[2].access_keys[0].status, KeyStatus::Inactive);
    assert!(pay.users[4].access_keys[0].last_used.is_none());

    // Root: from the report row (payments) and from GetAccountSummary (web, no row).
    let root = pay.root.as_ref().unwrap();
    assert!(root.access_keys_present && !root.mfa_enabled);
    let web_root = common::account(&org, "web").root.as_ref().unwrap();
    assert_eq!(
        (web_root.mfa_enabled, web_root.mfa_kind),
        (true, Some(MfaKind::Virtual))
    );

    let findings = audit::audit_all(&org.accounts, &Policy::default(), Utc::now());
    let key_of = |user: &str, i: usize| {
        pay.users.iter().find(|u| u.name == user).unwrap().access_keys[i]
            .id
            .to_string()
    };
    let got: BTreeSet<(String, Rule, String, Option<String>)> = findings
        .iter()
        .map(|f| {
            let acct = org.accounts.iter().find(|a| a.account.id == f.account_id).unwrap();
            (
                acct.account.name.clone(),
                f.rule,
                f.user.to_string(),
                f.access_key_id.as_ref().map(|k| k.to_string()),
            )
        })
        .collect();
    let p = |rule, user: &str, key: Option<String>| ("payments".to_string(), rule, user.to_string(), key);
    let want: BTreeSet<_> = [
        p(Rule::RootAccessKey, ROOT_USER, None),
        p(Rule::RootNoMfa, ROOT_USER, None),
        ("web".to_string(), Rule::RootVirtualMfa, ROOT_USER.to_string(), None),
        p(Rule::KeyNotRotated, "ci-old", Some(key_of("ci-old", 0))),
        p(Rule::StaleUser, "erin", None),
        p(Rule::PasswordUnused, "erin", None),
        p(Rule::ConsoleWithoutMfa, "alice", None),
        p(Rule::MultipleActiveKeys, "bob", None),
        p(Rule::InactiveKey, "carol", Some(key_of("carol", 0))),
        p(Rule::KeyUnused, "dave", Some(key_of("dave", 0))),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_through_250_users_and_30_accounts() {
    let mut accounts = vec![json!({"name": "mgmt", "email": "m@example.com", "management": true, "users": []})];
    for i in 1..30 {
        accounts.push(json!({"name": format!("member-{i:02}"), "email": format!("m{i}@example.com"), "users": []}));
    }
    accounts[1]["generated_users"] = json!([{"count": 250, "prefix": "bot-", "path": "/robots/",
        "created_days_ago": 10, "keys": [key(5, "Active", Some((1, "s3", "us-east-1")))]}]);
    let emu = common::emulator(&json!({"organization": true, "accounts": accounts}));
    let org = common::scan(&emu).await;
    assert_eq!(org.accounts.len(), 30);
    assert!(org.accounts.iter().all(|a| a.scan.status == ScanStatus::Ok));
    let big = common::account(&org, "member-01");
    assert_eq!(big.users.len(), 250);
    assert_eq!(big.users[249].name, "bot-250");
    assert!(
        big.users
            .iter()
            .all(|u| u.access_keys.len() == 1 && u.access_keys[0].last_used.is_some())
    );

    let stats = emu.stats().unwrap();
    let by_action = &stats["by_action"];
    assert_eq!(
        by_action["ListUsers"],
        30 + 2,
        "one page per account plus two more pages for 250 users: {stats}"
    );
    assert_eq!(
        by_action["AssumeRole"], 29,
        "the audit role is assumed once per member account: {stats}"
    );
    // The credential report answered every key's last use: no per-key lookups.
    assert!(by_action.get("GetAccessKeyLastUsed").is_none_or(|v| v == 0), "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_and_suspended_accounts_are_recorded_and_the_rest_finish() {
    let emu = common::emulator(&json!({
        "organization": true,
        "accounts": [
            {"name": "mgmt", "email": "m@example.com", "management": true, "users": []},
            {"name": "locked", "email": "l@example.com", "users": [{"name": "x", "path": "/", "created_days_ago": 1}]},
            {"name": "closed", "email": "c@example.com", "state": "SUSPENDED", "users": []},
            {"name": "fine", "email": "f@example.com", "users": [{"name": "y", "path": "/", "created_days_ago": 1}]}
        ],
        "faults": [{"account": "locked", "action": "AssumeRole", "kind": "deny"}]
    }));
    let org = common::scan(&emu).await;
    let locked = common::account(&org, "locked");
    assert_eq!(locked.scan.status, ScanStatus::Failed);
    let err = locked.scan.error.as_ref().unwrap();
    assert_eq!(err.code, "AccessDenied");
    assert!(
        err.message.starts_with(&format!(
            "cannot assume arn:aws:iam::{}:role/OrganizationAccountAccessRole",
            locked.account.id
        )),
        "{}",
        err.message
    );
    assert!(locked.users.is_empty() && locked.root.is_none());

    let closed = common::account(&org, "closed");
    assert_eq!(closed.scan.status, ScanStatus::Skipped);
    assert_eq!(closed.scan.error.as_ref().unwrap().code, "AccountNotActive");
    assert_eq!(closed.account.state.as_str(), "SUSPENDED");

    let fine = common::account(&org, "fine");
    assert_eq!(fine.scan.status, ScanStatus::Ok);
    assert_eq!(fine.users[0].name, "y");
}
