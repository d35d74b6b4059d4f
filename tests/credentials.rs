//! The other long-lived credentials (SSH public keys, signing certificates, service-specific
//! credentials) against the emulator: read back equal to the scenario, the calls they cost,
//! `--credentials` limiting the reads, and a denied or vanished listing.

mod common;

use chrono::Utc;
use keytriage::audit::{self, Policy, Rule};
use keytriage::aws::credentials::CredentialKinds;
use keytriage::model::{AccountScan, Credential, CredentialKind, CredentialStatus, ScanStatus, Timestamp, User};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;

fn scenario(faults: serde_json::Value) -> serde_json::Value {
    json!({"organization": true, "faults": faults, "accounts": [{"name": "solo", "management": true, "users": [
        {"name": "alice", "created_days_ago": 800,
         "keys": [{"age_days": 10, "status": "Active", "last_used": {"days_ago": 1}}],
         "ssh_keys": [{"age_days": 400}, {"age_days": 5, "status": "Inactive"}],
         "signing_certificates": [{"age_days": 100, "expires_in_days": 10}],
         "service_credentials": [
            {"service": "bedrock.amazonaws.com", "age_days": 3},
            {"service": "codecommit.amazonaws.com", "age_days": 50, "expires_in_days": -2}]},
        {"name": "bob", "created_days_ago": 30},
        {"name": "carol", "created_days_ago": 30,
         "signing_certificates": [{"age_days": 20, "status": "Inactive", "expires_in_days": 300}],
         "service_credentials": [{"service": "cassandra.amazonaws.com", "age_days": 20, "expires_in_days": 30}]}
    ]}]})
}

/// Days from `from` to `to`, to the nearest whole day (the emulator seeded a few seconds ago).
fn days(from: Timestamp, to: Timestamp) -> i64 {
    ((to - from).num_seconds() as f64 / 86_400.0).round() as i64
}

/// (kind, status, age in days, days until expiry, service) of one credential.
type Shape = (CredentialKind, CredentialStatus, i64, Option<i64>, Option<String>);

/// The [`Shape`] of each credential of `u`, in order.
fn shape(u: &User) -> Vec<Shape> {
    let now = Utc::now();
    u.credentials
        .iter()
        .map(|c: &Credential| {
            (
                c.kind,
                c.status,
                days(c.created, now),
                c.expires.map(|e| days(now, e)),
                c.service.clone(),
            )
        })
        .collect()
}

fn user<'a>(acct: &'a AccountScan, name: &str) -> &'a User {
    acct.users
        .iter()
        .find(|u| u.name == name)
        .unwrap_or_else(|| panic!("no user {name}: {:?}", acct.scan))
}

fn calls(stats: &serde_json::Value, action: &str) -> u64 {
    stats["by_action"][action].as_u64().unwrap_or(0)
}

