//! IAM roles against the emulator: the inventory read back equals the scenario (both trust
//! policy encodings, every page of `GetAccountAuthorizationDetails`), the unused rule at its
//! day boundary, AWS-managed roles not judged, outside principals named, a denied listing is
//! one warning, and `--credentials` without `role` costs no call.

mod common;

use chrono::Utc;
use keytriage::audit::{self, Policy, Rule};
use keytriage::aws::credentials::CredentialKinds;
use keytriage::model::{AccountScan, CredentialKind, Role, ScanStatus, Timestamp};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

fn trust(principal: Value, condition: Option<Value>) -> Value {
    let mut st = json!({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"});
    if let Some(c) = condition {
        st["Condition"] = c;
    }
    json!({"Version": "2012-10-17", "Statement": [st]})
}

/// `prod` holds one role of each case; `busy` holds 105 roles (two pages of 100).
fn scenario(faults: Value) -> Value {
    let busy: Vec<Value> = (1..=105)
        .map(|i| json!({"name": format!("worker-{i:03}"), "created_days_ago": 1}))
        .collect();
    json!({"organization": true, "faults": faults, "accounts": [
        {"name": "mgmt", "management": true},
        {"name": "dev"},
        {"name": "busy", "roles": busy},
        {"name": "prod", "roles": [
            {"name": "vendor-audit", "created_days_ago": 10, "last_used": {"days_ago": 1, "region": "eu-west-1"},
             "trust_policy": trust(json!({"AWS": "arn:aws:iam::999999999999:root"}), None)},
            {"name": "partner-readonly", "created_days_ago": 30, "trust_policy_encoding": "json",
             "last_used": {"days_ago": 2},
             "trust_policy": trust(json!({"AWS": "888888888888"}),
                                   Some(json!({"StringEquals": {"sts:ExternalId": "acme-42"}})))},
            {"name": "from-dev", "created_days_ago": 500, "last_used": {"days_ago": 5, "region": "us-west-2"},
             "trust_policy": trust(json!({"AWS": ["arn:aws:iam::{account:dev}:role/deployer", "{account:mgmt}"]}), None)},
            {"name": "old-batch", "created_days_ago": 400, "last_used": {"days_ago": 200, "region": "eu-central-1"}},
            {"name": "day-90", "created_days_ago": 90},
            {"name": "day-91", "created_days_ago": 91},
            {"name": "AWSServiceRoleForElasticLoadBalancing",
             "path": "/aws-service-role/elasticloadbalancing.amazonaws.com/", "created_days_ago": 900,
             "trust_policy": trust(json!({"Service": "elasticloadbalancing.amazonaws.com"}), None)},
            {"name": "AWSReservedSSO_Admin_0123456789abcdef", "path": "/aws-reserved/sso.amazonaws.com/",
             "created_days_ago": 900,
             "trust_policy": trust(json!({"Federated": "arn:aws:iam::{account:prod}:saml-provider/AWSSSO_x_DO_NOT_DELETE"}), None)},
            {"name": "public", "created_days_ago": 3, "last_used": {"days_ago": 0},
             "trust_policy": trust(json!("*"), None)}
        ]}
    ]})
}

/// Days from `from` to `to`, to the nearest whole day (the emulator seeded a moment ago).
fn days(from: Timestamp, to: Timestamp) -> i64 {
    ((to - from).num_seconds() as f64 / 86_400.0).round() as i64
}

fn roles(acct: &AccountScan) -> &[Role] {
    acct.roles
        .as_deref()
        .unwrap_or_else(|| panic!("roles not read: {:?}", acct.scan))
}

fn calls(stats: &Value, action: &str) -> u64 {
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
async fn roles_read_back_as_the_scenario_and_are_judged() {
    let emu = common::emulator(&scenario(json!([])));
    emu.reset_stats().unwrap();
    let org = common::scan(&emu).await;
    let id = |name: &str| common::account(&org, name).account.id.to_string();
    let prod = common::account(&org, "prod");
    assert_eq!(prod.scan.status, ScanStatus::Ok, "{:?}", prod.scan);
    assert!(prod.scan.warnings.is_empty(), "{:?}", prod.scan.warnings);

    // (name, path, age in days, last used (days ago, region)) of each role, sorted by name.
    type Shape = (String, String, i64, Option<(i64, Option<String>)>);
    let now = Utc::now();
    let got: Vec<Shape> = roles(prod)
        .iter()
        .map(|r| {
            (
                r.name.clone(),
                r.path.clone(),
                days(r.created, now),
                r.last_used.as_ref().map(|u| (days(u.date, now), u.region.clone())),
            )
        })
        .collect();
    let s = |x: &str| x.to_owned();
    assert_eq!(
        got,
        vec![
            (
                s("AWSReservedSSO_Admin_0123456789abcdef"),
                s("/aws-reserved/sso.amazonaws.com/"),
                900,
                None
            ),
            (
                s("AWSServiceRoleForElasticLoadBalancing"),
                s("/aws-service-role/elasticloadbalancing.amazonaws.com/"),
                900,
                None
            ),
            // moto records the scan's own AssumeRole as a use (without a region).
            (s("OrganizationAccountAccessRole"), s("/"), 0, Some((0, None))),
            (s("day-90"), s("/"), 90, None),
            (s("day-91"), s("/"), 91, None),
            (s("from-dev"), s("/"), 500, Some((5, Some(s("us-west-2"))))),
            (s("old-batch"), s("/"), 400, Some((200, Some(s("eu-central-1"))))),
            (s("partner-readonly"), s("/"), 30, Some((2, Some(s("us-east-1"))))),
            (s("public"), s("/"), 3, Some((0, Some(s("us-east-1"))))),
            (s("vendor-audit"), s("/"), 10, Some((1, Some(s("eu-west-1"))))),
        ]
    );
    let role = |name: &str| roles(prod).iter().find(|r| r.name == name).unwrap();
    assert_eq!(
        role("vendor-audit").arn,
        format!("arn:aws:iam::{}:role/vendor-audit", id("prod"))
    );
    assert!(role("vendor-audit").id.starts_with("AROA"));
    // Trusted principals: (principal as written, in the organization, external id).
    let trusted = |name: &str| -> Vec<(String, Option<bool>, bool)> {
        role(name)
            .trusted
            .iter()
            .map(|p| (p.principal.clone(), p.in_organization, p.has_external_id()))
            .collect()
    };
    // URL-encoded (the default) and plain JSON (partner-readonly) read alike.
    assert_eq!(
        trusted("vendor-audit"),
        [(s("arn:aws:iam::999999999999:root"), Some(false), false)]
    );
    assert_eq!(trusted("partner-readonly"), [(s("888888888888"), Some(false), true)]);
    assert_eq!(
        trusted("from-dev"),
        [
            (format!("arn:aws:iam::{}:role/deployer", id("dev")), Some(true), false),
            (id("mgmt"), Some(true), false),
        ]
    );
    assert_eq!(trusted("public"), [(s("*"), None, false)]);
    assert_eq!(
        trusted("OrganizationAccountAccessRole"),
        [(s("arn:aws:iam::123456789012:root"), Some(true), false)],
        "moto's role trusts the management account"
    );

    // The rules: unused at its day boundary (90 days: no; 91: yes), never for AWS-managed
    // roles; the outside principals named.
    let findings: BTreeSet<(Rule, String, String)> =
        audit::audit_all(std::slice::from_ref(prod), &Policy::default(), Utc::now())
            .into_iter()
            .filter(|f| f.role().is_some())
            .map(|f| {
                assert_eq!(f.credential.as_ref().map(|c| c.kind), Some(CredentialKind::Role));
                (f.rule, f.user.to_string(), f.detail)
            })
            .collect();
    let want: BTreeSet<(Rule, String, String)> = [
        (
            Rule::RoleUnused,
            "day-91",
            "role never used; created 91 days ago (limit 90)",
        ),
        (
            Rule::RoleUnused,
            "old-batch",
            "role last used 200 days ago in eu-central-1; created 400 days ago (limit 90)",
        ),
        (
            Rule::RoleTrustsOutsideOrg,
            "vendor-audit",
            "trusts 1 account outside the organization without an sts:ExternalId condition: 999999999999",
        ),
        (
            Rule::RoleTrustsThirdParty,
            "partner-readonly",
            "trusts 1 account outside the organization (with an sts:ExternalId condition): 888888888888 (external id)",
        ),
        (
            Rule::RoleTrustsAnyone,
            "public",
            "trusts anyone (\"*\") without a condition: any AWS account can assume it",
        ),
    ]
    .into_iter()
    .map(|(r, n, d)| (r, n.to_owned(), d.to_owned()))
    .collect();
    assert_eq!(findings, want);

    // Every page: 105 roles (and moto's own) in two calls; one call in each other account.
    let busy = common::account(&org, "busy");
    assert_eq!(roles(busy).len(), 106, "105 seeded + OrganizationAccountAccessRole");
    let stats = emu.stats().unwrap();
    assert_eq!(
        calls(&stats, "GetAccountAuthorizationDetails"),
        5,
        "2 for busy, 1 each for mgmt, dev, prod: {stats}"
    );
    assert_eq!(
        common::account(&org, "mgmt").roles.as_deref(),
        Some(&[][..]),
        "no roles, read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_role_listing_is_one_warning_and_the_scan_stays_ok() {
    let emu = common::emulator(&scenario(json!([
        {"account": "prod", "action": "GetAccountAuthorizationDetails", "kind": "deny"}
    ])));
    let org = common::scan(&emu).await;
    let prod = common::account(&org, "prod");
    assert_eq!(prod.scan.status, ScanStatus::Ok, "{:?}", prod.scan);
    assert_eq!(prod.roles, None);
    let about_roles: Vec<&String> = prod.scan.warnings.iter().filter(|w| w.contains("roles")).collect();
    assert_eq!(about_roles.len(), 1, "{:?}", prod.scan.warnings);
    assert!(
        about_roles[0].starts_with("roles not read (access denied on iam:GetAccountAuthorizationDetails: "),
        "{}",
        about_roles[0]
    );
    assert!(common::account(&org, "dev").roles.is_some(), "other accounts are read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_without_role_make_no_call_and_the_document_says_roles_per_account() {
    let emu = common::emulator(&scenario(json!([])));
    emu.reset_stats().unwrap();
    let org = scan_with(&emu, CredentialKinds::parse_list(&["access_key"]).unwrap()).await;
    assert!(org.accounts.iter().all(|a| a.roles.is_none()));
    assert_eq!(calls(&emu.stats().unwrap(), "GetAccountAuthorizationDetails"), 0);

    // With roles: the JSON document has them per account, the CSV names the kind.
    let org = common::scan(&emu).await;
    let now = Utc::now();
    let findings = audit::audit_all(&org.accounts, &Policy::default(), now);
    let policy = Policy::default();
    let doc = keytriage::report::ScanDocument::new(&org, &policy, &findings, now);
    let mut out = Vec::new();
    keytriage::report::write_json(&mut out, &doc).unwrap();
    let v: Value = serde_json::from_slice(&out).unwrap();
    let prod = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "prod")
        .unwrap();
    let vendor = prod["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "vendor-audit")
        .unwrap();
    assert_eq!(vendor["trusted"][0]["account"], "999999999999");
    assert_eq!(vendor["trusted"][0]["in_organization"], false);
    assert_eq!(vendor["last_used"]["region"], "eu-west-1");
    assert_eq!(v["policy"]["unused_role_days"], 90);
    let mut csv = Vec::new();
    keytriage::report::write_csv(&mut csv, &org, &findings).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let line = csv.lines().find(|l| l.contains("role-trusts-outside-org")).unwrap();
    assert!(
        line.contains(",vendor-audit,,") && line.contains(",role,arn:aws:iam::"),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trust_policy_with_a_value_iam_would_not_store_is_a_warning_and_still_judged() {
    // An emulator (or a hand-edited export) stores what IAM would refuse: a number beside
    // "*". The role keeps its "*" (role-trusts-anyone) and the scan warns, naming the role.
    let emu = common::emulator(&json!({"organization": true, "accounts": [
        {"name": "mgmt", "management": true},
        {"name": "prod", "roles": [
            {"name": "odd", "created_days_ago": 3, "last_used": {"days_ago": 0},
             "trust_policy": trust(json!({"AWS": ["*", 5]}), None)}
        ]}
    ]}));
    let org = common::scan(&emu).await;
    let prod = common::account(&org, "prod");
    let odd = roles(prod).iter().find(|r| r.name == "odd").unwrap();
    assert_eq!(
        odd.trusted.iter().map(|p| p.principal.as_str()).collect::<Vec<_>>(),
        ["*"]
    );
    let warned: Vec<&String> = prod.scan.warnings.iter().filter(|w| w.contains("'odd'")).collect();
    assert_eq!(
        warned,
        [
            "role 'odd' trust policy is partly unreadable (statement 1: Principal AWS holds a value that is not a string); judged on the principals read"
        ],
        "{:?}",
        prod.scan.warnings
    );
    let findings = audit::audit_all(std::slice::from_ref(prod), &Policy::default(), Utc::now());
    assert!(
        findings
            .iter()
            .any(|f| f.rule == Rule::RoleTrustsAnyone && f.user == "odd"),
        "{findings:?}"
    );
}
