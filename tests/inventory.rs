//! One account's inventory against the emulator, where the credential report cannot be
//! trusted: twin keys created in the same second, a user with two rows, dates that cannot be
//! true. Each key must carry its own last use (the truth is `GetAccessKeyLastUsed`), and what
//! cannot be true is said in the account's warnings.

mod common;

use chrono::Utc;
use keytriage::audit::{self, Policy, Rule};
use keytriage::model::{AccountScan, User, age_days};
use serde_json::json;
use std::collections::BTreeSet;

fn key(age: i64, used_days_ago: Option<i64>) -> serde_json::Value {
    json!({"age_days": age, "status": "Active",
           "last_used": used_days_ago.map(|d| json!({"days_ago": d, "service": "sts", "region": "eu-west-1"}))})
}

fn one_account(users: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    let mut account = json!({"name": "solo", "management": true, "users": users});
    if let (Some(a), Some(e)) = (account.as_object_mut(), extra.as_object()) {
        a.extend(e.clone());
    }
    json!({"organization": true, "accounts": [account]})
}

/// The live truth for every key of `user`: id → days since last use (`None` = never).
async fn truth(emu: &keytriage::emulator::Emulator, user: &User) -> Vec<(String, Option<i64>)> {
    let iam = aws_sdk_iam::Client::new(&common::context(emu).await.base);
    let mut out = Vec::new();
    for k in &user.access_keys {
        let got = iam
            .get_access_key_last_used()
            .access_key_id(k.id.as_str())
            .send()
            .await
            .expect("GetAccessKeyLastUsed");
        let date = got.access_key_last_used().and_then(|u| u.last_used_date()).map(|d| {
            let secs = d.secs();
            age_days(chrono::DateTime::from_timestamp(secs, 0).unwrap(), Utc::now())
        });
        out.push((k.id.to_string(), date));
    }
    out
}

fn as_read(user: &User) -> Vec<(String, Option<i64>)> {
    user.access_keys
        .iter()
        .map(|k| {
            (
                k.id.to_string(),
                k.last_used.as_ref().map(|u| age_days(u.date, Utc::now())),
            )
        })
        .collect()
}

fn user<'a>(acct: &'a AccountScan, name: &str) -> &'a User {
    acct.users
        .iter()
        .find(|u| u.name == name)
        .unwrap_or_else(|| panic!("no user {name}: {:?} {:?}", acct.scan, acct.users))
}

/// (rule, user, key id) of every finding in the account.
fn findings(acct: &AccountScan) -> BTreeSet<(Rule, String, Option<String>)> {
    audit::audit_all(std::slice::from_ref(acct), &Policy::default(), Utc::now())
        .into_iter()
        .map(|f| (f.rule, f.user.to_string(), f.access_key_id.map(|k| k.to_string())))
        .collect()
}

/// Issue 9 item 1: two keys created in the same second. The report's slots cannot be told
/// apart, so both used to get slot 1's last use: "used-first" lost the never-used key's
/// `key-unused` (a missing finding), "never-first" showed the key used yesterday as never
/// used (a wrong finding, and a deactivate dialog without the recent-use warning).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twin_keys_of_one_second_each_get_their_own_last_use() {
    let twins = |name: &str, first: Option<i64>, second: Option<i64>| {
        json!({"name": name, "created_days_ago": 100, "keys_same_second": true,
               "keys": [key(60, first), key(60, second)]})
    };
    let emu = common::emulator(&one_account(
        json!([twins("used-first", Some(1), None), twins("never-first", None, Some(1))]),
        json!({}),
    ));
    let org = common::scan(&emu).await;
    let acct = common::account(&org, "solo");
    let mut want = BTreeSet::new();
    for name in ["used-first", "never-first"] {
        let u = user(acct, name);
        assert_eq!(u.access_keys.len(), 2);
        assert_eq!(
            u.access_keys[0].created, u.access_keys[1].created,
            "the scenario's twins"
        );
        let read = as_read(u);
        assert_eq!(read, truth(&emu, u).await, "{name}");
        assert_eq!(
            read.iter().map(|(_, d)| *d).collect::<BTreeSet<_>>(),
            BTreeSet::from([Some(1), None]),
            "{name}: one key used yesterday, one never"
        );
        let never = read.iter().find(|(_, d)| d.is_none()).unwrap().0.clone();
        want.insert((Rule::MultipleActiveKeys, name.to_owned(), None));
        want.insert((Rule::KeyUnused, name.to_owned(), Some(never)));
    }
    assert_eq!(findings(acct), want);
    assert!(acct.scan.warnings.is_empty(), "{:?}", acct.scan.warnings);
    let stats = emu.stats().unwrap();
    assert_eq!(
        stats["by_action"]["GetAccessKeyLastUsed"],
        4 + 4,
        "the scan's 4, then the test's: {stats}"
    );
}

/// Issue 9 item 14: a user with two report rows (the later one stale: its key never used).
/// The last row used to win without a word: the key used 2 days ago read as never used and
/// got `key-unused`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_with_two_report_rows_is_read_from_the_api_with_a_warning() {
    let emu = common::emulator(&one_account(
        json!([{"name": "alice", "created_days_ago": 100, "keys": [key(60, Some(2))]},
               {"name": "bob", "created_days_ago": 100, "keys": [key(60, Some(3))]}]),
        json!({"report_duplicate_rows": ["alice"]}),
    ));
    let org = common::scan(&emu).await;
    let acct = common::account(&org, "solo");
    let alice = user(acct, "alice");
    assert_eq!(as_read(alice), truth(&emu, alice).await);
    assert_eq!(as_read(alice)[0].1, Some(2));
    assert_eq!(as_read(user(acct, "bob"))[0].1, Some(3));
    assert_eq!(findings(acct), BTreeSet::new());
    assert_eq!(
        acct.scan.warnings,
        ["credential report has more than one row for 'alice'; read from the API instead"]
    );
}

/// Issue 9 item 14: a user and a key created in the future, a key last used before it was
/// created. IAM itself says so (report and API agree), so the data is kept and each
/// impossibility is a warning: the report row is not trusted, and the API's answer is named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dates_that_cannot_be_true_are_warned_about() {
    let emu = common::emulator(&one_account(
        json!([{"name": "early", "created_days_ago": 100, "keys": [key(10, Some(20))]},
               {"name": "future", "created_days_ago": -3, "keys": [key(-2, None)]},
               {"name": "fine", "created_days_ago": 100, "keys": [key(10, Some(1))]}]),
        json!({}),
    ));
    let org = common::scan(&emu).await;
    let acct = common::account(&org, "solo");
    let id = |name: &str| user(acct, name).access_keys[0].id.0.clone();
    let w = &acct.scan.warnings;
    let has = |needle: &str| w.iter().any(|x| x.contains(needle));
    assert!(
        has("credential report row of 'early' cannot be true (key 1 last used (")
            && has(&format!("user 'early' key {} was last used (", id("early"))),
        "{w:?}"
    );
    assert!(
        has("credential report row of 'future' cannot be true (user created in the future (")
            && has("user 'future' was created in the future (")
            && has(&format!(
                "user 'future' key {} was created in the future (",
                id("future")
            )),
        "{w:?}"
    );
    assert_eq!(w.len(), 5, "two for early, three for future, none for fine: {w:?}");
    assert!(!has("'fine'"), "{w:?}");
    assert_eq!(as_read(user(acct, "early"))[0].1, Some(20), "the API's answer, kept");
}