async fn scan_with(emu: &keytriage::emulator::Emulator, kinds: CredentialKinds) -> keytriage::scan::OrgScan {
    let mut opts = common::scan_options();
    opts.kinds = kinds;
    keytriage::scan::run_to_end(common::context(emu).await, Arc::new(opts), |_| {})
        .await
        .expect("scan")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_reads_back_as_the_scenario_with_its_findings_and_calls() {
    use CredentialKind::*;
    use CredentialStatus::*;
    let emu = common::emulator(&scenario(json!([])));
    emu.reset_stats().unwrap();
    let org = common::scan(&emu).await;
    let acct = common::account(&org, "solo");
    assert_eq!(acct.scan.status, ScanStatus::Ok, "{:?}", acct.scan);
    assert!(acct.scan.warnings.is_empty(), "{:?}", acct.scan.warnings);

    let bedrock = Some("bedrock.amazonaws.com".to_owned());
    let codecommit = Some("codecommit.amazonaws.com".to_owned());
    assert_eq!(
        shape(user(acct, "alice")),
        vec![
            (SshPublicKey, Active, 400, None, None),
            (SshPublicKey, Inactive, 5, None, None),
            (SigningCertificate, Active, 100, Some(10), None),
            (ServiceSpecific, Active, 3, None, bedrock),
            (ServiceSpecific, Expired, 50, Some(-2), codecommit),
        ]
    );
    assert_eq!(shape(user(acct, "bob")), vec![]);
    assert_eq!(
        shape(user(acct, "carol")),
        vec![
            (SigningCertificate, Inactive, 20, Some(300), None),
            (
                ServiceSpecific,
                Active,
                20,
                Some(30),
                Some("cassandra.amazonaws.com".into())
            ),
        ]
    );
    assert_eq!(user(acct, "alice").access_keys.len(), 1, "access keys still read");
    let ids: BTreeSet<_> = user(acct, "alice").credentials.iter().map(|c| c.id.clone()).collect();
    assert_eq!(ids.len(), 5, "distinct ids");

    let got: BTreeSet<(Rule, String, Option<CredentialKind>)> =
        audit::audit_all(std::slice::from_ref(acct), &Policy::default(), Utc::now())
            .into_iter()
            .filter(|f| f.credential.is_some())
            .map(|f| (f.rule, f.user.to_string(), f.credential.map(|c| c.kind)))
            .collect();
    let want: BTreeSet<_> = [
        (Rule::SshKeyNotRotated, "alice", SshPublicKey),
        (Rule::InactiveSshKey, "alice", SshPublicKey),
        (Rule::CertificateExpiring, "alice", SigningCertificate),
        (Rule::CertificateNotRotated, "alice", SigningCertificate),
        (Rule::BedrockLongTermKey, "alice", ServiceSpecific),
        (Rule::ServiceCredentialLongLived, "alice", ServiceSpecific),
        (Rule::ServiceCredentialExpired, "alice", ServiceSpecific),
        (Rule::InactiveCertificate, "carol", SigningCertificate),
    ]
    .into_iter()
    .map(|(r, u, k)| (r, u.to_owned(), Some(k)))
    .collect();
    assert_eq!(got, want);

    // SSH keys per user; certificates only where the report row shows one (not bob); every
    // user's service-specific credentials in one call.
    let stats = emu.stats().unwrap();
    assert_eq!(calls(&stats, "ListSSHPublicKeys"), 3, "{stats}");
    assert_eq!(calls(&stats, "ListSigningCertificates"), 2, "{stats}");
    assert_eq!(calls(&stats, "ListServiceSpecificCredentials"), 1, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_flag_reads_only_the_kinds_asked_for() {
    let emu = common::emulator(&scenario(json!([])));
    emu.reset_stats().unwrap();
    let org = scan_with(&emu, CredentialKinds::parse_list(&["ssh_public_key"]).unwrap()).await;
    let acct = common::account(&org, "solo");
    let alice = user(acct, "alice");
    assert!(alice.access_keys.is_empty(), "access keys not read");
    assert_eq!(
        alice.credentials.iter().map(|c| c.kind).collect::<Vec<_>>(),
        [CredentialKind::SshPublicKey, CredentialKind::SshPublicKey]
    );
    let stats = emu.stats().unwrap();
    assert_eq!(calls(&stats, "ListSSHPublicKeys"), 3, "{stats}");
    for none in [
        "ListAccessKeys",
        "ListSigningCertificates",
        "ListServiceSpecificCredentials",
    ] {
        assert_eq!(calls(&stats, none), 0, "{none}: {stats}");
    }
}

/// A denied `ListSSHPublicKeys` (an audit role written before this kind existed) is a warning
/// naming the user; the scan stays `ok` and every other kind is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_ssh_listing_is_a_warning_not_a_failed_scan() {
    let emu = common::emulator(&scenario(json!([
        {"action": "ListSSHPublicKeys", "kind": "deny", "user": "alice"},
        {"action": "ListServiceSpecificCredentials", "kind": "deny"}
    ])));
    let org = common::scan(&emu).await;
    let acct = common::account(&org, "solo");
    assert_eq!(acct.scan.status, ScanStatus::Ok, "{:?}", acct.scan);
    assert!(!acct.scan.partial);
    let warnings = &acct.scan.warnings;
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("SSH public keys of 'alice' not read (access denied on iam:ListSSHPublicKeys")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w
            .starts_with("service-specific credentials not read (access denied on iam:ListServiceSpecificCredentials")),
        "{warnings:?}"
    );
    let kinds = |name| user(acct, name).credentials.iter().map(|c| c.kind).collect::<Vec<_>>();
    assert_eq!(kinds("alice"), [CredentialKind::SigningCertificate]);
    assert_eq!(kinds("carol"), [CredentialKind::SigningCertificate]);
}

/// A user deleted between `ListUsers` and its `ListSSHPublicKeys` is left out with a warning,
/// as for access keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_vanished_while_ssh_keys_are_listed_is_left_out() {
    let emu = common::emulator(&scenario(json!([
        {"action": "ListSSHPublicKeys", "kind": "nosuchentity", "user": "carol"}
    ])));
    let org = common::scan(&emu).await;
    let acct = common::account(&org, "solo");
    assert_eq!(acct.scan.status, ScanStatus::Ok, "{:?}", acct.scan);
    assert_eq!(
        acct.users.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        ["alice", "bob"]
    );
    assert!(
        acct.scan
            .warnings
            .iter()
            .any(|w| w.starts_with("user 'carol' was deleted while it was being read")),
        "{:?}",
        acct.scan.warnings
    );
}

/// [`scenario`] whose credential reports keep the content of their generation, as AWS's
/// reused reports do: a credential created after the first scan is missing from the second
/// scan's report.
fn frozen_report_scenario() -> serde_json::Value {
    let mut s = scenario(json!([]));
    s["report_frozen"] = json!(true);
    s
}

/// A credential report this scan made AWS generate (`GenerateCredentialReport` answered
/// STARTED) lists every key that existed when the scan began: users whose row shows no key
/// need no `ListAccessKeys`. A reused report (answered COMPLETE: the emulator's second scan,
/// its content frozen as of the first) misses a key created since, so every user is listed
/// again and bob's new key is found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_report_spares_list_access_keys_for_users_without_keys_and_a_reused_one_does_not() {
    let emu = common::emulator(&frozen_report_scenario());
    emu.reset_stats().unwrap();
    let first = common::scan(&emu).await;
    let stats = emu.stats().unwrap();
    assert_eq!(calls(&stats, "ListAccessKeys"), 1, "only alice has a key slot: {stats}");
    assert_eq!(user(common::account(&first, "solo"), "alice").access_keys.len(), 1);

    // A key created after the report: only a reused report can miss it.
    let iam = aws_sdk_iam::Client::new(&common::context(&emu).await.base);
    let created = iam
        .create_access_key()
        .user_name("bob")
        .send()
        .await
        .expect("CreateAccessKey");
    let new_id = created.access_key().unwrap().access_key_id().to_owned();
    emu.reset_stats().unwrap();
    let second = common::scan(&emu).await;
    let stats = emu.stats().unwrap();
    assert_eq!(calls(&stats, "GenerateCredentialReport"), 1, "reused at once: {stats}");
    assert_eq!(calls(&stats, "ListAccessKeys"), 3, "every user: {stats}");
    let bob = user(common::account(&second, "solo"), "bob");
    assert_eq!(
        bob.access_keys.iter().map(|k| k.id.0.clone()).collect::<Vec<_>>(),
        [new_id]
    );
}

/// Signing certificates follow the access keys' rule: a report this scan made AWS generate
/// spares `ListSigningCertificates` for users whose row shows none (bob), but a reused one
/// (the emulator's second scan) may miss a certificate uploaded since: every user is listed,
/// and bob's new certificate is found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_report_does_not_spare_list_signing_certificates() {
    let emu = common::emulator(&frozen_report_scenario());
    emu.reset_stats().unwrap();
    let first = common::scan(&emu).await;
    let stats = emu.stats().unwrap();
    assert_eq!(calls(&stats, "GenerateCredentialReport"), 2, "a fresh report: {stats}");
    assert_eq!(
        calls(&stats, "ListSigningCertificates"),
        2,
        "alice and carol, whose rows show a certificate; not bob: {stats}"
    );
    let certs = |org: &keytriage::scan::OrgScan, name: &str| {
        user(common::account(org, "solo"), name)
            .credentials
            .iter()
            .filter(|c| c.kind == CredentialKind::SigningCertificate)
            .map(|c| c.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(certs(&first, "bob"), Vec::<String>::new());

    // A certificate uploaded after the report: only a reused report can miss it. Alice's own
    // body will do (IAM checks only that it is a well-formed X.509 certificate).
    let iam = aws_sdk_iam::Client::new(&common::context(&emu).await.base);
    let listed = iam
        .list_signing_certificates()
        .user_name("alice")
        .send()
        .await
        .expect("ListSigningCertificates");
    let body = listed.certificates()[0].certificate_body().to_owned();
    let uploaded = iam
        .upload_signing_certificate()
        .user_name("bob")
        .certificate_body(body)
        .send()
        .await
        .expect("UploadSigningCertificate");
    let new_id = uploaded.certificate().unwrap().certificate_id().to_owned();
    emu.reset_stats().unwrap();
    let second = common::scan(&emu).await;
    let stats = emu.stats().unwrap();
    assert_eq!(calls(&stats, "GenerateCredentialReport"), 1, "reused at once: {stats}");
    assert_eq!(calls(&stats, "ListSigningCertificates"), 3, "every user: {stats}");
    assert_eq!(certs(&second, "bob"), [new_id]);
}

/// An audit role without `iam:ListSSHPublicKeys` is denied it for every user: one warning
/// naming how many users and which, not one per user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_listing_denied_for_every_user_is_one_warning() {
    let emu = common::emulator(&scenario(json!([{"action": "ListSSHPublicKeys", "kind": "deny"}])));
    let org = common::scan(&emu).await;
    let acct = common::account(&org, "solo");
    assert_eq!(acct.scan.status, ScanStatus::Ok, "{:?}", acct.scan);
    assert_eq!(acct.scan.warnings.len(), 1, "{:?}", acct.scan.warnings);
    assert!(
        acct.scan.warnings[0].starts_with(
            "SSH public keys of 3 users ('alice', 'bob', 'carol') not read (access denied on iam:ListSSHPublicKeys: "
        ),
        "{:?}",
        acct.scan.warnings
    );
    assert!(
        acct.users
            .iter()
            .all(|u| u.credentials.iter().all(|c| c.kind != CredentialKind::SshPublicKey))
    );
}

/// 120 service-specific credentials in one account: `ListServiceSpecificCredentials` pages
/// (100 a page, `Marker`) and every credential reaches its user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_specific_credentials_of_every_user_are_paged() {
    let emu = common::emulator(&json!({"accounts": [{"name": "solo", "management": true,
        "generated_users": [{"count": 60, "prefix": "svc-", "service_credentials": [
            {"service": "codecommit.amazonaws.com", "age_days": 10},
            {"service": "bedrock.amazonaws.com", "age_days": 5, "expires_in_days": 20}]}]}]}));
    emu.reset_stats().unwrap();
    let org = common::scan(&emu).await;
    let acct = common::account(&org, "solo");
    assert_eq!(acct.users.len(), 60);
    for u in &acct.users {
        let services: Vec<_> = u.credentials.iter().map(|c| c.service.as_deref().unwrap()).collect();
        assert_eq!(
            services,
            ["codecommit.amazonaws.com", "bedrock.amazonaws.com"],
            "{}",
            u.name
        );
    }
    let ids: BTreeSet<_> = acct
        .users
        .iter()
        .flat_map(|u| u.credentials.iter().map(|c| c.id.clone()))
        .collect();
    assert_eq!(ids.len(), 120);
    let stats = emu.stats().unwrap();
    assert_eq!(calls(&stats, "ListServiceSpecificCredentials"), 2, "{stats}");
}

/// The root user's signing certificate is known from the report's `<root_account>` row only;
/// an active one is `root-signing-certificate`, an inactive one is shown but not judged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_signing_certificate_comes_from_the_report_row() {
    let emu = common::emulator(&json!({"organization": true, "accounts": [
        {"name": "mgmt", "management": true, "root": {"signing_certificate": {"age_days": 1900}}},
        {"name": "quiet", "root": {"signing_certificate": {"age_days": 40, "status": "Inactive"}}}]}));
    let org = common::scan(&emu).await;
    let now = Utc::now();
    let root_certs = |name| {
        common::account(&org, name)
            .root
            .as_ref()
            .unwrap()
            .signing_certificates
            .iter()
            .map(|c| (c.active, c.uploaded.map(|t| days(t, now))))
            .collect::<Vec<_>>()
    };
    assert_eq!(root_certs("mgmt"), [(true, Some(1900))]);
    assert_eq!(root_certs("quiet"), [(false, Some(40))]);
    let rules = |name| {
        audit::audit_all(
            std::slice::from_ref(common::account(&org, name)),
            &Policy::default(),
            now,
        )
        .into_iter()
        .map(|f| (f.rule, f.detail))
        .collect::<Vec<_>>()
    };
    assert_eq!(
        rules("mgmt"),
        [(
            Rule::RootSigningCertificate,
            "the root user has an active signing certificate (uploaded 1900 days ago); delete it as the root user"
                .to_owned()
        )]
    );
    assert_eq!(rules("quiet"), []);
}
